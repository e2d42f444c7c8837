package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A night's cost follows what changed: an image whose path, size and modification time are as
 * before is reused without being opened; a touched but identical file is hashed and reused;
 * copies of one photo get one inference; --verify-content reads everything.
 */
class NightlyReuseTest {
    @TempDir
    Path tmp;

    @Test
    void unchangedFilesAreNotOpenedTouchedOnesAreHashedAndCopiesAreAnsweredOnce() throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        Path images = TestPaths.root().resolve("sample-data/images");
        Files.copy(images.resolve("synthetic_red_mug_white.jpg"), in.resolve("a.jpg"));
        Files.copy(images.resolve("synthetic_blue_ball_wooden.jpg"), in.resolve("b.jpg"));
        for (String copy : List.of("sku1.png", "sku2.png", "sku3.png")) {
            Files.copy(images.resolve("synthetic_green_bottle_white.png"), in.resolve(copy));
        }
        Path out = tmp.resolve("out");
        String[] args = {"--input", in.toString(), "--output", out.toString(), "--model", TestPaths.demoModel().toString(),
                "--master", "local[2]", "--batch-size", "2"};

        CliRun first = CliRun.of(args);
        assertEquals(0, first.exitCode(), first.err());
        JsonNode s1 = Outputs.summary(out);
        assertEquals(5, s1.get("rows").asLong());
        assertEquals(2, s1.get("deduplicated").asLong(), "three identical new files: one inference, two copies");
        Map<String, Row> night1 = byName(Outputs.rows(out));
        String bottle = night1.get("sku1.png").getAs("text");
        assertEquals(bottle, night1.get("sku2.png").getAs("text"));
        assertEquals(bottle, night1.get("sku3.png").getAs("text"));
        assertEquals((Long) Files.size(in.resolve("a.jpg")), night1.get("a.jpg").getAs("file_size"));
        assertEquals((Long) Files.getLastModifiedTime(in.resolve("a.jpg")).toMillis(), night1.get("a.jpg").getAs("modified_ms"));

        // a.jpg: garbage of the same size with the old modification time: not opened, so still its old row
        Path a = in.resolve("a.jpg");
        FileTime aTime = Files.getLastModifiedTime(a);
        byte[] garbage = new byte[(int) Files.size(a)];
        new Random(7).nextBytes(garbage);
        Files.write(a, garbage);
        Files.setLastModifiedTime(a, aTime);
        // b.jpg: same bytes, new modification time: hashed, found equal, reused
        Path b = in.resolve("b.jpg");
        Files.setLastModifiedTime(b, FileTime.fromMillis(Files.getLastModifiedTime(b).toMillis() + 60_000));
        // sku4.png: a known photo under a new name: hashed, reused without the model
        Files.copy(images.resolve("synthetic_green_bottle_white.png"), in.resolve("sku4.png"));
        // three copies of a new photo: one inference, three rows
        Path orange = images.resolve("synthetic_orange_box_blue.jpg");
        for (String copy : List.of("new1.jpg", "new2.jpg", "new3.jpg")) {
            Files.copy(orange, in.resolve(copy));
        }

