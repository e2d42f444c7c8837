package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark job with a decoder-only bundle over the held-out VQA set: captions, then three
 * questions per image from a --questions file into the same output. One row per (image, question)
 * plus the caption rows, each image vision-encoded once for its three questions, and at least 95%
 * of captions and answers exactly right.
 */
class VlmQuestionsJobTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"smolvlm-tiny", "moondream2-tiny", "blip2-tiny"})
    void answersHeldOutQuestionsOneRowEachEncodingEachImageOnce(String bundle) throws Exception {
        Path heldout = TestPaths.root().resolve("sample-data/heldout-vqa");
        Map<String, String> truth = new HashMap<>();
        List<String[]> questions = new ArrayList<>();
        try (CSVParser p = CSVParser.parse(Files.newBufferedReader(heldout.resolve("questions.csv")),
                CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get())) {
            for (CSVRecord r : p) {
                String file = r.get("image_path").substring("images/".length());
                truth.put(file + "\u0000" + r.get("question"), r.get("answer"));
                if (!r.get("question").isEmpty()) {
                    questions.add(new String[] {file, r.get("question")});
                }
            }
        }
        Path questionsFile = tmp.resolve("questions.csv");
        StringBuilder csv = new StringBuilder("image_path,question\n");
        questions.forEach(q -> csv.append(q[0]).append(',').append(q[1]).append('\n'));
        Files.writeString(questionsFile, csv);
        Path model = TestPaths.root().resolve("sample-data/models/" + bundle);
        Path out = tmp.resolve("out");
        String input = heldout.resolve("images").toString();

        CliRun captions = CliRun.of("--input", input, "--output", out.toString(), "--model", model.toString(),
                "--master", "local[2]");
        assertEquals(0, captions.exitCode(), captions.err());
        JsonNode captionSummary = Outputs.summary(out);
        long encodedBefore = ExecutorModels.imagesEncoded();
        CliRun asked = CliRun.of("--input", input, "--output", out.toString(), "--model", model.toString(),
                "--master", "local[2]", "--task", "query", "--questions", questionsFile.toString());
        assertEquals(0, asked.exitCode(), asked.err());
        JsonNode querySummary = Outputs.summary(out);
        long encodings = ExecutorModels.imagesEncoded() - encodedBefore;
        JsonNode pace = querySummary.path("pace");
        double total = querySummary.path("stageSeconds").path("total").asDouble();
        assertTrue(pace.path("firstRowSeconds").asDouble() > 0, "pace: " + pace);
        assertTrue(pace.path("firstRowSeconds").asDouble() + pace.path("afterLastRowSeconds").asDouble() <= total + 0.05,
                "the fixed costs are within the run's " + total + " s: " + pace);
        assertTrue(pace.path("steadyRowsPerSecond").asDouble() > 0, "many batches, so a steady rate: " + pace);

        List<Row> rows = Outputs.rows(out);
        long images = questions.stream().map(q -> q[0]).distinct().count();
        assertEquals(images + questions.size(), rows.size(), "a caption row per image plus a row per question");
        assertEquals(images, encodings, "each image vision-encoded once for its " + questions.size() / images + " questions");
        int right = 0;
        for (Row r : rows) {
            String path = r.getAs("image_path");
            String file = path.substring(path.lastIndexOf('/') + 1);
            String question = "query".equals(r.getAs("task")) ? r.getAs("prompt") : "";
            String expected = truth.get(file + "\u0000" + question);
            if (expected != null && expected.equals(r.getAs("text"))) {
                right++;
            } else {
                System.out.println(bundle + " wrong: " + file + " '" + question + "' expected '" + expected + "' got '"
                        + r.getAs("text") + "' " + r.getAs("error"));
            }
        }
        double accuracy = (double) right / rows.size();
        System.out.printf("%s job held-out: %d/%d = %.3f (%d images, %d questions, %d encodings for the questions; "
                        + "captions %s images/s, questions %s images/s)%n", bundle, right, rows.size(), accuracy, images,
                questions.size(), encodings, captionSummary.path("imagesPerSecond"), querySummary.path("imagesPerSecond"));
        assertTrue(rows.stream().allMatch(r -> r.getAs("error") == null), "no error rows");
        assertTrue(accuracy >= 0.95, bundle + ": " + right + "/" + rows.size() + " held-out captions and answers right");
    }
}
