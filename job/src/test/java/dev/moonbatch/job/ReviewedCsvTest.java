package dev.moonbatch.job;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** reviewed.csv as the page and as spreadsheets write it, and the files that must be refused whole. */
class ReviewedCsvTest {
    @TempDir
    Path tmp;

    private Path file(String name, byte[] bytes) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsThePagesFileWithBomQuotesAndNewlines() throws Exception {
        String csv = "\uFEFFimage_path,content_sha256,prompt,review_status,reviewed_text\r\n"
                + "\"file:/p/a\"\"<b>&'x.png\",abc,,Approved ,\r\n"
                + "file:/p/b.jpg,def,\"What, colour?\",edited,\"two\r\nlines, \"\"quoted\"\"\"\r\n";
        List<ReviewedCsv.Entry> entries = ReviewedCsv.read(file("reviewed.csv", csv.getBytes(StandardCharsets.UTF_8)));
        assertEquals(2, entries.size());
        assertEquals("file:/p/a\"<b>&'x.png", entries.get(0).imagePath());
        assertEquals("approved", entries.get(0).status(), "status is trimmed and lower-cased");
        assertEquals("What, colour?", entries.get(1).prompt());
        assertEquals("two\r\nlines, \"quoted\"", entries.get(1).reviewedText());
    }

    @Test
    void columnsAreFoundByNameAndSpreadsheetSafetyQuotesAreRemoved() throws Exception {
        String csv = "text,review_status,image_path,confidence,prompt,content_sha256,reviewed_text\n"
                + "a mug,edited,'=file:/p/c.png,0.4,,s1,'-20% off\n"
                + "a cup,,file:/p/d.png,0.9,,s2,\n";
        List<ReviewedCsv.Entry> entries = ReviewedCsv.read(file("sheet.csv", csv.getBytes(StandardCharsets.UTF_8)));
        assertEquals("=file:/p/c.png", entries.get(0).imagePath());
        assertEquals("-20% off", entries.get(0).reviewedText());
        assertEquals("", entries.get(1).status(), "an undecided row has an empty status");
    }

    @Test
    void malformedFilesAreRefusedWithOneMessageNamingTheProblem() throws Exception {
        var missing = assertThrows(IllegalArgumentException.class, () -> ReviewedCsv.read(file("m.csv",
                "image_path,content_sha256,prompt,review_status\nx,y,,approved\n".getBytes(StandardCharsets.UTF_8))));
        assertTrue(missing.getMessage().contains("no column 'reviewed_text'"), missing.getMessage());
        var latin1 = assertThrows(IllegalArgumentException.class, () -> ReviewedCsv.read(file("l.csv",
                "image_path,content_sha256,prompt,review_status,reviewed_text\nx,y,,edited,caf\u00e9\n"
                        .getBytes(StandardCharsets.ISO_8859_1))));
        assertTrue(latin1.getMessage().contains("not UTF-8"), latin1.getMessage());
        var unclosed = assertThrows(IllegalArgumentException.class, () -> ReviewedCsv.read(file("u.csv",
                "image_path,content_sha256,prompt,review_status,reviewed_text\n\"x,y,,approved,\n"
                        .getBytes(StandardCharsets.UTF_8))));
        assertTrue(unclosed.getMessage().contains("not valid CSV"), unclosed.getMessage());
        var empty = assertThrows(IllegalArgumentException.class, () -> ReviewedCsv.read(file("e.csv", new byte[0])));
        assertTrue(empty.getMessage().contains("is empty"), empty.getMessage());
    }
}
