package dev.moonbatch.job;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code --questions} CSV as spreadsheets write it: byte-order mark, CRLF, quoted commas. */
class QuestionsTest {
    @TempDir
    Path dir;

    private Map<String, List<String>> read(String csv) throws Exception {
        Path file = dir.resolve("questions.csv");
        Files.write(file, csv.getBytes(StandardCharsets.UTF_8));
        return Questions.read(file.toString(), dir.resolve("images").toString(), new Configuration());
    }

    @Test
    void spreadsheetCsvWithByteOrderMarkQuotesAndSeveralQuestionsPerImage() throws Exception {
        Path absolute = dir.resolve("elsewhere/b.png");
        Map<String, List<String>> q = read("\uFEFFimage_path,question\r\n"
                + "a.jpg,What colour is the object?\r\n"
                + "a.jpg,\"What shape is it, roughly?\"\r\n"
                + "sub/c d.png,  How many objects?  \r\n"
                + absolute + ",Is it red?\r\n");
        String a = "file:" + dir.resolve("images/a.jpg");
        assertEquals(List.of(a, "file:" + dir.resolve("images/sub/c d.png"), "file:" + absolute), List.copyOf(q.keySet()));
        assertEquals(List.of("What colour is the object?", "What shape is it, roughly?"), q.get(a));
        assertEquals(List.of("How many objects?"), q.get("file:" + dir.resolve("images/sub/c d.png")));
    }

    @Test
    void aWrongHeaderOrAnEmptyFieldNamesTheFileAndTheLine() {
        var header = assertThrows(IllegalArgumentException.class, () -> read("path,q\na.jpg,Why?\n"));
        assertTrue(header.getMessage().startsWith("--questions: ") && header.getMessage().contains("image_path,question"),
                header.getMessage());
        var empty = assertThrows(IllegalArgumentException.class, () -> read("image_path,question\na.jpg,Why?\nb.jpg,\n"));
        assertTrue(empty.getMessage().contains("line 2"), empty.getMessage());
    }
}
