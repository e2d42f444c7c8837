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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark job with the Florence-2 test bundle over its held-out set: the three caption modes
 * ({@code <CAPTION>}, {@code <DETAILED_CAPTION>}, {@code <MORE_DETAILED_CAPTION>}) on the product photos and
 * {@code --task ocr} on the word images, with the bundle's own generation config (3 beams,
 * no_repeat_ngram_size 3, forced BOS/EOS); ≥ 95% of all answers exactly right.
 */
class Florence2HeldoutAccuracyTest {
    @TempDir
    Path out;

    /** One job run: its task/mode, the folder it reads, and the held-out task token its rows answer. */
    private record RunSpec(String[] taskArgs, String folder, String taskToken) {
    }

    @Test
    void answersHeldOutCaptionsAndOcr() throws Exception {
        Path heldout = TestPaths.root().resolve("sample-data/heldout-florence2");
        Map<String, String> truth = new HashMap<>();
        try (CSVParser p = CSVParser.parse(Files.newBufferedReader(heldout.resolve("answers.csv")),
                CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            for (CSVRecord r : p) {
                String file = r.get("image_path").substring(r.get("image_path").lastIndexOf('/') + 1);
                truth.put(r.get("task") + " " + file, r.get("answer"));
            }
        }
        assertTrue(truth.size() >= 100, "held-out set has " + truth.size() + " answers");
        List<RunSpec> runs = List.of(
                new RunSpec(new String[] {"--task", "caption", "--mode", "short"}, "caption", "<CAPTION>"),
                new RunSpec(new String[] {"--task", "caption", "--mode", "normal"}, "caption", "<DETAILED_CAPTION>"),
                new RunSpec(new String[] {"--task", "caption", "--mode", "detailed"}, "caption", "<MORE_DETAILED_CAPTION>"),
                new RunSpec(new String[] {"--task", "ocr"}, "ocr", "<OCR>"));
        int right = 0;
        int total = 0;
        List<String> wrong = new ArrayList<>();
        for (RunSpec spec : runs) {
            Path output = out.resolve(spec.taskToken().replaceAll("[<>]", ""));
            List<String> args = new ArrayList<>(List.of("--input", heldout.resolve("images").resolve(spec.folder()).toString(),
                    "--output", output.toString(), "--model", TestPaths.root().resolve("sample-data/models/florence2-tiny").toString(),
                    "--master", "local[2]", "--batch-size", "8"));
            args.addAll(List.of(spec.taskArgs()));
            CliRun run = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, run.exitCode(), run.err());
            List<Row> rows;
            try (SparkSession spark = SparkSessions.create("local[1]")) {
                rows = spark.read().parquet(output.resolve("results.parquet").toString()).collectAsList();
            }
            long expected = truth.keySet().stream().filter(k -> k.startsWith(spec.taskToken() + " ")).count();
            assertEquals(expected, rows.size(), spec.taskToken() + ": one row per image");
            for (Row r : rows) {
                String path = r.getAs("image_path");
                String file = path.substring(path.lastIndexOf('/') + 1);
                assertTrue(r.isNullAt(r.fieldIndex("error")), file + ": " + r.getAs("error"));
                assertEquals(spec.taskArgs()[1], r.getAs("task"));
                assertEquals(spec.taskToken(), r.getAs("prompt"));
                String want = truth.get(spec.taskToken() + " " + file);
                total++;
                if (want.equals(r.getAs("text"))) {
                    right++;
                } else {
                    wrong.add(spec.taskToken() + " " + file + ": expected '" + want + "' got '" + r.getAs("text") + "'");
                }
            }
        }
        wrong.forEach(w -> System.out.println("wrong: " + w));
        double accuracy = (double) right / total;
        System.out.printf("florence2-tiny held-out accuracy (job): %d/%d = %.3f%n", right, total, accuracy);
        assertEquals(truth.size(), total, "every held-out answer was produced");
        assertTrue(accuracy >= 0.95, "accuracy " + accuracy);
    }
}
