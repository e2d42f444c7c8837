package dev.moonbatch.io;

import java.util.Objects;

/**
 * Why one image could not be read or decoded. It is a checked exception so that the
 * job has to turn it into a row with an {@code error} column instead of failing the task;
 * {@link #describe()} is that column's text, so messages are written for a user.
 */
public final class ImageError extends Exception {
    private static final long serialVersionUID = 1L;

    /** The class of failure; stable names, they appear in the output. */
    public enum Kind {
        /** The file system refused or failed to read the file. */
        READ_FAILED,
        /** The file has zero bytes. */
        EMPTY_FILE,
        /** No decoder recognises the bytes (not an image, or a format we do not read). */
        UNSUPPORTED_FORMAT,
        /** Too many bytes or too many pixels to decode safely. */
        TOO_LARGE,
        /** Recognised as an image but truncated, inconsistent or undecodable. */
        CORRUPT
    }

    private final Kind kind;

    public ImageError(Kind kind, String message) {
        this(kind, message, null);
    }

    public ImageError(Kind kind, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }

    /** {@code KIND: message}, e.g. {@code EMPTY_FILE: the file is empty (0 bytes)}. */
    public String describe() {
        return kind + ": " + getMessage();
    }

    @Override
    public String toString() {
        return describe();
    }
}
