package dev.moonbatch.job;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.FileDigests;
import dev.moonbatch.runtime.bundle.ModelBundle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A short identity of what a run loads, part of the key under which results are reused: the
 * content of the bundle's metadata files (configs, tokenizer, chat template) and of the ONNX files
 * these options open. Other files in the folder ({@code .git/}, READMEs, variants of another
 * precision) do not count, so adding them keeps every row reusable; retrained weights of the same
 * size do count. Weights are hashed once per change ({@link FileDigests} remembers them).
 */
final class ModelFingerprint {
    private ModelFingerprint() {
    }

    static String of(ModelBundle bundle, RuntimeOptions options) {
        List<Path> files = new ArrayList<>(bundle.metadataFiles());
        files.addAll(ModelLoader.onnxFiles(bundle, options));
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path f : files) {
                String rel = bundle.dir().relativize(f).toString();
                sha.update((rel + "\0" + FileDigests.sha256(f) + "\0").getBytes(StandardCharsets.UTF_8));
            }
            return bundle.name() + "@" + HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the model folder " + bundle.dir(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
