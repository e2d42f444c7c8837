package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Reading a run's output back for assertions: the rows (Parquet or Delta) and summary.json. */
final class Outputs {
    private Outputs() {
    }

    static List<Row> rows(Path output) throws IOException {
        try (SparkSession spark = SparkSessions.create("local[1]")) {
            if (Files.isDirectory(output.resolve(ResultsTable.DELTA_DIR))) {
                return spark.read().format("delta").load(output.resolve(ResultsTable.DELTA_DIR).toString()).collectAsList();
            }
            return spark.read().parquet(output.resolve(CaptionJob.PARQUET).toString()).collectAsList();
        }
    }

    static JsonNode summary(Path output) throws IOException {
        return new ObjectMapper().readTree(output.resolve(CaptionJob.SUMMARY).toFile());
    }

    /** Rows per image path; a count above 1 is a duplicate. */
    static Map<String, Integer> countsByPath(List<Row> rows) {
        Map<String, Integer> counts = new HashMap<>();
        rows.forEach(r -> counts.merge(r.getAs("image_path"), 1, Integer::sum));
        return counts;
    }

    /** A fresh input folder of two sample photos, a.jpg (a red mug) and b.jpg (a blue ball). */
    static Path twoPhotos(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path images = TestPaths.root().resolve("sample-data/images");
        Files.copy(images.resolve("synthetic_red_mug_white.jpg"), dir.resolve("a.jpg"));
        Files.copy(images.resolve("synthetic_blue_ball_wooden.jpg"), dir.resolve("b.jpg"));
        return dir;
    }

    /**
     * Copies the held-out images {@code times} times under new names into {@code dir}; each copy
     * after the first has one pixel changed, so every file has its own content hash.
     */
    static int copyHeldout(Path dir, int times) throws IOException {
        Files.createDirectories(dir);
        List<Path> src;
        try (Stream<Path> s = Files.list(TestPaths.heldout().resolve("images"))) {
            src = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        int n = 0;
        for (int t = 0; t < times; t++) {
            for (Path p : src) {
                Path target = dir.resolve(String.format("c%d_%s", t, p.getFileName()));
                if (t == 0) {
                    Files.copy(p, target);
                } else {
                    BufferedImage img = ImageIO.read(p.toFile());
                    img.setRGB(0, 0, img.getRGB(0, 0) ^ t);
                    ImageIO.write(img, "png", target.toFile());
                }
                n++;
            }
        }
        return n;
    }

    /**
     * The committed checkpoint files (`*.jsonl`, not the hidden temp files) under {@code dir} of a
     * job that may still be running: files and folders that vanish during the walk (a temp file
     * renamed, a checkpoint folder cleared) are skipped instead of failing the walk.
     */
    static List<Path> checkpointFiles(Path dir) throws IOException {
        List<Path> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String name = file.getFileName().toString();
                if (name.endsWith(".jsonl") && !name.startsWith(".")) {
                    found.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        return found;
    }
}
