package dev.moonbatch.job;

import dev.moonbatch.io.Thumbnails;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Serializable;
import java.util.UUID;

/**
 * The review page's thumbnails under {@code OUTPUT/review/thumbs/SHA256.jpg}, made on the executors
 * from the image they decode for the model anyway. Named by content, so a rerun that reuses a row
 * never decodes its image again, and a photo shared by many files has one thumbnail. A thumbnail
 * that cannot be written is logged and skipped: the page shows a placeholder, the row is unaffected.
 */
final class ThumbnailStore implements Serializable {
    private static final Logger LOG = LoggerFactory.getLogger(ThumbnailStore.class);
    static final String DIR = "review/thumbs";

    private final String output;
    private final SerializableConfiguration conf;

    ThumbnailStore(String output, SerializableConfiguration conf) {
        this.output = output;
        this.conf = conf;
    }

    /** The thumbnail's path relative to {@code OUTPUT/review/}, as the page refers to it. */
    static String relative(String sha256) {
        return "thumbs/" + sha256 + ".jpg";
    }

    void save(String sha256, BufferedImage image) {
        if (sha256 == null || output == null) {
            return;
        }
        Path target = new Path(new Path(output, DIR), sha256 + ".jpg");
        try {
            FileSystem fs = HadoopFiles.plain(target.getFileSystem(conf.value()));
            if (fs.exists(target)) {
                return;
            }
            byte[] jpeg = Thumbnails.jpeg(image);
            Path tmp = new Path(target.getParent(), "." + sha256 + "." + UUID.randomUUID() + ".tmp");
            try (FSDataOutputStream out = fs.create(tmp, true)) {
                out.write(jpeg);
            }
            if (!fs.rename(tmp, target)) {
                fs.delete(tmp, false); // another task made the same thumbnail first
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not write the thumbnail {}: {}", target, e.toString());
        }
    }
}
