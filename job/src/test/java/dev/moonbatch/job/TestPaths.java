package dev.moonbatch.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** Where the committed fixtures are, from the root the build passes as {@code moonbatch.root}. */
final class TestPaths {
    private TestPaths() {
    }

    static Path root() {
        return Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize();
    }

    /**
     * The real PP-OCRv4 folder ({@code tools/models/fetch-ppocr.sh}, which .ci/run calls), or the test
     * is skipped (a failure under CI=true).
     */
    static Path ppocrModel() {
        Path dir = root().resolve("models/ppocr-v4");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(dir.resolve("ppocr.json")),
                "PP-OCRv4 not fetched: run tools/models/fetch-ppocr.sh");
        return dir;
    }

    static Path demoModel() {
        return root().resolve("sample-data/models/vit-gpt2-tiny");
    }

    /** A copy of the demo model at {@code target}, for a test that changes its files; times kept. */
    static Path copyOfDemoModel(Path target) throws IOException {
        try (Stream<Path> walk = Files.walk(demoModel())) {
            for (Path f : walk.toList()) {
                Path dest = target.resolve(demoModel().relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(f, dest, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return target;
    }

    static Path heldout() {
        return root().resolve("sample-data/heldout");
    }
}
