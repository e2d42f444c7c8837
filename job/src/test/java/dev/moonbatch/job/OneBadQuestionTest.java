package dev.moonbatch.job;

import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A question the model cannot run (longer than blip2-tiny's 256 positions) gets its error row; the
 * other questions about the same image keep their answers.
 */
class OneBadQuestionTest {
    @TempDir
    Path tmp;

    @Test
    void theOtherQuestionsOfTheImageAreStillAnswered() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.copy(TestPaths.root().resolve("sample-data/heldout-vqa/images/vqa_000.png"), in.resolve("vqa_000.png"));
        String tooLong = "What colour is it? " + "very ".repeat(3000);
        Path questions = tmp.resolve("questions.csv");
        Files.writeString(questions, "image_path,question\nvqa_000.png,What colour is the object?\nvqa_000.png," + tooLong
                + "\nvqa_000.png,What shape is the object?\n");
        Path out = tmp.resolve("out");
        CliRun run = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model",
                TestPaths.root().resolve("sample-data/models/blip2-tiny").toString(), "--master", "local[1]",
                "--task", "query", "--questions", questions.toString());
        assertEquals(0, run.exitCode(), run.err());
        List<Row> rows = Outputs.rows(out);
        assertEquals(3, rows.size());
        for (Row r : rows) {
            String prompt = r.getAs("prompt");
            if (prompt.length() > 100) {
                assertTrue(r.<String>getAs("error").startsWith("INFERENCE_FAILED: "), r.toString());
            } else {
                assertNull(r.getAs("error"), r.toString());
                assertTrue(!r.<String>getAs("text").isBlank(), r.toString());
            }
        }
    }
}
