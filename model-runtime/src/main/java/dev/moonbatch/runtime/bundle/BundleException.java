package dev.moonbatch.runtime.bundle;

/**
 * A model bundle that cannot be used: a missing or malformed file, or a family we do not know.
 * The message always names the file or setting at fault, because it is shown to the user as is.
 */
public class BundleException extends RuntimeException {
    public BundleException(String message) {
        super(message);
    }

    public BundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
