package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.bundle.PreprocessorConfig;
import dev.moonbatch.runtime.preprocess.Idefics3Processor;
import dev.moonbatch.runtime.preprocess.PilResize;
import dev.moonbatch.runtime.preprocess.SharpResize;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * {@link ExtremeAspectTest#SHAPES} as PNG files for the token-agreement tests: each image, and the
 * file transformers.js reads for it. That is the image itself where our first resize is the
 * reference's (moondream2; SmolVLM where its sizes are positive). Otherwise the reference reads a
 * stand-in, the image already resized as we resize it, which transformers.js leaves as it is, so
 * it goes on from exactly our pixels:
 * <ul>
 *   <li>SmolVLM where transformers.js 4.3.1 floors the short side to 0 pixels and throws (e.g.
 *       6000x12 at longest edge 128: 12 * 128 / 6000 = 0.26): we clamp it to 1 as Python
 *       transformers does and resize with sharp's lanczos3 ({@link SharpResize}, byte-exact);</li>
 *   <li>vit-gpt2 and Florence-2, which resize as Python transformers does, with Pillow
 *       ({@link PilResize}, byte-exact to Pillow on these shapes too: PilResizeTest). transformers.js
 *       resizes with sharp's affine instead (corner-aligned, no antialiasing, black beyond the
 *       last row and column), so on a 1000:1 image the two resizes, and the captions, differ.</li>
 * </ul>
 */
final class ExtremeImages {
    private ExtremeImages() {
    }

    /** One test image: what we read, and what the reference reads. */
    record Image(Path ours, Path reference) {
    }

    /** Every shape, read as it is by both sides (moondream2). */
    static List<Image> write(Path dir) throws IOException {
        return write(dir, img -> null);
    }

    /** For SmolVLM's {@code processor}: stand-ins where transformers.js would throw. */
    static List<Image> forSmolVlm(Path dir, Idefics3Processor processor) throws IOException {
        Idefics3Processor.Config config = processor.config();
        return write(dir, img -> {
            int w = img.getWidth();
            int h = img.getHeight();
            // transformers.js's floor(Number((side * f).toFixed(2))) is 0 below 0.995.
            double shortSide = (double) Math.min(w, h) * config.longestEdge() / Math.max(w, h);
            if (!config.doResize() || shortSide >= 0.995) {
                return null;
            }
            int[] size = processor.resizedSize(w, h);
            return image(SharpResize.resize(img.getRGB(0, 0, w, h, null, 0, w), w, h, size[0], size[1],
                    config.resample()), size[0], size[1]);
        });
    }

    /** For a fixed-size family resizing with Pillow: every shape as a stand-in Pillow-resized to the model's size. */
    static List<Image> pillowResized(Path dir, PreprocessorConfig config) throws IOException {
        return write(dir, img -> {
            int w = img.getWidth();
            int h = img.getHeight();
            return image(PilResize.resize(img.getRGB(0, 0, w, h, null, 0, w), w, h, config.width(), config.height(),
                    config.resample()), config.width(), config.height());
        });
    }

    /** {@code standIn}: the image the reference reads instead, or null for the image itself. */
    private static List<Image> write(Path dir, UnaryOperator<BufferedImage> standIn) throws IOException {
        Files.createDirectories(dir.resolve("stand-in"));
        List<Image> out = new ArrayList<>();
        for (int[] s : ExtremeAspectTest.SHAPES) {
            BufferedImage img = ExtremeAspectTest.image(s[0], s[1]);
            Path ours = dir.resolve("extreme-" + s[0] + "x" + s[1] + ".png");
            ImageIO.write(img, "png", ours.toFile());
            Path reference = ours;
            BufferedImage replacement = standIn.apply(img);
            if (replacement != null) {
                reference = dir.resolve("stand-in").resolve(ours.getFileName());
                ImageIO.write(replacement, "png", reference.toFile());
            }
            out.add(new Image(ours, reference));
        }
        return out;
    }

    private static BufferedImage image(int[] rgb, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }
}
