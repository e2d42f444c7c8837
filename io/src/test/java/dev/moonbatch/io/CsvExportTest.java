package dev.moonbatch.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvExportTest {
    private static List<List<String>> readBack(Path file) throws Exception {
        List<List<String>> rows = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                CSVParser parser = CSVParser.parse(r, CSVFormat.RFC4180)) {
            for (CSVRecord rec : parser) {
                rows.add(rec.toList());
            }
        }
        return rows;
    }

    private static List<String> dirListing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void roundTripWithQuotingFormulasAndUnicode(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("captions.csv");
        List<String> header = List.of("path", "caption", "error");
        List<List<String>> rows = List.of(
                Arrays.asList("file:/img/a, b.jpg", "a \"quoted\" cat,\non two lines", null),
                Arrays.asList("file:/img/=1+1.png", "=1+1", "+cmd|' /C calc'!A0"),
                Arrays.asList("file:/img/日本 é.png", "-2+3", "@SUM(A1)"),
                Arrays.asList("x", "\tTAB", "\rCR"),
                Arrays.asList("a=b", "plain", ""));
        CsvExport.write(target, header, rows);

        List<List<String>> back = readBack(target);
        assertEquals(header, back.get(0));
        assertEquals(List.of("file:/img/a, b.jpg", "a \"quoted\" cat,\non two lines", ""), back.get(1));
        assertEquals(List.of("file:/img/=1+1.png", "'=1+1", "'+cmd|' /C calc'!A0"), back.get(2));
        assertEquals(List.of("file:/img/日本 é.png", "'-2+3", "'@SUM(A1)"), back.get(3));
        assertEquals(List.of("x", "'\tTAB", "'\rCR"), back.get(4));
        assertEquals(List.of("a=b", "plain", ""), back.get(5));
        assertEquals(6, back.size());

        byte[] raw = Files.readAllBytes(target);
        assertTrue(raw[0] == 'p', "no BOM");
        String text = new String(raw, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("path,caption,error\r\n"), text);
        assertTrue(text.contains("\"a \"\"quoted\"\" cat,\non two lines\""), text);
        assertEquals(List.of("captions.csv"), dirListing(dir), "no temporary file left");
    }

    @Test
    void replacesAnExistingFileAtomically(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("out.csv");
        Files.writeString(target, "old");
        CsvExport.write(target, List.of("a"), List.of(List.of("1")));
        assertEquals(List.of(List.of("a"), List.of("1")), readBack(target));
        assertEquals(List.of("out.csv"), dirListing(dir));
    }

    @Test
    void aFailedWriteKeepsTheOldFileAndLeavesNoTemporary(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("out.csv");
        Files.writeString(target, "old");
        assertThrows(IllegalArgumentException.class,
                () -> CsvExport.write(target, List.of("a", "b"), List.of(List.of("1", "2"), List.of("only one"))));
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("out.csv"), dirListing(dir));
    }

    @Test
    void createsMissingFoldersAndWritesHeaderOnlyForNoRows(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("x/y/empty.csv");
        CsvExport.write(target, List.of("path", "caption"), List.of());
        assertEquals("path,caption\r\n", Files.readString(target));
    }

    @Test
    void neutraliseLeavesOrdinaryCellsAlone() {
        assertEquals("cat", CsvExport.neutralise("cat"));
        assertEquals("", CsvExport.neutralise(""));
        assertEquals(null, CsvExport.neutralise(null));
        assertEquals("'=HYPERLINK(\"x\")", CsvExport.neutralise("=HYPERLINK(\"x\")"));
        assertEquals(" =1", CsvExport.neutralise(" =1"));
    }
}
