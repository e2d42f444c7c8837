package dev.moonbatch.job;

import io.delta.tables.DeltaTable;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --table-format delta}: the same nights as a Parquet output give the same rows, CSVs and
 * reviews, while a night merges only what changed into the Delta table (read back by Spark with
 * delta-spark, as users read it), earlier nights stay readable, and a Parquet output converts.
 */
class DeltaTableJobTest {
    /** Columns that differ between two outputs of the same nights: when and where a row was computed. */
    private static final List<String> RUN_SPECIFIC = List.of("run_id", "latency_ms");

    @TempDir
    Path tmp;

    @Test
    void deltaNightsEqualParquetNightsAndMergeOnlyWhatChanged() throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        Path images = TestPaths.root().resolve("sample-data/images");
        Files.copy(images.resolve("synthetic_red_mug_white.jpg"), in.resolve("a.jpg"));
        Files.copy(images.resolve("synthetic_blue_ball_wooden.jpg"), in.resolve("b.jpg"));
        Files.copy(images.resolve("synthetic_orange_box_blue.jpg"), in.resolve("c.jpg"));
        Files.copy(images.resolve("synthetic_green_bottle_white.png"), in.resolve("d.png"));
        Path parquet = tmp.resolve("out-parquet");
        Path delta = tmp.resolve("out-delta");

        night(in, parquet, "parquet");
        night(in, delta, "delta");
        assertTrue(Files.isDirectory(delta.resolve("results.delta/_delta_log")));
        assertFalse(Files.exists(delta.resolve(CaptionJob.PARQUET)));
        assertSameTables(parquet, delta);

        // the morning: a.jpg approved with a fix, in both outputs
        for (Path out : List.of(parquet, delta)) {
            Path reviewed = approve(out, "a.jpg", "a red mug, reviewed");
            CliRun apply = CliRun.of("review", "--output", out.toString(), "--apply", reviewed.toString(), "--master", "local[1]");
            assertEquals(0, apply.exitCode(), apply.err());
        }
        assertSameTables(parquet, delta);
        assertEquals(List.of("MERGE", 1L), lastCommit(delta, "numTargetRowsUpdated"),
                "a review rewrites its own row alone");

        // night 2: c.jpg changed, d.png gone, e.jpg new
        Files.copy(images.resolve("rocket.jpg"), in.resolve("c.jpg"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.delete(in.resolve("d.png"));
        Files.copy(images.resolve("coffee.png"), in.resolve("e.png"));
        night(in, parquet, "parquet");
        night(in, delta, "delta");
        assertSameTables(parquet, delta);
        assertEquals(csv(parquet, "changes.csv"), csv(delta, "changes.csv"));
        assertEquals(csv(parquet, "results.csv"), csv(delta, "results.csv"));
        assertEquals(csv(parquet, "removed.parquet"), csv(delta, "removed.parquet"));
        assertEquals(List.of("MERGE", 1L), lastCommit(delta, "numTargetRowsDeleted"), "d.png's row leaves the table");

        // night 3: only b.jpg changes. The merge writes b.jpg's new row and moves last night's new and
        // changed rows (c.jpg, e.png) to unchanged: three rows, none copied
        Files.copy(images.resolve("synthetic_green_bottle_white.png"), in.resolve("b.jpg"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        night(in, parquet, "parquet");
        night(in, delta, "delta");
        assertSameTables(parquet, delta);
        assertEquals(csv(parquet, "changes.csv"), csv(delta, "changes.csv"));
        assertEquals(List.of("MERGE", 3L), lastCommit(delta, "numTargetRowsUpdated"));
        assertEquals(List.of("MERGE", 0L), lastCommit(delta, "numTargetRowsCopied"));
        assertEquals(List.of("MERGE", 0L), lastCommit(delta, "numTargetRowsInserted"));

        try (SparkSession spark = SparkSessions.create("local[1]")) {
            // every night stays readable: version 0 is night 1, with d.png and the old c.jpg
            Map<String, String> first = texts(spark.read().format("delta").option("versionAsOf", 0)
                    .load(delta.resolve("results.delta").toString()).collectAsList());
            assertEquals(List.of("a.jpg", "b.jpg", "c.jpg", "d.png"), new ArrayList<>(first.keySet()));
            assertEquals(List.of("a.jpg", "b.jpg", "c.jpg", "e.png"),
                    new ArrayList<>(texts(Outputs.rows(delta)).keySet()));
        }

        // a Parquet output asked for delta converts: the same rows, in a Delta table, and no Parquet twin;
        // a.jpg goes too, and its row is appended to the history of removed rows, which is not rewritten
        Files.delete(in.resolve("a.jpg"));
        Map<String, Long> historyBefore = parts(delta.resolve(RunExports.REMOVED));
        night(in, parquet, "delta");
        night(in, delta, "delta");
        Map<String, Long> historyAfter = parts(delta.resolve(RunExports.REMOVED));
        assertEquals(historyBefore.size() + 1, historyAfter.size(), "one more part file: " + historyAfter);
        assertTrue(historyAfter.entrySet().containsAll(historyBefore.entrySet()), "earlier parts untouched");
        assertEquals(csv(parquet, "removed.parquet"), csv(delta, "removed.parquet"));
        assertEquals(2, csv(delta, "removed.parquet").size());
        assertTrue(Files.isDirectory(parquet.resolve("results.delta/_delta_log")));
        assertFalse(Files.exists(parquet.resolve(CaptionJob.PARQUET)));
        assertSameTables(parquet, delta);
    }

    /** A Parquet folder's part files and their modification times. */
    private static Map<String, Long> parts(Path folder) throws Exception {
        Map<String, Long> parts = new TreeMap<>();
        try (var files = Files.list(folder)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("part-")).toList()) {
                parts.put(f.getFileName().toString(), Files.getLastModifiedTime(f).toMillis());
            }
        }
        return parts;
    }

    private static void night(Path in, Path out, String format) {
        CliRun run = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model",
                TestPaths.demoModel().toString(), "--master", "local[2]", "--table-format", format);
        assertEquals(0, run.exitCode(), run.err());
    }

