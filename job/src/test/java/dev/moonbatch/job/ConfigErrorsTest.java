package dev.moonbatch.job;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad configuration exits 2, before Spark starts, with one message naming the setting. */
class ConfigErrorsTest {
    @TempDir
    static Path tmp;
    static Path images;
    static Path noDecoder;
    static Path badConfig;
    static Path badValueFile;
    static Path typoFile;

    @BeforeAll
    static void bundles() throws Exception {
        images = Files.createDirectories(tmp.resolve("images"));
        noDecoder = copyBundle("no-decoder");
        Files.delete(noDecoder.resolve("onnx/decoder_model_merged.onnx"));
        badConfig = copyBundle("bad-config");
        Files.writeString(badConfig.resolve("config.json"), "{\"model_type\": ");
        badValueFile = Files.writeString(tmp.resolve("bad-value.properties"), "batch-size = lots\n");
        typoFile = Files.writeString(tmp.resolve("typo.properties"), "batchsize = 4\n");
    }

    private static Path copyBundle(String name) throws Exception {
        return TestPaths.copyOfDemoModel(tmp.resolve(name));
    }

    static Stream<Arguments> badConfigurations() {
        String in = images.toString();
        String out = tmp.resolve("out").toString();
        String model = TestPaths.demoModel().toString();
        String smolvlm = TestPaths.demoModel().resolveSibling("smolvlm-tiny").toString();
        return Stream.of(
                Arguments.of("--model", new String[] {"--input", in, "--output", out, "--model", tmp.resolve("nope").toString()}),
                Arguments.of("decoder_model_merged.onnx", new String[] {"--input", in, "--output", out, "--model", noDecoder.toString()}),
                Arguments.of("config.json", new String[] {"--input", in, "--output", out, "--model", badConfig.toString()}),
                Arguments.of("--input", new String[] {"--input", tmp.resolve("missing").toString(), "--output", out, "--model", model}),
                Arguments.of("--precision", new String[] {"--input", in, "--output", out, "--model", model, "--precision", "fp8"}),
                Arguments.of("--batch-size", new String[] {"--input", in, "--output", out, "--model", model, "--batch-size", "0"}),
                Arguments.of("--table-format: expected parquet or delta but got 'iceberg'",
                        new String[] {"--input", in, "--output", out, "--model", model, "--table-format", "iceberg"}),
                Arguments.of("--max-new-tokens", new String[] {"--input", in, "--output", out, "--model", model, "--max-new-tokens", "many"}),
                Arguments.of("--task", new String[] {"--input", in, "--output", out, "--model", model, "--task", "translate"}),
                Arguments.of("--task ocr: vit-gpt2 cannot read text in images; families that can: [florence2, ppocr]",
                        new String[] {"--input", in, "--output", out, "--model", model, "--task", "ocr"}),
                Arguments.of("--image-splitting / --image-longest-edge: only smolvlm models split images into crops; this model is vit-gpt2",
                        new String[] {"--input", in, "--output", out, "--model", model, "--image-splitting", "off"}),
                Arguments.of("--image-splitting: expected on or off but got maybe",
                        new String[] {"--input", in, "--output", out, "--model", smolvlm, "--image-splitting", "maybe"}),
                Arguments.of("--image-longest-edge: expected a multiple of the model's tile size 64",
                        new String[] {"--input", in, "--output", out, "--model", smolvlm, "--image-longest-edge", "100"}),
                Arguments.of("--max-megapixels", new String[] {"--input", in, "--output", out, "--model", model, "--max-megapixels", "-1"}),
                Arguments.of("--bogus", new String[] {"--input", in, "--output", out, "--bogus", "1"}),
                Arguments.of("--output", new String[] {"--input", in}),
                Arguments.of("--num-beams", new String[] {"--input", in, "--output", out, "--model", model, "--num-beams", "0"}),
                Arguments.of("--early-stopping", new String[] {"--input", in, "--output", out, "--model", model, "--early-stopping", "maybe"}),
                Arguments.of("--master", new String[] {"--input", in, "--output", out, "--model", model, "--master", "sprak://x"}),
                Arguments.of("--output", new String[] {"--input", in, "--output", images.resolve("inside").toString(), "--model", model}),
                Arguments.of("--batch-size", new String[] {"--config", badValueFile.toString(), "--input", in, "--output", out, "--model", model}),
                Arguments.of("batchsize", new String[] {"--config", typoFile.toString(), "--input", in, "--output", out, "--model", model}),
                Arguments.of("--config", new String[] {"--config", tmp.resolve("none.properties").toString(), "--input", in, "--output", out}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigurations")
    void exitsTwoNamingTheSetting(String named, String[] args) {
        long start = System.nanoTime();
        CliRun run = CliRun.of(args);
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains(named), "message should name " + named + ": " + run.err());
        assertTrue((System.nanoTime() - start) / 1e9 < 10, "config errors are found before any work starts");
    }

    @ParameterizedTest(name = "env {0}")
    @MethodSource("badEnvironments")
    void badEnvironmentValuesNameTheSetting(String variable, String value, String named) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put(variable, value);
        CliRun run = CliRun.withEnv(env, "--input", images.toString(), "--output", tmp.resolve("out").toString(),
                "--model", TestPaths.demoModel().toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains(named), "message should name " + named + ": " + run.err());
    }

    static Stream<Arguments> badEnvironments() {
        return Stream.of(Arguments.of("MOONBATCH_PRECISION", "fp7", "--precision"),
                Arguments.of("MOONBATCH_PARTITIONS", "-3", "--partitions"),
                Arguments.of("MOONBATCH_MAX_NEW_TOKENS", "0", "--max-new-tokens"));
    }

    @Test
    void commandLineBeatsEnvironmentBeatsConfigFile() throws Exception {
        Path file = Files.writeString(tmp.resolve("ok.properties"), "batch-size = 0\nmax-new-tokens = 0\npartitions = -1\n");
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("MOONBATCH_MAX_NEW_TOKENS", "-5");
        String[] common = {"--config", file.toString(), "--input", images.toString(), "--output", tmp.resolve("o").toString(),
                "--model", TestPaths.demoModel().toString()};
        // The file's batch-size 0 is the first error when nothing overrides it.
        assertTrue(CliRun.withEnv(env, common).err().contains("--batch-size: expected a whole number ≥ 1 but got 0"));
        // The command line fixes batch-size; max-new-tokens then comes from the environment (-5), not the file (0).
        String[] withBatch = Stream.concat(Arrays.stream(common), Stream.of("--batch-size", "2")).toArray(String[]::new);
        assertTrue(CliRun.withEnv(env, withBatch).err().contains("--max-new-tokens: expected a whole number ≥ 1 but got -5"));
    }
}
