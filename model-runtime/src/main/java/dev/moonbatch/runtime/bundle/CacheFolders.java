package dev.moonbatch.runtime.bundle;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where moonbatch keeps what it derives from model files (digests, hoisted decoders, ONNX Runtime's
 * optimised graphs), and how an entry gets there. The folder is a system property, else an environment
 * variable, else {@code ~/.cache/moonbatch/<name>}: one rule for every cache, so a user moves them all
 * the same way. Entries are made in a temporary folder and moved into place whole, so a reader never
 * sees half of one and two executors making the same entry at once both end up with a complete one.
 */
public final class CacheFolders {
    private CacheFolders() {
    }

    public static Path of(String property, String env, String name) {
        String p = System.getProperty(property);
        if (p == null || p.isBlank()) {
            p = System.getenv(env);
        }
        return p == null || p.isBlank() ? Path.of(System.getProperty("user.home"), ".cache", "moonbatch", name) : Path.of(p);
    }

    /** Moves the finished folder {@code tmp} into place as {@code dir}; if another process got there first, its entry stands. */
    public static void publish(Path tmp, Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            Path old = dir.resolveSibling(dir.getFileName() + ".old" + System.nanoTime());
            try {
                Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                return;
            }
            deleteTree(old);
        }
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            // someone else published the same entry concurrently
        } catch (IOException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    /** Deletes a folder and everything in it, as far as it can. */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
