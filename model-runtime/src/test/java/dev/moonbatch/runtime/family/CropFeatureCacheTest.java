package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.VisionLanguageModel;
import org.junit.jupiter.api.Test;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * SmolVLM encodes each distinct crop once: flat background tiles of one image, and of later images,
 * come from the crop cache, and the features are the ones encoding every crop gives.
 */
class CropFeatureCacheTest {

    /** A white square image (smolvlm-tiny: 128 px → 2 × 2 tiles of 64 px + a global view) with one coloured corner. */
    private static BufferedImage whiteWithCorner(Color color, boolean topLeft) {
        BufferedImage image = new BufferedImage(128, 128, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 128, 128);
        g.setColor(color);
        g.fillRect(topLeft ? 4 : 88, topLeft ? 4 : 88, 36, 36);
        g.dispose();
        return image;
    }

    @Test
    void flatTilesAreEncodedOnceAndGiveTheFeaturesOfAFullEncoding() throws Exception {
        try (VisionLanguageModel model = ModelLoader.load(
                ReferenceRunner.root().resolve("sample-data/models/smolvlm-tiny"), RuntimeOptions.defaults())) {
            SmolVlm smol = (SmolVlm) model;
            SmolVlm.Tiles first = (SmolVlm.Tiles) smol.prepare(whiteWithCorner(Color.RED, true));
            assertEquals(5, first.crops().crops(), "2 x 2 tiles + the global view");

            float[] cached = smol.encode(first);
            // crops: the red tile, three equal white tiles, the global view
            assertEquals(5, smol.cropsSeen());
            assertEquals(3, smol.cropsEncoded());
            float[] full = smol.encodeCrops(first.crops());
            assertEquals(full.length, cached.length);
            float maxDiff = 0;
            for (int i = 0; i < full.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(full[i] - cached[i]));
            }
            assertEquals(0f, maxDiff, 1e-5f, "crop cache features vs every crop encoded");

            SmolVlm.Tiles second = (SmolVlm.Tiles) smol.prepare(whiteWithCorner(Color.BLUE, false));
            float[] again = smol.encode(second);
            // three white tiles from the cache; the blue tile and the global view are new
            assertEquals(10, smol.cropsSeen());
            assertEquals(5, smol.cropsEncoded());
            int perCrop = again.length / 5;
            float[] whiteTile = java.util.Arrays.copyOfRange(cached, perCrop, 2 * perCrop);
            assertArrayEquals(whiteTile, java.util.Arrays.copyOfRange(again, 0, perCrop), "the cached white tile");
            float[] blue = java.util.Arrays.copyOfRange(again, 3 * perCrop, 4 * perCrop);
            assertNotEquals(java.util.Arrays.hashCode(whiteTile), java.util.Arrays.hashCode(blue));
        }
    }

    @Test
    void keysFollowContentAndTheLeastRecentlyUsedEntryGoesFirst() {
        float[] pixels = {1, 2, 3, 1, 2, 3, 1, 2, 4};
        assertEquals(CropFeatureCache.key(pixels, 0, 3), CropFeatureCache.key(pixels, 3, 3));
        assertNotEquals(CropFeatureCache.key(pixels, 0, 3), CropFeatureCache.key(pixels, 6, 3));

        CropFeatureCache cache = new CropFeatureCache(10);
        float[] a = new float[4];
        float[] b = new float[4];
        cache.put("a", a);
        cache.put("b", b);
        assertSame(a, cache.get("a"));      // a is now the most recently used
        cache.put("c", new float[4]);       // 12 floats > 10: b, the least recently used, goes
        assertNull(cache.get("b"));
        assertNotNull(cache.get("a"));
        assertNotNull(cache.get("c"));
        cache.put("huge", new float[11]);   // larger than the whole cache: not kept
        assertNull(cache.get("huge"));
        assertNotNull(cache.get("a"));
    }
}
