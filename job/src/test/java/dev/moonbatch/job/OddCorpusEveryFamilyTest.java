package dev.moonbatch.job;

import dev.moonbatch.io.OddImageCorpus;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every family, through the whole job, over the odd-image corpus plus images of extreme aspect
 * ratio (1×N, N×1, 3×5000, 6000×12, 12×6000): every image that decodes gets a text row; only the
 * broken files get error rows. A family whose preprocessing or prompt building trips on a valid
 * image fails here. PP-OCR (the real weights, {@code --task ocr}) too: its text may be empty (no
 * line found on a flat picture) but never missing.
 */
class OddCorpusEveryFamilyTest {
    @TempDir
    Path tmp;

    private static final int[][] EXTREME = {{1, 700}, {700, 1}, {3, 5000}, {6000, 12}, {12, 6000}};

    @ParameterizedTest
    @ValueSource(strings = {"vit-gpt2-tiny", "smolvlm-tiny", "moondream2-tiny", "blip2-tiny", "florence2-tiny", "ppocr"})
    void everyValidImageGetsText(String bundle) throws Exception {
        Path input = tmp.resolve("in");
        Map<String, OddImageCorpus.Expectation> corpus = OddImageCorpus.writeTo(input);
        List<String> valid = new ArrayList<>(corpus.entrySet().stream().filter(e -> e.getValue().decodes())
                .map(Map.Entry::getKey).toList());
        for (int[] size : EXTREME) {
            String name = "extreme/" + size[0] + "x" + size[1] + ".png";
            BufferedImage img = new BufferedImage(size[0], size[1], BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(Color.RED);
            g.fillRect(0, 0, size[0], size[1]);
            g.dispose();
            Files.createDirectories(input.resolve("extreme"));
            ImageIO.write(img, "png", input.resolve(name).toFile());
            valid.add(name);
        }
        Path out = tmp.resolve("out");
        boolean ocr = bundle.equals("ppocr");
        List<String> args = new ArrayList<>(List.of("--input", input.toString(), "--output", out.toString(),
                "--model", (ocr ? TestPaths.ppocrModel() : TestPaths.root().resolve("sample-data/models").resolve(bundle)).toString(),
                "--master", "local[2]", "--batch-size", "4", "--max-new-tokens", "3"));
        if (ocr) {
            args.addAll(List.of("--task", "ocr"));
        }
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), run.err());

        String prefix = "file:" + input + "/";
        Map<String, Row> byName = new java.util.HashMap<>();
        for (Row r : Outputs.rows(out)) {
            byName.put(r.<String>getAs("image_path").substring(prefix.length()), r);
        }
        List<String> failed = new ArrayList<>();
        for (String name : valid) {
            Row r = byName.get(name);
            String text = r == null ? null : r.getAs("text");
            if (r == null || r.getAs("error") != null || text == null) {
                failed.add(name + " → " + (r == null ? "no row" : r.getAs("error")));
            }
        }
        assertTrue(failed.isEmpty(), bundle + ": valid images without text: " + failed);
        assertEquals(corpus.size() + EXTREME.length, byName.size(), "one row per file");
    }
}