    /** The two outputs' tables, row by row, but for when each row was computed. */
    private static void assertSameTables(Path a, Path b) throws Exception {
        assertEquals(comparable(Outputs.rows(a)), comparable(Outputs.rows(b)));
    }

    private static Map<String, String> comparable(List<Row> rows) {
        Map<String, String> byKey = new TreeMap<>();
        for (Row r : rows) {
            StringBuilder s = new StringBuilder();
            for (String c : OutputTable.SCHEMA.fieldNames()) {
                if (!RUN_SPECIFIC.contains(c)) {
                    s.append(c).append('=').append((Object) r.getAs(c)).append('\n');
                }
            }
            String old = byKey.put(r.getAs("image_path") + "|" + r.getAs("prompt"), s.toString());
            assertEquals(null, old, "one row per image and prompt");
        }
        return byKey;
    }

    private static Map<String, String> texts(List<Row> rows) {
        Map<String, String> texts = new TreeMap<>();
        rows.forEach(r -> texts.put(Path.of(java.net.URI.create(r.getAs("image_path"))).getFileName().toString(),
                r.getAs("text")));
        return texts;
    }

    /** A CSV's records without the run-specific columns (Parquet folders: their rows, the same way). */
    private static List<Map<String, String>> csv(Path out, String name) throws Exception {
        List<Map<String, String>> records = new ArrayList<>();
        if (name.endsWith(".parquet")) {
            try (SparkSession spark = SparkSessions.create("local[1]")) {
                for (Row r : spark.read().parquet(out.resolve(name).toString()).orderBy("image_path").collectAsList()) {
                    Map<String, String> m = new TreeMap<>();
                    for (String c : r.schema().fieldNames()) {
                        if (!RUN_SPECIFIC.contains(c) && !c.equals(OutputTable.REMOVED_RUN_ID)) {
                            m.put(c, String.valueOf((Object) r.getAs(c)));
                        }
                    }
                    records.add(m);
                }
            }
            return records;
        }
        try (CSVParser parser = CSVParser.parse(Files.newBufferedReader(out.resolve(name)),
                CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            for (CSVRecord r : parser) {
                Map<String, String> m = new TreeMap<>(r.toMap());
                RUN_SPECIFIC.forEach(m::remove);
                records.add(m);
            }
        }
        return records;
    }

    /** changes.csv with {@code file}'s row approved as {@code text}: a reviewer's download. */
    private Path approve(Path out, String file, String text) throws Exception {
        Path reviewed = tmp.resolve("reviewed-" + out.getFileName() + ".csv");
        try (CSVParser parser = CSVParser.parse(Files.newBufferedReader(out.resolve("changes.csv")),
                CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get());
             Writer w = Files.newBufferedWriter(reviewed);
             CSVPrinter printer = new CSVPrinter(w, CSVFormat.RFC4180)) {
            printer.printRecord(ReviewedCsv.REQUIRED);
            for (CSVRecord r : parser) {
                if (r.get("image_path").endsWith("/" + file)) {
                    printer.printRecord(r.get("image_path"), r.get("content_sha256"), r.get("prompt"),
                            ReviewStore.EDITED, text);
                }
            }
        }
        return reviewed;
    }

    /** The last commit's operation and one of its metrics. */
    private static List<Object> lastCommit(Path out, String metric) throws Exception {
        try (SparkSession spark = SparkSessions.create("local[1]")) {
            Row last = DeltaTable.forPath(spark, out.resolve("results.delta").toString()).history(1).first();
            Map<String, String> metrics = last.getJavaMap(last.fieldIndex("operationMetrics"));
            return List.of(last.getAs("operation"), Long.parseLong(metrics.get(metric)));
        }
    }
}
