package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.generate.GenerationOptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Prompts of different lengths decoded as one left-padded batch give exactly the ids each gives
 * alone, with both prefill strategies (one padded call; one call per length with padded caches),
 * while rows that finish early leave the batch; moondream2's and BLIP-2's images are vision-encoded
 * in one run for the batch.
 */
class BatchedDecodingTest {
    static final int MAX_NEW_TOKENS = 12;

    @ParameterizedTest
    @ValueSource(strings = {"smolvlm-tiny", "moondream2-tiny", "blip2-tiny"})
    void batchedIdsEqualOneAtATimeIds(String bundleName) throws Exception {
        Path root = ReferenceRunner.root();
        Path heldout = root.resolve("sample-data/heldout-vqa");
        List<String> lines = Files.readAllLines(heldout.resolve("questions.csv"));
        // the first 6 images with a caption prompt and their questions, in an interleaved order
        List<String[]> picked = new ArrayList<>();
        for (String line : lines.subList(1, 25)) {
            String[] f = line.split(",", 3);
            picked.add(new String[] {f[0], f[1].isEmpty() ? "Describe this image." : f[1]});
        }
        try (VisionLanguageModel model = ModelLoader.load(root.resolve("sample-data/models/" + bundleName),
                RuntimeOptions.defaults())) {
            DecoderOnlyVlm vlm = (DecoderOnlyVlm) model;
            Map<String, PreparedImage> images = new LinkedHashMap<>();
            List<Query> queries = new ArrayList<>();
            for (int i = 0; i < picked.size(); i += 3) { // every third row: a mix of prompts and images
                String[] q = picked.get(i);
                PreparedImage image = images.get(q[0]);
                if (image == null) {
                    image = model.prepare(ImageIO.read(heldout.resolve(q[0]).toFile()));
                    images.put(q[0], image);
                }
                queries.add(new Query(image, new Task("query", q[1])));
            }
            Set<Integer> promptLengths = new HashSet<>();
            for (Query q : queries) {
                promptLengths.add(vlm.promptIds(q.task().prompt(), q.image()).length);
            }
            assertTrue(promptLengths.size() >= 2, "the batch must mix prompt lengths: " + promptLengths);

            GenerationOptions options = model.options(MAX_NEW_TOKENS);
            List<long[]> alone = new ArrayList<>();
            for (Query q : queries) {
                alone.add(model.generate(List.of(q), options).get(0).tokenIds());
            }
            Set<Integer> generatedLengths = new HashSet<>();
            boolean someEos = false;
            for (long[] ids : alone) {
                generatedLengths.add(ids.length);
                someEos |= ids.length < MAX_NEW_TOKENS && options.eosTokenIds().contains(ids[ids.length - 1]);
            }
            assertTrue(someEos && generatedLengths.size() >= 2,
                    "some rows must finish before others (lengths " + generatedLengths + ")");

            for (boolean padPrefill : new boolean[] {false, true}) {
                long callsBefore = vlm.visionCalls();
                List<Generation> batched = vlm.generate(queries, options, padPrefill);
                if (vlm instanceof FixedSizeVlm) {
                    // first: every image but the one the previous call had, stacked into one encoder run;
                    // then none (this thread's previous call had them all)
                    assertEquals(padPrefill ? 0 : 1, vlm.visionCalls() - callsBefore,
                            bundleName + ": vision runs for " + images.size() + " images");
                }
                for (int i = 0; i < queries.size(); i++) {
                    assertEquals(Arrays.toString(alone.get(i)), Arrays.toString(batched.get(i).tokenIds()),
                            bundleName + " query " + i + " '" + queries.get(i).task().prompt() + "' (padPrefill "
                                    + padPrefill + ")");
                }
            }
        }
    }
}
