package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs a transformers.js 4.3.1 reference script of {@code tools/reference} and reads the JSON it
 * prints, for the agreement tests. Why one place: each agreement test needs the same rule (skipped
 * where the reference is not installed, a failure in CI, which must install it) and the same
 * process handling.
 */
final class ReferenceRunner {
    private ReferenceRunner() {
    }

    /** The project's root (the tests run in a module folder). */
    static Path root() {
        return Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize();
    }

    /** Skips the calling test where transformers.js is not installed; fails in CI, which installs it. */
    static void assumeInstalled() {
        assumeInstalled("@huggingface/transformers");
    }

    /** Skips the calling test where the npm package (of tools/reference) is not installed; fails in CI. */
    static void assumeInstalled(String npmPackage) {
        boolean installed = Files.isDirectory(root().resolve("tools/reference/node_modules").resolve(npmPackage));
        if (!installed && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("CI must install tools/reference (npm ci --ignore-scripts) for this test");
        }
        Assumptions.assumeTrue(installed, npmPackage + " not installed: run `cd tools/reference && npm ci --ignore-scripts`");
    }

    /** Runs {@code tools/reference/SCRIPT ARGS} with node and returns the JSON array it prints. */
    static JsonNode run(String script, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("node", root().resolve("tools/reference").resolve(script).toString()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile("moonbatch-reference", ".log");
        Process node = new ProcessBuilder(command).redirectError(log.toFile()).start();
        byte[] stdout = node.getInputStream().readAllBytes();
        assertTrue(node.waitFor(10, TimeUnit.MINUTES), script + " finished");
        String stderr = Files.readString(log);
        Files.delete(log);
        assertEquals(0, node.exitValue(), () -> script + " exit code; its stderr:\n"
                + stderr.substring(Math.max(0, stderr.length() - 4000)));
        return new ObjectMapper().readTree(stdout);
    }

    /** The {@code token_ids} array of one reference row. */
    static long[] tokenIds(JsonNode row) {
        JsonNode ids = row.get("token_ids");
        long[] out = new long[ids.size()];
        for (int t = 0; t < out.length; t++) {
            out[t] = ids.get(t).asLong();
        }
        return out;
    }
}
