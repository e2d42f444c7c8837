package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.Region;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Java against the reference, @gutenye/ocr-node 1.4.8 ({@code tools/reference/ppocr.mjs}), on the
 * same images with the same weights: line for line (the n-th line of each, in reading order) the
 * same text on at least 95% of the lines, and each of those lines' four corners within 2 px (the
 * reference's boxes mapped back to the original image's pixels by the runner). Lines are counted
 * over the larger of the two line counts, so a line one side misses counts against it.
 * The images: the OCR samples and a few more shapes (tiny, wide, tall, blank).
 */
class PpOcrAgreementTest {
    static final double MIN_AGREEMENT = 0.95;
    static final double MAX_CORNER_PX = 2.0;

    @Test
    void agreesWithOcrNodeLineForLine(@TempDir Path tmp) throws Exception {
        Path models = PpOcrModels.assumeFetched();
        ReferenceRunner.assumeInstalled("@gutenye/ocr-node");
        List<Path> images;
        try (Stream<Path> files = Files.list(PpOcrModels.samples().resolve("images"))) {
            images = new ArrayList<>(files.sorted().toList());
        }
        images.addAll(shapes(tmp));
        List<String> args = new ArrayList<>(List.of("--models", models.toString()));
        images.forEach(p -> args.add(p.toString()));
        JsonNode reference = ReferenceRunner.run("ppocr.mjs", args.toArray(String[]::new));

        int lines = 0;
        int agree = 0;
        double worstCorner = 0;
        double sumCorner = 0;
        try (VisionLanguageModel ocr = ModelLoader.load(models, new RuntimeOptions(Precision.FP32, 2))) {
            for (int i = 0; i < images.size(); i++) {
                BufferedImage image = ImageIO.read(images.get(i).toFile());
                Generation g = ocr.generate(List.of(new Query(ocr.prepare(image), new Task(Task.OCR, ""))), ocr.options(1)).get(0);
                JsonNode ref = reference.get(i).get("lines");
                int n = Math.max(ref.size(), g.regions().size());
                lines += n;
                for (int k = 0; k < Math.min(ref.size(), g.regions().size()); k++) {
                    Region ours = g.regions().get(k);
                    JsonNode theirs = ref.get(k);
                    double corner = 0;
                    float[] box = ours.box();
                    for (int c = 0; c < 4; c++) {
                        corner = Math.max(corner, Math.hypot(box[2 * c] - theirs.get("box").get(c).get(0).asDouble(),
                                box[2 * c + 1] - theirs.get("box").get(c).get(1).asDouble()));
                    }
                    boolean same = ours.label().equals(theirs.get("text").asText());
                    if (same && corner <= MAX_CORNER_PX) {
                        agree++;
                    }
                    if (same) {
                        worstCorner = Math.max(worstCorner, corner);
                        sumCorner += corner;
                    }
                    if (!same || corner > MAX_CORNER_PX) {
                        System.out.printf("%s line %d: java '%s' vs js '%s', corners %.2f px apart%n",
                                images.get(i).getFileName(), k, ours.label(), theirs.get("text").asText(), corner);
                    }
                }
                if (ref.size() != g.regions().size()) {
                    System.out.printf("%s: java %d lines, js %d%n", images.get(i).getFileName(), g.regions().size(), ref.size());
                }
            }
        }
        double agreement = lines == 0 ? 1 : (double) agree / lines;
        System.out.printf("ppocr agreement: %d of %d lines (%.1f%%) same text with corners within %.0f px; "
                + "same-text lines: worst corner %.2f px, mean %.2f px%n", agree, lines, 100 * agreement, MAX_CORNER_PX,
                worstCorner, agree == 0 ? 0 : sumCorner / agree);
        assertTrue(lines >= 40, "the images have text lines: " + lines);
        assertTrue(agreement >= MIN_AGREEMENT, "agreement " + agreement);
    }

    /** Shapes that test the resize and letterboxing: a small label, a wide strip, a tall one, a blank page. */
    private static List<Path> shapes(Path dir) throws Exception {
        List<Path> out = new ArrayList<>();
        out.add(write(dir, "wide.png", text(900, 60, "WIDE STRIP 123456789", 30)));
        out.add(write(dir, "small.png", text(120, 40, "Tea 2", 20)));
        out.add(write(dir, "tall.png", text(80, 300, "A1", 28)));
        out.add(write(dir, "blank.png", new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB)));
        return out;
    }

    private static BufferedImage text(int w, int h, String s, int size) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        var g = img.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(java.awt.Color.BLACK);
        g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING, java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, size));
        g.drawString(s, 10, h / 2 + size / 3);
        g.dispose();
        return img;
    }

    private static Path write(Path dir, String name, BufferedImage img) throws Exception {
        File f = dir.resolve(name).toFile();
        ImageIO.write(img, "png", f);
        return f.toPath();
    }
}
