package dev.moonbatch.runtime.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 of model files, remembered on disk by (real path, size, modification time): weights of a
 * gigabyte are read once per change, not on every run that needs their identity (the result
 * fingerprint on the driver, the hoisted-decoder cache on each executor). The memo is one small
 * file per entry under {@code -Dmoonbatch.digest.cache}, else {@code $MOONBATCH_DIGEST_CACHE}, else
 * {@code ~/.cache/moonbatch/sha256}; it trusts size + mtime as the nightly image reuse does. An
 * unwritable memo only costs the re-read.
 */
public final class FileDigests {
    public static final String CACHE_PROPERTY = "moonbatch.digest.cache";
    public static final String CACHE_ENV = "MOONBATCH_DIGEST_CACHE";

    private FileDigests() {
    }

    /** The file's SHA-256 in hex, from the memo when the file's size and mtime are those it was hashed at. */
    public static String sha256(Path file) throws IOException {
        Path real = file.toRealPath();
        BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class);
        String key = hex(digest().digest((real + "\0" + attrs.size() + "\0" + attrs.lastModifiedTime().toMillis())
                .getBytes(StandardCharsets.UTF_8)));
        Path memo = cacheRoot().resolve(key);
        if (Files.isRegularFile(memo)) {
            String known = Files.readString(memo, StandardCharsets.US_ASCII).strip();
            if (known.matches("[0-9a-f]{64}")) {
                return known;
            }
        }
        String sha = hashContent(real);
        remember(memo, sha);
        return sha;
    }

    /** Reads the whole file (no memo). */
    public static String hashContent(Path file) throws IOException {
        MessageDigest md = digest();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return hex(md.digest());
    }

    static Path cacheRoot() {
        return CacheFolders.of(CACHE_PROPERTY, CACHE_ENV, "sha256");
    }

    private static void remember(Path memo, String sha) {
        try {
            Files.createDirectories(memo.getParent());
            Path tmp = Files.createTempFile(memo.getParent(), memo.getFileName().toString(), ".tmp");
            Files.writeString(tmp, sha, StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, memo, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, memo, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // a read-only home: the next run hashes again
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
