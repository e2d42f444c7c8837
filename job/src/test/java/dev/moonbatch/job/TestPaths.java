package dev.moonbatch.job;

import java.nio.file.Path;

/** Where the committed fixtures are, from the root the build passes as {@code moonbatch.root}. */
final class TestPaths {
    private TestPaths() {
    }

    static Path root() {
        return Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize();
    }

    static Path demoModel() {
        return root().resolve("sample-data/models/vit-gpt2-tiny");
    }

    static Path heldout() {
        return root().resolve("sample-data/heldout");
    }
}
