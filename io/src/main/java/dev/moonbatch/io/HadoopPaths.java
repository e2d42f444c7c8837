package dev.moonbatch.io;

import java.io.IOException;
import java.nio.file.Paths;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/** Turns user input into a Hadoop {@link Path}; a string without a scheme is a local path. */
final class HadoopPaths {
    /** RFC 3986 scheme followed by ':'; two letters at least so that nothing looks like a drive letter. */
    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:");

    private HadoopPaths() {
    }

    /**
     * The file system for {@code path}; for {@code file:} the raw local one, because the
     * checksumming wrapper cannot build its {@code .crc} side path for names with a colon
     * and we never read Hadoop-written checksums anyway.
     */
    static FileSystem fileSystem(Path path, Configuration conf) throws IOException {
        FileSystem fs = path.getFileSystem(conf);
        return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
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
