package dev.moonbatch.job;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Spark job over the held-out synthetic set captions ≥ 95% of images exactly right. */
class HeldoutAccuracyTest {
    @TempDir
    Path out;

    @Test
    void captionsHeldOutImages() throws Exception {
        Map<String, String> truth = new HashMap<>();
        try (CSVParser p = CSVParser.parse(Files.newBufferedReader(TestPaths.heldout().resolve("captions.csv")),
                CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            for (CSVRecord r : p) {
                truth.put(r.get("file"), r.get("caption"));
            }
        }
        assertTrue(truth.size() >= 50, "held-out set has " + truth.size() + " images");

        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output", out.toString(),
                "--model", TestPaths.demoModel().toString(), "--master", "local[2]", "--batch-size", "8");
        assertEquals(0, run.exitCode(), run.err());

        List<Row> rows;
        try (SparkSession spark = SparkSessions.create("local[1]")) {
            rows = spark.read().parquet(out.resolve("results.parquet").toString()).collectAsList();
        }
        assertEquals(truth.size(), rows.size(), "one row per image");
        int right = 0;
        for (Row r : rows) {
            String path = r.getAs("image_path");
            String file = path.substring(path.lastIndexOf('/') + 1);
            assertTrue(r.isNullAt(r.fieldIndex("error")), file + ": " + r.getAs("error"));
            if (truth.get(file).equals(r.getAs("text"))) {
                right++;
            } else {
                System.out.println("wrong: " + file + " expected '" + truth.get(file) + "' got '" + r.getAs("text") + "'");
            }
        }
        double accuracy = (double) right / rows.size();
        System.out.printf("held-out accuracy: %d/%d = %.3f%n", right, rows.size(), accuracy);
        assertTrue(accuracy >= 0.95, "accuracy " + accuracy);
        assertEquals(rows.size(), CliRun.csv(out).size(), "the CSV has every row too");
    }
}
