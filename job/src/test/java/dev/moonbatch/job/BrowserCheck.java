package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Opens a review page in real headless Chromium through {@code tools/browser/review-check.mjs}
 * (Playwright driving Debian's chromium) and returns what the script saw, as JSON. Without a
 * browser the test is skipped (a failure under {@code CI=true}: test-support's {@code CiNeverSkips}).
 */
final class BrowserCheck {
    private BrowserCheck() {
    }

    static Path chromium() {
        String fromEnv = System.getenv("CHROMIUM");
        return Path.of(fromEnv != null ? fromEnv : "/usr/bin/chromium");
    }

    static JsonNode run(Path page, String... args) throws Exception {
        Path script = TestPaths.root().resolve("tools/browser/review-check.mjs");
        Path modules = TestPaths.root().resolve("tools/browser/node_modules/playwright-core");
        boolean ready = Files.isExecutable(chromium()) && Files.isDirectory(modules);
        String why = "headless Chromium test needs " + chromium() + " (apt-get install -y --no-install-recommends chromium) "
                + "and tools/browser/node_modules (npm ci in tools/browser); .ci/run installs both";
        Assumptions.assumeTrue(ready, why);
        List<String> command = new ArrayList<>(List.of("node", script.toString(), "--page", page.toString()));
        command.addAll(List.of(args));
        Path log = Files.createTempFile("review-check", ".err");
        Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
        byte[] stdout = p.getInputStream().readAllBytes();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("review-check.mjs timed out: " + Files.readString(log));
        }
        String out = new String(stdout, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError("review-check.mjs exited " + p.exitValue() + ": " + out + Files.readString(log));
        }
        return new ObjectMapper().readTree(out);
    }
}
