package dev.moonbatch.job;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
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

    @BeforeAll
    static void bundles() throws Exception {
        images = Files.createDirectories(tmp.resolve("images"));
        noDecoder = copyBundle("no-decoder");
        Files.delete(noDecoder.resolve("onnx/decoder_model_merged.onnx"));
        badConfig = copyBundle("bad-config");
        Files.writeString(badConfig.resolve("config.json"), "{\"model_type\": ");
    }

    private static Path copyBundle(String name) throws Exception {
        Path target = tmp.resolve(name);
        try (Stream<Path> files = Files.walk(TestPaths.demoModel())) {
            for (Path f : files.toList()) {
                Path dest = target.resolve(TestPaths.demoModel().relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(f, dest);
                }
            }
        }
        return target;
    }

    static Stream<Arguments> badConfigurations() {
        String in = images.toString();
        String out = tmp.resolve("out").toString();
        String model = TestPaths.demoModel().toString();
        return Stream.of(
                Arguments.of("--model", new String[] {"--input", in, "--output", out, "--model", tmp.resolve("nope").toString()}),
                Arguments.of("decoder_model_merged.onnx", new String[] {"--input", in, "--output", out, "--model", noDecoder.toString()}),
                Arguments.of("config.json", new String[] {"--input", in, "--output", out, "--model", badConfig.toString()}),
                Arguments.of("--input", new String[] {"--input", tmp.resolve("missing").toString(), "--output", out, "--model", model}),
                Arguments.of("--precision", new String[] {"--input", in, "--output", out, "--model", model, "--precision", "fp8"}),
                Arguments.of("--batch-size", new String[] {"--input", in, "--output", out, "--model", model, "--batch-size", "0"}),
                Arguments.of("--max-new-tokens", new String[] {"--input", in, "--output", out, "--model", model, "--max-new-tokens", "many"}),
                Arguments.of("--task", new String[] {"--input", in, "--output", out, "--model", model, "--task", "translate"}),
                Arguments.of("--max-megapixels", new String[] {"--input", in, "--output", out, "--model", model, "--max-megapixels", "-1"}),
                Arguments.of("--bogus", new String[] {"--input", in, "--output", out, "--bogus", "1"}),
                Arguments.of("--output", new String[] {"--input", in}));
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
}
