package dev.moonbatch.runtime.preprocess;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SharpResize}'s lanczos, bilinear and bicubic paths against transformers.js 4.3.1's
 * {@code RawImage.resize} in Node (tools/reference/sharp-resize.mjs), byte for byte, on random
 * images scaled up, down and both at once. moondream2's preprocessing rests on the bicubic one.
 */
class SharpResizeAgreementTest {
    @TempDir
    Path tmp;

    /**
     * width, height, target width, target height. The second line: extreme aspect ratios (1000:1
     * either way, one-pixel rows and columns), which moondream2 stretches to its fixed square.
     */
    static final int[][] CASES = {{200, 150, 378, 378}, {460, 200, 378, 378}, {640, 480, 378, 378},
            {97, 33, 378, 378}, {300, 300, 224, 224}, {801, 377, 512, 640},
            {6000, 12, 378, 378}, {12, 6000, 378, 378}, {1, 2000, 378, 378}, {2000, 1, 378, 378},
            {3, 5000, 378, 378}, {5000, 3, 378, 378}, {1, 1, 378, 378},
            // SmolVLM's aspect-kept sizes (longest edge 2048, 1536, or 128 for the tiny bundle):
            // lanczos shrinks by libvips reduce, with a box pre-shrink past 4x, and grows by affine.
            {2600, 1900, 2048, 1496}, {6000, 12, 2048, 4}, {12, 6000, 4, 2048}, {6000, 1, 2048, 1},
            {1, 2000, 1, 2048}, {5000, 3, 1536, 1}, {12, 6000, 3, 1536}, {6000, 12, 128, 1}, {1500, 400, 128, 34}};

    /** PIL codes: 1 lanczos (SmolVLM), 2 bilinear, 3 bicubic (moondream2). */
    static final int[] RESAMPLES = {1, 2, 3};

    @Test
    void everyResampleEqualsSharp() throws Exception {
        Path root = Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize();
        Path reference = root.resolve("tools/reference");
        boolean installed = Files.isDirectory(reference.resolve("node_modules/@huggingface/transformers"));
        if (!installed && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("CI must install tools/reference (npm ci --ignore-scripts) for this test");
        }
        Assumptions.assumeTrue(installed, "transformers.js not installed: run `cd tools/reference && npm ci --ignore-scripts`");

        ObjectMapper json = new ObjectMapper();
        ArrayNode spec = json.createArrayNode();
        Random random = new Random(7);
        List<int[]> pixels = new ArrayList<>();
        for (int i = 0; i < CASES.length; i++) {
            int[] c = CASES[i];
            int[] rgb = new int[c[0] * c[1]];
            for (int p = 0; p < rgb.length; p++) {
                rgb[p] = random.nextInt(1 << 24);
            }
            pixels.add(rgb);
            BufferedImage image = new BufferedImage(c[0], c[1], BufferedImage.TYPE_INT_RGB);
            image.setRGB(0, 0, c[0], c[1], rgb, 0, c[0]);
            Path png = tmp.resolve(i + ".png");
            ImageIO.write(image, "png", png.toFile());
            for (int resample : RESAMPLES) {
                spec.addObject().put("in", png.toString()).put("w", c[2]).put("h", c[3]).put("resample", resample)
                        .put("out", tmp.resolve(i + "-" + resample + ".rgb").toString());
            }
        }
        Path specFile = tmp.resolve("spec.json");
        json.writeValue(specFile.toFile(), spec);
        Process node = new ProcessBuilder("node", reference.resolve("sharp-resize.mjs").toString(), specFile.toString())
                .redirectErrorStream(true).start();
        String log = new String(node.getInputStream().readAllBytes());
        assertTrue(node.waitFor(120, TimeUnit.SECONDS), "node timed out");
        assertEquals(0, node.exitValue(), log);

        for (int i = 0; i < CASES.length; i++) {
            int[] c = CASES[i];
            for (int resample : RESAMPLES) {
                byte[] expected = Files.readAllBytes(tmp.resolve(i + "-" + resample + ".rgb"));
                int[] ours = SharpResize.resize(pixels.get(i), c[0], c[1], c[2], c[3], resample);
                assertEquals(expected.length, ours.length * 3, "size");
                int differing = 0;
                for (int p = 0; p < ours.length; p++) {
                    for (int ch = 0; ch < 3; ch++) {
                        int mine = (ours[p] >> (16 - 8 * ch)) & 0xFF;
                        if (mine != (expected[p * 3 + ch] & 0xFF)) {
                            differing++;
                        }
                    }
                }
                assertEquals(0, differing, c[0] + "x" + c[1] + " -> " + c[2] + "x" + c[3] + " resample " + resample
                        + ": bytes differing from sharp");
            }
        }
    }
}
