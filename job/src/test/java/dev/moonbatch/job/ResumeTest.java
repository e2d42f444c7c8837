package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A rerun over a folder where 10% of the images changed computes exactly those (and retries errors). */
class ResumeTest {
    @TempDir
    Path tmp;

    @Test
    void rerunComputesOnlyChangedImagesAndErrors() throws Exception {
        Path in = tmp.resolve("in");
        int images = Outputs.copyHeldout(in, 1);
        Files.write(in.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Path out = tmp.resolve("out");
        String[] args = {"--input", in.toString(), "--output", out.toString(), "--model", TestPaths.demoModel().toString(),
                "--master", "local[2]"};

        long t0 = System.nanoTime();
        CliRun first = CliRun.of(args);
        assertEquals(0, first.exitCode(), first.err());
        JsonNode s1 = Outputs.summary(out);
        assertEquals(images + 1, s1.get("computed").asLong());
        assertEquals(0, s1.get("reused").asLong());

        // Change 10% of the images: one pixel each, so the content hash changes.
        List<Path> files;
        try (Stream<Path> s = Files.list(in)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("c0_")).sorted().toList();
        }
        int changed = images / 10;
        for (int i = 0; i < changed; i++) {
            Path p = files.get(i * 10);
            BufferedImage img = ImageIO.read(p.toFile());
            img.setRGB(0, 0, img.getRGB(0, 0) ^ 0x010101);
            ImageIO.write(img, "png", p.toFile());
        }
        long t1 = System.nanoTime();
        CliRun second = CliRun.of(args);
        assertEquals(0, second.exitCode(), second.err());
        JsonNode s2 = Outputs.summary(out);
        assertEquals(changed + 1, s2.get("computed").asLong(), "changed images plus the retried error row");
        assertEquals(images - changed, s2.get("reused").asLong());

        List<Row> rows = Outputs.rows(out);
        Map<String, Integer> counts = Outputs.countsByPath(rows);
        assertEquals(images + 1, rows.size(), "rows = images");
        assertEquals(images + 1, counts.size(), "no duplicates, none missing");
        String secondRun = s2.get("runId").asText();
        long fromSecond = rows.stream().filter(r -> secondRun.equals(r.getAs("run_id"))).count();
        assertEquals(changed + 1, fromSecond, "rows computed by the second run carry its run id");
        assertTrue(rows.stream().filter(r -> r.getAs("error") == null).allMatch(r -> r.getAs("text") != null));
        assertTrue(Files.notExists(out.resolve(Checkpoints.DIR)), "checkpoints removed after a complete run");
        System.out.printf("resume: %d images, %d changed, first run %.1f s computed %d; rerun %.1f s computed %d reused %d%n",
                images + 1, changed, (t1 - t0) / 1e9 - 0, s1.get("computed").asLong(), (System.nanoTime() - t1) / 1e9,
                s2.get("computed").asLong(), s2.get("reused").asLong());
    }
}
