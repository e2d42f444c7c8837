package dev.moonbatch.io;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The project's shared data folder, {@code ../shared} beside the repository root (never an absolute
 * path, so a checkout anywhere works). A developer's checkout may lack it and the calling test is
 * skipped; under {@code CI=true}, where it is always there, that skip is a failure (test-support's
 * {@code CiNeverSkips}).
 */
final class SharedFolder {
    private SharedFolder() {
    }

    /** {@code ../shared/<child>} from the repository root, or a skip (a failure under CI). */
    static Path require(String child) {
        Path dir = repositoryRoot().resolveSibling("shared").resolve(child);
        if (!Files.isDirectory(dir)) {
            Assumptions.assumeTrue(false, dir + " is missing (the shared folder belongs beside the repository root)");
        }
        return dir;
    }

    /** The nearest folder above the working directory that holds {@code .ci/run}; tests run in a module folder. */
    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(".ci").resolve("run"))) {
                return p;
            }
        }
        throw new AssertionError("no .ci/run above " + Path.of("").toAbsolutePath() + ": not inside the repository");
    }
}