        // nine rows are over --full-exports-max-rows 5: no results.csv, a page of tonight's rows
        String[] small = java.util.Arrays.copyOf(args, args.length + 2);
        small[args.length] = "--full-exports-max-rows";
        small[args.length + 1] = "5";
        assertTrue(Files.exists(out.resolve("results.csv")));
        CliRun second = CliRun.of(small);
        assertEquals(0, second.exitCode(), second.err());
        assertTrue(Files.notExists(out.resolve("results.csv")), "the stale full CSV is gone");
        assertTrue(Outputs.summary(out).get("csv").isNull());
        JsonNode page = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                Files.readString(out.resolve("review/rows.js")).replaceFirst("^window\\.MOONBATCH_REVIEW = ", ""));
        assertEquals("tonight", page.get("scope").asText());
        assertEquals(9, page.get("table_rows").asLong());
        List<String> onPage = new java.util.ArrayList<>();
        int pathColumn = -1;
        for (int c = 0; c < page.get("columns").size(); c++) {
            if (page.get("columns").get(c).asText().equals("image_path")) {
                pathColumn = c;
            }
        }
        for (JsonNode row : page.get("rows")) {
            String p = row.get(pathColumn).asText();
            onPage.add(p.substring(p.lastIndexOf('/') + 1));
        }
        java.util.Collections.sort(onPage);
        assertEquals(List.of("new1.jpg", "new2.jpg", "new3.jpg", "sku4.png"), onPage, "tonight's new rows only");
        assertTrue(Files.readString(out.resolve("changes.csv")).contains("sku4.png"));
        JsonNode s2 = Outputs.summary(out);
        assertEquals(9, s2.get("rows").asLong());
        assertEquals(3, s2.get("computed").asLong(), "only the new photo's rows: " + s2);
        assertEquals(2, s2.get("deduplicated").asLong(), "three copies of a new photo: one inference: " + s2);
        assertEquals(6, s2.get("reused").asLong());
        // the touched file and the known photo are hashed once; the new photo's copies are hashed, then
        // read again to be decoded for the model
        assertEquals(Files.size(b) + Files.size(in.resolve("sku4.png")) + 6 * Files.size(orange),
                s2.get("imageBytesRead").asLong(), "the unchanged files were not read: " + s2);
        Map<String, Row> night2 = byName(Outputs.rows(out));
        assertNull(night2.get("a.jpg").getAs("error"), "the rewritten file was not opened");
        assertEquals((String) night1.get("a.jpg").getAs("text"), night2.get("a.jpg").getAs("text"));
        assertEquals("unchanged", night2.get("a.jpg").getAs("change"));
        assertEquals("unchanged", night2.get("b.jpg").getAs("change"));
        assertEquals((Long) Files.getLastModifiedTime(b).toMillis(), night2.get("b.jpg").getAs("modified_ms"),
                "the reused row takes the new modification time, so the next night does not hash it again");
        assertEquals(bottle, night2.get("sku4.png").getAs("text"));
        assertEquals((String) night1.get("sku1.png").getAs("run_id"), night2.get("sku4.png").getAs("run_id"),
                "the known photo's answer is the earlier run's");
        assertEquals("new", night2.get("sku4.png").getAs("change"));
        String box = night2.get("new1.jpg").getAs("text");
        assertEquals(box, night2.get("new2.jpg").getAs("text"));
        assertEquals(box, night2.get("new3.jpg").getAs("text"));

        // --verify-content reads a.jpg and finds what it really holds now
        String[] verify = java.util.Arrays.copyOf(args, args.length + 1);
        verify[args.length] = "--verify-content";
        CliRun third = CliRun.of(verify);
        assertEquals(0, third.exitCode(), third.err());
        Map<String, Row> night3 = byName(Outputs.rows(out));
        assertTrue(night3.get("a.jpg").getAs("error") != null, "the same-size same-mtime rewrite is caught");
        assertNotEquals((String) night1.get("a.jpg").getAs("content_sha256"), night3.get("a.jpg").getAs("content_sha256"));
        assertEquals("changed", night3.get("a.jpg").getAs("change"));
        assertEquals(1, Outputs.summary(out).get("computed").asLong(), "only the rewritten file is computed");
    }

    @Test
    void anotherPromptsRowsStayWhileTheirImageIsListedAndMoveToRemovedWhenItIsGone() throws Exception {
        Path in = Outputs.twoPhotos(tmp.resolve("in"));
        Path out = tmp.resolve("out");
        String model = TestPaths.root().resolve("sample-data/models/moondream2-tiny").toString();
        String[] colour = {"--input", in.toString(), "--output", out.toString(), "--model", model, "--master", "local[2]",
                "--task", "query", "--prompt", "What colour is the object?", "--max-new-tokens", "4"};
        assertEquals(0, CliRun.of(colour).exitCode());
        String[] shape = colour.clone();
        shape[11] = "What shape is the object?";
        assertEquals(0, CliRun.of(shape).exitCode());
        assertEquals(4, Outputs.rows(out).size(), "two prompts, two images");

        // b.jpg is gone: tonight's prompt finds its own row gone by the reuse join, the other prompt's row by the listing
        Files.delete(in.resolve("b.jpg"));
        CliRun third = CliRun.of(shape);
        assertEquals(0, third.exitCode(), third.err());
        List<Row> rows = Outputs.rows(out);
        assertEquals(2, rows.size(), rows.toString());
        assertTrue(rows.stream().allMatch(r -> r.<String>getAs("image_path").endsWith("/a.jpg")), rows.toString());
        assertEquals(2, Outputs.summary(out).get("removed").asLong());
        try (var spark = SparkSessions.create("local[1]")) {
            List<Row> removed = spark.read().parquet(out.resolve(RunExports.REMOVED).toString()).collectAsList();
            assertEquals(2, removed.size());
            assertTrue(removed.stream().allMatch(r -> r.<String>getAs("image_path").endsWith("/b.jpg")
                    && "removed".equals(r.getAs("change")) && r.getAs("text") != null), removed.toString());
        }
    }

    private static Map<String, Row> byName(List<Row> rows) {
        Map<String, Row> byName = new HashMap<>();
        for (Row r : rows) {
            String p = r.getAs("image_path");
            byName.put(p.substring(p.lastIndexOf('/') + 1), r);
        }
        return byName;
    }
}
