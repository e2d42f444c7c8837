package dev.moonbatch.job;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;

/** Output files on any Hadoop FileSystem are written aside and renamed into place, so no reader sees half of one. */
final class HadoopFiles {
    private HadoopFiles() {
    }

    /**
     * The file system to write our own small files with (thumbnails, the review page, the review
     * store): on a local disk, the raw one, so no {@code .NAME.crc} checksum file lands beside each.
     */
    static FileSystem plain(FileSystem fs) {
        return fs instanceof org.apache.hadoop.fs.ChecksumFileSystem c ? c.getRawFileSystem() : fs;
    }

    /** Puts a staged folder (a Parquet table) in place of the old one; readers see the old or the new, never a mix. */
    static void swap(FileSystem fs, Path staging, Path results) throws IOException {
        Path old = new Path(results.getParent(), ".old-" + staging.getName());
        boolean hadOld = fs.exists(results);
        if (hadOld && !fs.rename(results, old)) {
            throw new IOException("could not move " + results + " aside");
        }
        if (!fs.rename(staging, results)) {
            throw new IOException("could not move " + staging + " to " + results);
        }
        if (hadOld) {
            fs.delete(old, true);
        }
    }

    /** Replaces {@code target} with the finished file {@code written}. */
    static void moveIntoPlace(FileSystem fs, Path written, Path target) throws IOException {
        fs.delete(target, false);
        if (!fs.rename(written, target)) {
            throw new IOException("could not rename " + written + " to " + target);
        }
    }
}
