package dev.moonbatch.job;

import dev.moonbatch.runtime.bundle.ModelBundle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A short identity of a bundle's files, part of the key under which results are reused: the
 * contents of its JSON configs and the names and sizes of all its files. Cheap (weights are not
 * hashed), and it changes when a model is replaced in the same folder.
 */
final class ModelFingerprint {
    private ModelFingerprint() {
    }

    static String of(ModelBundle bundle) {
        try (Stream<Path> walk = Files.walk(bundle.dir())) {
            List<Path> files = walk.filter(Files::isRegularFile).sorted().toList();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path f : files) {
                String rel = bundle.dir().relativize(f).toString();
                sha.update((rel + "\0" + Files.size(f) + "\0").getBytes(StandardCharsets.UTF_8));
                if (rel.endsWith(".json") && Files.size(f) < (16 << 20)) {
                    sha.update(Files.readAllBytes(f));
                }
            }
            return bundle.name() + "@" + HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the model folder " + bundle.dir(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
