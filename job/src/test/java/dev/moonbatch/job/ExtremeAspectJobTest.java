package dev.moonbatch.job;

import dev.moonbatch.io.OddImageCorpus;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job, with every family's test bundle, over valid images of extreme aspect ratios (1000:1
 * either way, 1-pixel rows and columns, a single pixel): each gets a text row, none a
 * {@code PREPROCESS_FAILED} one (SmolVLM's resize used to round their short side to 0 pixels).
 */
class ExtremeAspectJobTest {
    /** width x height. */
    static final int[][] SHAPES = {{6000, 12}, {12, 6000}, {2000, 1}, {1, 2000}, {3, 5000}, {5000, 3},
            {6000, 1}, {1, 6000}, {1, 1}};

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"vit-gpt2-tiny", "smolvlm-tiny", "moondream2-tiny", "blip2-tiny", "florence2-tiny"})
    void everyExtremeImageGetsATextRow(String bundle) throws Exception {
        Path input = tmp.resolve("in");
        Files.createDirectories(input);
        for (int[] s : SHAPES) {
            ImageIO.write(OddImageCorpus.quadrants(s[0], s[1]), "png", input.resolve(s[0] + "x" + s[1] + ".png").toFile());
        }
        Path out = tmp.resolve("out");
        CliRun run = CliRun.of("--input", input.toString(), "--output", out.toString(),
                "--model", TestPaths.root().resolve("sample-data/models/" + bundle).toString(), "--master", "local[2]");
        assertEquals(0, run.exitCode(), run.err());

        List<Row> rows = Outputs.rows(out);
        assertEquals(SHAPES.length, rows.size(), "one row per image");
        Map<String, Row> byName = new HashMap<>();
        for (Row r : rows) {
            String path = r.getAs("image_path");
            byName.put(path.substring(path.lastIndexOf('/') + 1), r);
        }
        for (int[] s : SHAPES) {
            String name = s[0] + "x" + s[1] + ".png";
            Row r = byName.get(name);
            assertNotNull(r, bundle + ": no row for " + name);
            assertNull(r.getAs("error"), bundle + " " + name);
            String text = r.getAs("text");
            assertTrue(text != null && !text.isBlank(), bundle + " " + name + " has a text");
            assertEquals(s[0], (int) r.<Integer>getAs("width"), bundle + " " + name);
            assertEquals(s[1], (int) r.<Integer>getAs("height"), bundle + " " + name);
        }
    }
}
