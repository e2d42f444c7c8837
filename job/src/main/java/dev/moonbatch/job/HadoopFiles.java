package dev.moonbatch.job;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;

/** Output files on any Hadoop FileSystem are written aside and renamed into place, so no reader sees half of one. */
final class HadoopFiles {
    private HadoopFiles() {
    }

    /** Replaces {@code target} with the finished file {@code written}. */
    static void moveIntoPlace(FileSystem fs, Path written, Path target) throws IOException {
        fs.delete(target, false);
        if (!fs.rename(written, target)) {
            throw new IOException("could not rename " + written + " to " + target);
        }
    }
}
