package dev.moonbatch.job;

import dev.moonbatch.io.OddImageCorpus;
import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole job over a folder of odd and broken files: one row per file, a caption for each valid
 * image, a clear error for each broken one, exit 0; the CSV parses back to the same rows.
 */
class OddCorpusJobTest {
    @TempDir
    Path tmp;

    @Test
    void everyFileGetsExactlyOneRow() throws Exception {
        Path input = tmp.resolve("in put, odd");
        Map<String, OddImageCorpus.Expectation> corpus = OddImageCorpus.writeTo(input);
        Path out = tmp.resolve("out");

        CliRun run = CliRun.of("--input", input.toString(), "--output", out.toString(),
                "--model", TestPaths.demoModel().toString(), "--master", "local[2]", "--batch-size", "4");
        assertEquals(0, run.exitCode(), run.err());

        List<Row> rows;
        try (SparkSession spark = SparkSessions.create("local[1]")) {
            rows = spark.read().parquet(out.resolve("results.parquet").toString()).collectAsList();
        }
        String prefix = "file:" + input + "/";
        Map<String, Row> byName = new HashMap<>();
        for (Row r : rows) {
            String path = r.getAs("image_path");
            assertTrue(path.startsWith(prefix), path);
            assertNull(byName.put(path.substring(prefix.length()), r), "duplicate row for " + path);
        }
        assertEquals(new TreeSet<>(corpus.keySet()), new TreeSet<>(byName.keySet()), "one row per image file, no more");

        int captioned = 0;
        for (var e : corpus.entrySet()) {
            Row r = byName.get(e.getKey());
            String error = r.getAs("error");
            String text = r.getAs("text");
            if (e.getValue().decodes()) {
                assertNull(error, e.getKey());
                assertTrue(text != null && !text.isBlank(), e.getKey() + " has a caption");
                assertEquals(e.getValue().width(), (int) r.<Integer>getAs("width"), e.getKey());
                assertEquals(e.getValue().height(), (int) r.<Integer>getAs("height"), e.getKey());
                assertEquals(64, r.<String>getAs("content_sha256").length(), e.getKey());
                captioned++;
            } else {
                assertTrue(error != null && error.startsWith(e.getValue().error().name() + ": "),
                        e.getKey() + " error: " + error);
                assertNull(text, e.getKey());
            }
        }
        assertTrue(captioned > 20, "captioned " + captioned);

        List<CSVRecord> csv = CliRun.csv(out);
        assertEquals(rows.size(), csv.size());
        Set<String> csvPaths = new TreeSet<>();
        csv.forEach(rec -> csvPaths.add(rec.get("image_path")));
        Set<String> parquetPaths = new TreeSet<>();
        rows.forEach(r -> parquetPaths.add(r.getAs("image_path")));
        assertEquals(parquetPaths, csvPaths, "the CSV holds the same images, names intact");
        assertFalse(run.out().isBlank(), "prints a summary");
        System.out.println(run.out());
    }
}
