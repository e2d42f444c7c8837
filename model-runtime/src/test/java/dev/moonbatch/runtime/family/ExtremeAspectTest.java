package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.bundle.PreprocessorConfig;
import dev.moonbatch.runtime.preprocess.Idefics3Processor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Valid images of 1000:1 and more, either way (6000x12, 12x6000, 1xN, Nx1, 3x5000, a single pixel),
 * on every family's committed test bundle: preprocessing gives the encoder's shapes with finite
 * values, and {@code generate} returns a generation for each. SmolVLM's aspect-preserving resize
 * used to round the short side to 0 pixels here and fail with {@code / by zero}.
 * Pixel-exactness against transformers.js is the agreement tests' job
 * ({@code Idefics3ProcessorAgreementTest}, {@code SharpResizeAgreementTest}).
 */
class ExtremeAspectTest {
    /** width x height. */
    static final int[][] SHAPES = {{6000, 12}, {12, 6000}, {1, 2000}, {2000, 1}, {3, 5000}, {5000, 3},
            {1, 6000}, {6000, 1}, {1, 1}};
    static final int MAX_NEW_TOKENS = 6;

    /** Deterministic noise, so that no family sees a flat picture it could shortcut. */
    static BufferedImage image(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(31L * w + h);
        int[] rgb = new int[w * h];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = random.nextInt(1 << 24);
        }
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    @ParameterizedTest
    @CsvSource({"vit-gpt2-tiny,''", "smolvlm-tiny,Can you describe this image?", "moondream2-tiny,Describe this image.",
            "blip2-tiny,a photo of", "florence2-tiny,<CAPTION>"})
    void everyShapePreparesAndGenerates(String bundleName, String prompt) throws Exception {
        Path dir = ReferenceRunner.root().resolve("sample-data/models/" + bundleName);
        PreprocessorConfig pre = ModelBundle.open(dir).preprocessor();
        try (VisionLanguageModel model = ModelLoader.load(dir, RuntimeOptions.defaults())) {
            List<Query> queries = new ArrayList<>();
            for (int[] s : SHAPES) {
                String shape = bundleName + " " + s[0] + "x" + s[1];
                PreparedImage prepared = model.prepare(image(s[0], s[1]));
                float[] values = assertShape(prepared, pre, dir, s[0], s[1], shape);
                for (float v : values) {
                    assertTrue(Float.isFinite(v), shape + ": non-finite pixel value");
                }
                queries.add(new Query(prepared, new Task(Task.CAPTION, prompt)));
            }
            List<Generation> generations = model.generate(queries, model.options(MAX_NEW_TOKENS));
            assertEquals(SHAPES.length, generations.size());
            for (int i = 0; i < SHAPES.length; i++) {
                Generation g = generations.get(i);
                String shape = bundleName + " " + SHAPES[i][0] + "x" + SHAPES[i][1];
                assertTrue(g.tokenIds().length > 0, shape + ": no token generated");
                assertFalse(g.text().isBlank(), shape + ": blank text " + Arrays.toString(g.tokenIds()));
                assertTrue(Double.isFinite(g.confidence()), shape + ": confidence " + g.confidence());
            }
        }
    }

    /**
     * PP-OCR (the real weights) on every shape, a blank page and a huge one (past the detector's side
     * limit): a generation each, its text the lines' labels, every box inside its image. Noise has
     * no text to read, so the text may be empty.
     */
    @org.junit.jupiter.api.Test
    void ppocrReadsEveryShape() throws Exception {
        Path dir = PpOcrModels.assumeFetched();
        List<int[]> shapes = new ArrayList<>(Arrays.asList(SHAPES));
        shapes.add(new int[] {4000, 3000});
        try (VisionLanguageModel model = ModelLoader.load(dir, RuntimeOptions.defaults())) {
            List<Query> queries = new ArrayList<>();
            for (int[] s : shapes) {
                queries.add(new Query(model.prepare(image(s[0], s[1])), new Task(Task.OCR, "")));
            }
            queries.add(new Query(model.prepare(new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB)), new Task(Task.OCR, "")));
            List<Generation> generations = model.generate(queries, model.options(1));
            assertEquals(queries.size(), generations.size());
            for (int i = 0; i < shapes.size(); i++) {
                Generation g = generations.get(i);
                int[] s = shapes.get(i);
                assertEquals(String.join("\n", g.regions().stream().map(dev.moonbatch.runtime.Region::label).toList()), g.text());
                for (dev.moonbatch.runtime.Region r : g.regions()) {
                    float[] b = r.box();
                    for (int k = 0; k < 8; k += 2) {
                        assertTrue(b[k] >= 0 && b[k] <= s[0] && b[k + 1] >= 0 && b[k + 1] <= s[1], s[0] + "x" + s[1] + ": " + r);
                    }
                }
            }
            assertEquals("", generations.get(generations.size() - 1).text(), "a black page has no text");
        }
    }

    /** The prepared image's pixel values after checking their layout; returns them. */
    private static float[] assertShape(PreparedImage prepared, PreprocessorConfig pre, Path dir, int w, int h, String shape) {
        if (prepared instanceof SmolVlm.Tiles tiles) {
            Idefics3Processor.Crops crops = tiles.crops();
            Idefics3Processor.Config config = Idefics3Processor.Config.load(dir);
            int tile = config.tileSize();
            assertEquals(tile, crops.tile(), shape);
            assertEquals(crops.crops() * 3 * tile * tile, crops.pixels().length, shape + " pixel count");
            // Resized so that the long side is longest_edge (a multiple of the tile), the short side
            // rounded up to one tile: one strip of tiles plus the global view, or one crop for 1x1.
            int along = config.longestEdge() / tile;
            if (w == h) {
                assertEquals(along * along + 1, crops.crops(), shape + " crops");
            } else {
                assertEquals(w > h ? 1 : along, crops.rows(), shape + " rows");
                assertEquals(w > h ? along : 1, crops.cols(), shape + " cols");
                assertEquals(along + 1, crops.crops(), shape + " crops");
            }
            return crops.pixels();
        }
        float[] values = prepared instanceof FixedSizeVlm.Pixels p ? p.values()
                : prepared instanceof VitGpt2.Pixels p ? p.values()
                : ((Florence2.Pixels) prepared).values();
        assertEquals(3 * pre.width() * pre.height(), values.length, shape + " pixel count");
        return values;
    }
}
