package dev.moonbatch.job;

import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --task ocr} with the real PP-OCRv4 weights through the job: text = the lines joined by
 * newlines, each line in {@code regions} with its text, confidence and 4 corners in the image's
 * pixels (Parquet read back, CSV parsed back, the review page's rows.js), a corrupt file an error
 * row; PP-OCR refuses to caption (exit 2 naming --task).
 */
class PpOcrJobTest {
    @TempDir
    Path dir;

    @Test
    void ocrRowsCarryTheirLines() throws Exception {
        Path model = TestPaths.ppocrModel();
        Path input = dir.resolve("in");
        Files.createDirectories(input);
        for (String f : List.of("price_tag.png", "mono_receipt.png")) {
            Files.copy(TestPaths.root().resolve("sample-data/ocr/images").resolve(f), input.resolve(f));
        }
        Files.write(input.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Path out = dir.resolve("out");
        CliRun run = CliRun.of("--input", input.toString(), "--output", out.toString(), "--model", model.toString(),
                "--task", "ocr", "--master", "local[1]");
        assertEquals(0, run.exitCode(), run.err());

        List<Row> rows = Outputs.rows(out);
        assertEquals(3, rows.size());
        for (Row r : rows) {
            String path = r.getAs("image_path");
            if (path.endsWith("broken.png")) {
                assertNotNull(r.getAs("error"), path);
                continue;
            }
            assertEquals("ocr", r.getAs("task"));
            String text = r.getAs("text");
            List<Row> lines = r.getList(r.fieldIndex(ResultRow.REGIONS));
            assertEquals(text, String.join("\n", lines.stream().map(l -> l.<String>getAs("label")).toList()));
            int w = r.getAs("width");
            int h = r.getAs("height");
            for (Row l : lines) {
                double c = l.getAs("confidence");
                assertTrue(c >= 0.5 && c <= 1, path + ": confidence " + c);
                List<Float> box = l.getList(l.fieldIndex("box"));
                assertEquals(8, box.size());
                for (int k = 0; k < 8; k += 2) {
                    assertTrue(box.get(k) >= 0 && box.get(k) <= w && box.get(k + 1) >= 0 && box.get(k + 1) <= h, path + " " + box);
                }
            }
            if (path.endsWith("price_tag.png")) {
                assertEquals("Price: $3.49\nSave 20%", text);
            } else {
                assertEquals(3, lines.size(), text);
            }
        }
        for (CSVRecord r : CliRun.csv(out)) {
            if (!r.get("image_path").endsWith("broken.png")) {
                assertTrue(r.get(ResultRow.REGIONS).startsWith("[{\"label\":"), r.get(ResultRow.REGIONS));
                assertTrue(r.get(ResultRow.REGIONS).contains("\"confidence\":"), r.get(ResultRow.REGIONS));
            }
        }
        String page = Files.readString(out.resolve("review/rows.js"));
        assertTrue(page.contains("\"regions\""), "rows.js names the regions column");
        assertTrue(page.contains("{\"label\":\"Save 20%\""), "rows.js has the lines as JSON");

        // in headless Chromium: each row's lines drawn as polygons inside its thumbnail
        com.fasterxml.jackson.databind.JsonNode seen = BrowserCheck.run(out.resolve("review/index.html"));
        java.util.Map<String, Integer> lineCounts = new java.util.HashMap<>();
        rows.forEach(r -> lineCounts.put(r.getAs("image_path"), r.getAs("error") != null ? 0
                : r.getList(r.fieldIndex(ResultRow.REGIONS)).size()));
        int drawn = 0;
        for (com.fasterxml.jackson.databind.JsonNode row : seen.path("regions")) {
            String path = row.path("path").asText();
            assertEquals(lineCounts.get(path), row.path("drawn").asInt(), path + ": polygons on the page");
            assertTrue(row.path("inside").asBoolean(), path + ": every polygon inside the thumbnail");
            drawn += row.path("drawn").asInt();
        }
        assertEquals(3, seen.path("regions").size(), "every row rendered: " + seen.path("regions"));
        assertTrue(drawn >= 5, "the two text images' lines are drawn: " + seen.path("regions"));
    }

    @Test
    void ppocrOnlyReadsText() throws Exception {
        Path model = TestPaths.ppocrModel();
        CliRun run = CliRun.of("--input", TestPaths.root().resolve("sample-data/ocr/images").toString(), "--output",
                dir.resolve("out").toString(), "--model", model.toString(), "--master", "local[1]");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--task caption: ppocr only does --task ocr"), run.err());
        assertFalse(Files.exists(dir.resolve("out/results.parquet")));
    }
}
