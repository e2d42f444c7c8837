package dev.moonbatch.io;

import java.nio.file.Paths;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.Path;

/** Turns user input into a Hadoop {@link Path}; a string without a scheme is a local path. */
final class HadoopPaths {
    /** RFC 3986 scheme followed by ':'; two letters at least so that nothing looks like a drive letter. */
    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:");

    private HadoopPaths() {
    }

    static Path resolve(String input) {
        if (input == null || input.isBlank()) {
            throw new IllegalArgumentException("--input: empty path");
        }
        if (SCHEME.matcher(input).find()) {
            // Hadoop's own parsing: the path part is taken literally (not percent-decoded).
            return new Path(input);
        }
        String absolute = Paths.get(input).toAbsolutePath().normalize().toString();
        return new Path("file", null, absolute);
    }
}
