package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The BLIP-2 test bundle (sample-data/models/blip2-tiny): the prompt is Blip2Processor's
 * ({@code <image>} × 32, BOS, then the text; ids as transformers.js tokenizes the real tokenizer),
 * and our greedy ids — image features spliced at the {@code <image>} positions, merged decoder with
 * an empty first past — equal the torch model's for every held-out query
 * ({@code src/test/resources/blip2-tiny/torch-heldout.json}, written by make_blip2_bundle.py).
 */
class Blip2BundleTest {
    static final long IMAGE_TOKEN = 50265;
    static final long BOS = 2;
    static VisionLanguageModel model;
    static JsonNode reference;

    @BeforeAll
    static void load() throws IOException {
        model = ModelLoader.load(ReferenceRunner.root().resolve("sample-data/models/blip2-tiny"), RuntimeOptions.defaults());
        reference = new ObjectMapper().readTree(Blip2BundleTest.class.getResource("/blip2-tiny/torch-heldout.json"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Task task(JsonNode row) {
        String q = row.get("question").asText();
        return q.isEmpty() ? new Task(Task.CAPTION, "a photo of") : new Task(Task.QUERY, q);
    }

    static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }

    @Test
    void familyFromModelType() {
        assertInstanceOf(Blip2.class, model);
        assertEquals("blip2", model.family());
    }

    @Test
    void promptIdsAreImageTokensThenBosThenText() {
        Blip2 blip2 = (Blip2) model;
        PreparedImage image = blip2.prepare(new java.awt.image.BufferedImage(40, 30, java.awt.image.BufferedImage.TYPE_INT_RGB));
        assertEquals(120, reference.get("rows").size(), "a caption and three questions for each of 30 images");
        for (JsonNode row : reference.get("rows")) {
            long[] ids = blip2.promptIds(task(row), image);
            assertArrayEquals(longs(row.get("prompt_ids")), ids, "prompt of " + task(row));
        }
        long[] question = blip2.promptIds(new Task(Task.QUERY, "What colour is the object?"), image);
        for (int i = 0; i < 32; i++) {
            assertEquals(IMAGE_TOKEN, question[i], "position " + i);
        }
        assertEquals(BOS, question[32]);
        assertEquals("Question: What colour is the object? Answer:",
                Blip2.promptText(new Task(Task.QUERY, " What colour is the object? ")));
        assertEquals("a photo of", Blip2.promptText(new Task(Task.CAPTION, "a photo of")), "caption prompts are used as they are");
        long[] unprompted = blip2.promptIds(new Task(Task.CAPTION, ""), image);
        assertEquals(33, unprompted.length, "an empty caption prompt is the image tokens and BOS, as generate() builds it");
        assertEquals(BOS, unprompted[32]);
    }

    @Test
    void greedyIdsEqualTorchOnEveryHeldOutQuery() throws Exception {
        Path heldout = ReferenceRunner.root().resolve("sample-data/heldout-vqa");
        Map<String, PreparedImage> images = new LinkedHashMap<>();
        List<Query> queries = new ArrayList<>();
        JsonNode rows = reference.get("rows");
        for (JsonNode row : rows) {
            PreparedImage image = images.computeIfAbsent(row.get("image_path").asText(), k -> {
                try {
                    return model.prepare(ImageIO.read(heldout.resolve(k).toFile()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            queries.add(new Query(image, task(row)));
        }
        long encodedBefore = model.imagesEncoded();
        List<Generation> out = new ArrayList<>();
        for (int from = 0; from < queries.size(); from += 16) {
            out.addAll(model.generate(queries.subList(from, Math.min(from + 16, queries.size())), model.options(16)));
        }
        int equal = 0;
        for (int i = 0; i < rows.size(); i++) {
            long[] want = longs(rows.get(i).get("generated_ids"));
            if (Arrays.equals(want, out.get(i).tokenIds())) {
                equal++;
            } else {
                System.out.println("blip2-tiny differs: " + rows.get(i) + " got " + Arrays.toString(out.get(i).tokenIds()));
            }
        }
        System.out.printf("blip2-tiny: greedy ids equal torch's for %d/%d held-out queries%n", equal, rows.size());
        assertEquals(rows.size(), equal, "greedy ids equal torch's for every query");
        assertEquals(images.size(), model.imagesEncoded() - encodedBefore,
                "each image encoded once for its caption and questions (4 queries per image, 16 per batch)");
    }
}
