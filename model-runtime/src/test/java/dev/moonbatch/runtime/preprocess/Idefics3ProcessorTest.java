package dev.moonbatch.runtime.preprocess;

import dev.moonbatch.runtime.text.ChatTemplate;
import dev.moonbatch.runtime.text.SpecialTokens;
import dev.moonbatch.runtime.text.TextTokenizer;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The processor's arithmetic and prompt on SmolVLM-256M's real configs, without the Node reference. */
class Idefics3ProcessorTest {
    static Path configs() throws Exception {
        return Path.of(Idefics3ProcessorTest.class.getResource("/smolvlm-256m-configs/tokenizer.json").toURI()).getParent();
    }

    @Test
    void configComesFromTheFiles() throws Exception {
        Idefics3Processor.Config c = Idefics3Processor.load(configs()).config();
        assertEquals(2048, c.longestEdge());
        assertEquals(512, c.tileSize());
        assertEquals(64, c.imageSeqLen());
        assertEquals(1, c.resample());
        assertTrue(c.doImageSplitting());
    }

    @Test
    void resizeArithmeticIsTransformersJs() {
        // floor(Number((x).toFixed(2))): 545.996 -> "546.00" -> 546 (Python's int() would give 545)
        assertEquals(546, Idefics3Processor.floorToFixed2(545.996));
        assertEquals(545, Idefics3Processor.floorToFixed2(545.994));
        assertArrayEquals(new int[] {2048, 546}, Idefics3Processor.resizeOutputSize(1500, 400, 0, 2048));
        assertArrayEquals(new int[] {438, 2048}, Idefics3Processor.resizeOutputSize(300, 1400, 0, 2048));
        assertArrayEquals(new int[] {2048, 1536}, Idefics3Processor.resizeOutputSize(200, 150, 0, 2048)); // upscales
        assertArrayEquals(new int[] {1024, 2048}, Idefics3Processor.resizeForVisionEncoder(546, 2048, 512));
        assertArrayEquals(new int[] {2048, 512}, Idefics3Processor.resizeForVisionEncoder(2048, 438, 512));
    }

    @Test
    void extremeAspectRatiosKeepAtLeastOnePixelAndOneTile() throws Exception {
        // 6000 * (2048 / 6000) = 2048, 1 * (2048 / 6000) = 0.34: floored to 0 by transformers.js (which then
        // throws in sharp), clamped to 1 as Python transformers' min_len = 1 does.
        assertArrayEquals(new int[] {2048, 1}, Idefics3Processor.resizeOutputSize(6000, 1, 0, 2048));
        assertArrayEquals(new int[] {1, 2048}, Idefics3Processor.resizeOutputSize(1, 6000, 0, 2048));
        assertArrayEquals(new int[] {2048, 4}, Idefics3Processor.resizeOutputSize(6000, 12, 0, 2048)); // floor(4.096)
        // 25088 = 49 tiles of 512, and 25088 * (1.0 / 25088) < 1 in doubles: the floor would be 0 tiles wide.
        assertArrayEquals(new int[] {25088, 512}, Idefics3Processor.resizeForVisionEncoder(25088, 1, 512));
        assertArrayEquals(new int[] {512, 2048}, Idefics3Processor.resizeForVisionEncoder(1, 2048, 512));

        Idefics3Processor p = Idefics3Processor.load(configs());
        Idefics3Processor.Crops row = p.process(new BufferedImage(6000, 1, BufferedImage.TYPE_INT_RGB));
        assertEquals(1, row.rows());
        assertEquals(4, row.cols());
        assertEquals(5, row.crops());
        Idefics3Processor.Crops column = p.process(new BufferedImage(1, 6000, BufferedImage.TYPE_INT_RGB));
        assertEquals(4, column.rows());
        assertEquals(1, column.cols());
        assertEquals(5 * 3 * 512 * 512, column.pixels().length);
    }

    @Test
    void wideImageLayoutAndPrompt() throws Exception {
        Idefics3Processor p = Idefics3Processor.load(configs());
        Idefics3Processor.Crops crops = p.process(new BufferedImage(1500, 400, BufferedImage.TYPE_INT_RGB));
        assertEquals(2, crops.rows());
        assertEquals(4, crops.cols());
        assertEquals(9, crops.crops());
        assertEquals(9 * 3 * 512 * 512, crops.pixels().length);
        String prompt = ChatTemplate.load(configs()).renderUserImageQuestion("What is this?", true);
        assertEquals("<|im_start|>User:<image>What is this?<end_of_utterance>\nAssistant:", prompt);
        String expanded = p.expandPrompt(prompt, List.of(crops));
        assertTrue(expanded.startsWith("<|im_start|>User:<fake_token_around_image><row_1_col_1><image>"));
        assertTrue(expanded.contains("<image><fake_token_around_image><row_2_col_1>") == false);
        assertTrue(expanded.contains("<image>\n<fake_token_around_image><row_2_col_1>"));
        assertTrue(expanded.contains("<image>\n\n<fake_token_around_image><global-img><image>"));
        long imageId = SpecialTokens.read(configs().resolve("tokenizer.json")).require("<image>");
        assertEquals(49190, imageId);
        try (TextTokenizer t = TextTokenizer.load(configs())) {
            long[] ids = t.encode(expanded, true);
            assertEquals(9 * 64, Arrays.stream(ids).filter(id -> id == imageId).count());
        }
    }

    @Test
    void batchPadsWithMaskedZeroCrops() {
        Idefics3Processor.Crops a = new Idefics3Processor.Crops(new float[3 * 3 * 4], 3, 1, 2, 2);
        Arrays.fill(a.pixels(), 1f);
        Idefics3Processor.Crops b = new Idefics3Processor.Crops(new float[3 * 4], 1, 0, 0, 2);
        Idefics3Processor.Batch batch = Idefics3Processor.batch(List.of(a, b));
        assertArrayEquals(new long[] {2, 3, 3, 2, 2}, batch.pixelValuesShape());
        boolean[] mask = batch.pixelAttentionMask();
        assertTrue(mask[0] && mask[11] && mask[12] && mask[15]);
        assertTrue(!mask[16] && !mask[23]);
        assertEquals(0f, batch.pixelValues()[3 * 3 * 4 + 3 * 4]);
    }
}
