package dev.moonbatch.io;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads whole image files through the Hadoop {@link FileSystem} API, so the same code
 * reads local files, HDFS or object stores. Failures become {@link ImageError}s because
 * one unreadable file must give one error row, not a failed task.
 */
public final class ImageFiles {
    /** Java arrays cannot be larger than this. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private ImageFiles() {
    }

    /**
     * All bytes of the file at {@code path} (a string from {@link ImageLister#list}, any
     * Hadoop URI, or a local path).
     *
     * @throws ImageError {@code TOO_LARGE} if the file is longer than {@code maxBytes}
     *     (checked from the file status, before reading), {@code READ_FAILED} on I/O errors
     */
    public static byte[] readAll(String path, Configuration conf, long maxBytes) throws ImageError {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0: " + maxBytes);
        }
        long limit = Math.min(maxBytes, MAX_ARRAY);
        Path p;
        try {
            p = HadoopPaths.resolve(path);
        } catch (IllegalArgumentException e) {
            throw new ImageError(ImageError.Kind.READ_FAILED, "invalid path: " + e.getMessage(), e);
        }
        try {
            FileSystem fs = HadoopPaths.fileSystem(p, conf);
            FileStatus status = fs.getFileStatus(p);
            if (status.isDirectory()) {
                throw new ImageError(ImageError.Kind.READ_FAILED, "is a directory, not a file");
            }
            long length = status.getLen();
            if (length > limit) {
                throw tooLarge(length, maxBytes);
            }
            try (FSDataInputStream in = fs.open(p)) {
                byte[] data = new byte[(int) length];
                in.readFully(data);
                if (in.read() != -1) {
                    throw new ImageError(ImageError.Kind.READ_FAILED,
                            "the file changed while it was read (it grew beyond " + length + " bytes)");
                }
                return data;
            }
        } catch (ImageError e) {
            throw e;
        } catch (FileNotFoundException e) {
            throw new ImageError(ImageError.Kind.READ_FAILED, "file not found: " + path, e);
        } catch (EOFException e) {
            throw new ImageError(ImageError.Kind.READ_FAILED,
                    "the file changed while it was read (it became shorter)", e);
        } catch (IOException | RuntimeException e) {
            throw new ImageError(ImageError.Kind.READ_FAILED, "cannot read the file: " + Messages.of(e), e);
        }
    }

    private static ImageError tooLarge(long length, long maxBytes) {
        return new ImageError(ImageError.Kind.TOO_LARGE, String.format(Locale.ROOT,
                "file size %d bytes (%.1f MiB) exceeds the limit of %d bytes (%.1f MiB)",
                length, length / 1048576.0, maxBytes, maxBytes / 1048576.0));
    }
}
