package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moonbatch.runtime.Fp16Bundles;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --precision} end to end: float16 variants give text rows, a per-file choice is what the
 * rows record, bad values stop before Spark, and a run whose every inference fails exits 3 with
 * its summary written (a run with only some failures still exits 0).
 */
class PrecisionJobTest {
    @TempDir
    Path tmp;

    private Path images(int n) throws Exception {
        Path dir = tmp.resolve("in");
        Files.createDirectories(dir);
        try (Stream<Path> list = Files.list(TestPaths.root().resolve("sample-data/heldout-florence2/images/caption"))) {
            for (Path f : list.sorted().limit(n).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private static JsonNode summary(Path out) throws Exception {
        return new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    }

    @Test
    void florence2Fp16AndAMixedChoiceGiveTextRowsRecordedByTheirFiles() throws Exception {
        Path bundle = Fp16Bundles.copyWithFp16(TestPaths.root().resolve("sample-data/models/florence2-tiny"), tmp);
        Path in = images(3);
        Path out = tmp.resolve("out");
        CliRun fp16 = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model", bundle.toString(),
                "--master", "local[1]", "--max-new-tokens", "6", "--precision", "fp16");
        assertEquals(0, fp16.exitCode(), fp16.err());
        List<CSVRecord> rows = CliRun.csv(out);
        assertEquals(3, rows.size());
        for (CSVRecord r : rows) {
            assertEquals("", r.get("error"), r.toString());
            assertFalse(r.get("text").isBlank(), r.toString());
            assertTrue(r.get("options").contains(";precision=fp16;"), r.get("options"));
        }

        CliRun mixed = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model", bundle.toString(),
                "--master", "local[1]", "--max-new-tokens", "6", "--precision", "vision=fp16,decoder=fp16");
        assertEquals(0, mixed.exitCode(), mixed.err());
        assertEquals(3, summary(out).get("computed").asLong(), "another choice of files is never reused for this one");
        for (CSVRecord r : CliRun.csv(out)) {
            assertFalse(r.get("text").isBlank(), r.toString());
            assertTrue(r.get("options").contains(";precision=decoder_model_merged=fp16,embed_tokens=fp32,encoder_model=fp32,"
                    + "vision_encoder=fp16;"), r.get("options"));
        }
    }

    @Test
    void theFingerprintAndKeyFollowTheResolvedFilesAndFallbacksAreWarned() throws Exception {
        Path bundle = TestPaths.root().resolve("sample-data/models/smolvlm-tiny"); // fp32 and _fp16 files
        Path in = images(1);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        JobConfig fp32 = validate(err, in, bundle, "fp32");
        JobConfig q4f16 = validate(err, in, bundle, "q4f16");
        JobConfig mixed = validate(err, in, bundle, "vision=fp16");
        String warnings = err.toString(StandardCharsets.UTF_8);
        assertTrue(warnings.contains("moonbatch: warning: --precision q4f16: smolvlm-tiny has no onnx/decoder_model_merged_q4f16.onnx; "
                + "loading onnx/decoder_model_merged_fp16.onnx"), warnings);
        assertEquals(3, warnings.lines().count(), "one warning per file that falls back: " + warnings);
        assertTrue(q4f16.optionsKey().contains(";precision=fp16;"), q4f16.optionsKey());
        assertTrue(mixed.optionsKey().contains(";precision=decoder_model_merged=fp32,embed_tokens=fp32,vision_encoder=fp16;"),
                mixed.optionsKey());
        assertNotEquals(fp32.modelFingerprint(), mixed.modelFingerprint());
        assertNotEquals(fp32.modelFingerprint(), q4f16.modelFingerprint());
    }

    private JobConfig validate(ByteArrayOutputStream err, Path in, Path bundle, String precision) {
        MoonbatchCli cli = new MoonbatchCli(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        new CommandLine(cli).parseArgs("--input", in.toString(), "--output", tmp.resolve("unused").toString(), "--model",
                bundle.toString(), "--task", "query", "--prompt", "What colour is it?", "--precision", precision);
        return cli.validate();
    }

    @Test
    void badValuesStopBeforeSparkWithOneMessage() throws Exception {
        Path in = images(1);
        CliRun unknown = CliRun.of("--input", in.toString(), "--output", tmp.resolve("o1").toString(), "--model",
                TestPaths.demoModel().toString(), "--precision", "fp8");
        assertEquals(2, unknown.exitCode(), unknown.err());
        assertEquals(1, unknown.err().lines().count(), unknown.err());
        assertTrue(unknown.err().startsWith("moonbatch: --precision: expected a precision"), unknown.err());

        CliRun notAFile = CliRun.of("--input", in.toString(), "--output", tmp.resolve("o2").toString(), "--model",
                TestPaths.demoModel().toString(), "--precision", "vision=fp16");
        assertEquals(2, notAFile.exitCode(), notAFile.err());
        assertEquals("moonbatch: --precision: this model has no file 'vision_encoder'; expected one of encoder_model, "
                + "decoder_model_merged", notAFile.err().strip());
        assertFalse(Files.exists(tmp.resolve("o1")) || Files.exists(tmp.resolve("o2")));
    }

    /** A vit-gpt2 copy that loads but cannot run: its preprocessor makes 200×200 pixels, the encoder takes 224×224. */
    private Path unrunnableBundle() throws Exception {
        Path copy = demoCopy("broken-vit-gpt2");
        Path pre = copy.resolve("preprocessor_config.json");
        Files.writeString(pre, Files.readString(pre).replace("224", "200"));
        return copy;
    }

    private Path demoCopy(String name) throws Exception {
        return TestPaths.copyOfDemoModel(tmp.resolve(name));
    }

    @Test
    void everyInferenceFailingExits3WithTheSummaryWritten() throws Exception {
        Path out = tmp.resolve("out");
        CliRun run = CliRun.of("--input", images(3).toString(), "--output", out.toString(), "--model",
                unrunnableBundle().toString(), "--master", "local[1]", "--max-new-tokens", "4");
        assertEquals(3, run.exitCode(), run.err());
        List<String> messages = run.err().lines().filter(l -> l.startsWith("moonbatch:")).toList();
        assertEquals(1, messages.size(), run.err());
        assertEquals(messages.get(0), run.err().strip(), "one message, on one line");
        assertTrue(messages.get(0).startsWith("moonbatch: inference failed on all 3 rows this run computed (INFERENCE_FAILED: "),
                messages.get(0));
        JsonNode summary = summary(out);
        assertEquals(3, summary.get("inferenceFailed").asLong());
        assertEquals(0, summary.get("inferenceSucceeded").asLong());
        assertEquals(3, summary.get("errorsByKind").get("INFERENCE_FAILED").asLong());
        assertEquals(3, CliRun.csv(out).size(), "the error rows are written too");
    }

    @Test
    void aRunWithSomeFailedImagesStillExits0() throws Exception {
        Path in = images(2);
        Files.write(in.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Path out = tmp.resolve("out");
        CliRun run = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model", TestPaths.demoModel().toString(),
                "--master", "local[1]", "--max-new-tokens", "4");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode summary = summary(out);
        assertEquals(1, summary.get("errors").asLong());
        assertEquals(2, summary.get("inferenceSucceeded").asLong());
        assertEquals(0, summary.get("inferenceFailed").asLong());
    }
}
