package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.bundle.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The fingerprint covers what a run loads, and only that: files the run never reads (a {@code .git/}
 * folder, a README, a variant of another precision) keep every row reusable; a loaded weight file
 * whose bytes change, even at the same size, makes every row be computed again.
 */
class ModelFingerprintTest {
    @TempDir
    Path tmp;

    private static final RuntimeOptions FP32 = new RuntimeOptions(Precision.FP32, 1);

    @Test
    void onlyLoadedFilesCount() throws Exception {
        Path model = copyOfDemoModel();
        String before = fingerprint(model);
        addUnusedFiles(model);
        assertEquals(before, fingerprint(model), "files the run does not load");

        Files.writeString(model.resolve("generation_config.json"),
                Files.readString(model.resolve("generation_config.json")).replaceFirst("\\{", "{\"num_beams\": 1,"));
        String newConfig = fingerprint(model);
        assertNotEquals(before, newConfig, "a metadata file the runtime reads");

        flipAWeightByte(model.resolve("onnx/encoder_model.onnx"));
        assertNotEquals(newConfig, fingerprint(model), "a loaded weight file, same size, other bytes");
    }

    @Test
    void unusedFilesKeepRowsReusedAndAChangedLoadedFileRecomputesThem() throws Exception {
        Path model = copyOfDemoModel();
        Path in = Outputs.twoPhotos(tmp.resolve("in"));
        Path out = tmp.resolve("out");
        String[] args = {"--input", in.toString(), "--output", out.toString(), "--model", model.toString(),
                "--master", "local[1]", "--max-new-tokens", "6"};
        assertEquals(0, CliRun.of(args).exitCode());
        assertEquals(2, Outputs.summary(out).get("computed").asLong());

        addUnusedFiles(model);
        CliRun second = CliRun.of(args);
        assertEquals(0, second.exitCode(), second.err());
        JsonNode s2 = Outputs.summary(out);
        assertEquals(0, s2.get("computed").asLong(), s2.toString());
        assertEquals(2, s2.get("reused").asLong(), s2.toString());

        flipAWeightByte(model.resolve("onnx/encoder_model.onnx"));
        CliRun third = CliRun.of(args);
        assertEquals(0, third.exitCode(), third.err());
        JsonNode s3 = Outputs.summary(out);
        assertEquals(2, s3.get("computed").asLong(), s3.toString());
        assertEquals(0, s3.get("reused").asLong(), s3.toString());
        assertEquals(0, s3.get("errors").asLong(), "the changed weights still load: " + s3);
    }

    private Path copyOfDemoModel() throws IOException {
        return TestPaths.copyOfDemoModel(tmp.resolve("model").resolve(TestPaths.demoModel().getFileName()));
    }

    /** What a `git clone` + an extra variant leave beside the files a run loads. */
    private static void addUnusedFiles(Path model) throws IOException {
        Files.createDirectories(model.resolve(".git/objects/ab"));
        Files.writeString(model.resolve(".git/objects/ab/cdef01"), "blob");
        Files.writeString(model.resolve(".gitattributes"), "*.onnx filter=lfs diff=lfs merge=lfs -text\n");
        Files.writeString(model.resolve("README.md"), "# a model card\n");
        Files.write(model.resolve("onnx/encoder_model_q4.onnx"), new byte[4096]);
    }

    /** Changes one byte in the middle of the file (weights), keeping its size; the model still loads. */
    private static void flipAWeightByte(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(file, bytes);
    }

    private static String fingerprint(Path model) {
        return ModelFingerprint.of(ModelBundle.open(model), FP32);
    }
}
