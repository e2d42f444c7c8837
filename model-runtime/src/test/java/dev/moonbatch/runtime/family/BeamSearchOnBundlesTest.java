package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.generate.GenerationOptions;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Beam search through a real model: the merged decoder's KV caches are gathered as beams reorder,
 * and on the confident vit-gpt2 test bundle 3 beams find the true captions as greedy does.
 */
class BeamSearchOnBundlesTest {
    @Test
    void threeBeamsCaptionTheHeldOutSetOnVitGpt2() throws Exception {
        Path root = ReferenceRunner.root();
        Path heldout = root.resolve("sample-data/heldout");
        Map<String, String> truth = new HashMap<>();
        for (String line : Files.readAllLines(heldout.resolve("captions.csv")).subList(1, 31)) {
            String[] f = line.split(",", 2);
            truth.put(f[0], f[1]);
        }
        try (VisionLanguageModel model = ModelLoader.load(root.resolve("sample-data/models/vit-gpt2-tiny"), RuntimeOptions.defaults())) {
            List<String> files = new ArrayList<>(truth.keySet());
            List<Query> queries = new ArrayList<>();
            for (String f : files) {
                PreparedImage image = model.prepare(ImageIO.read(heldout.resolve("images").resolve(f).toFile()));
                queries.add(new Query(image, Task.caption()));
            }
            GenerationOptions greedy = model.options(20);
            GenerationOptions beams = greedy.withNumBeams(3).withNoRepeatNgramSize(3);
            List<Generation> g = new ArrayList<>();
            List<Generation> b = new ArrayList<>();
            for (int from = 0; from < queries.size(); from += 8) {
                List<Query> batch = queries.subList(from, Math.min(from + 8, queries.size()));
                g.addAll(model.generate(batch, greedy));
                b.addAll(model.generate(batch, beams));
            }
            int right = 0;
            for (int i = 0; i < files.size(); i++) {
                if (truth.get(files.get(i)).equals(b.get(i).text())) {
                    right++;
                }
                assertEquals(g.get(i).text(), b.get(i).text(), files.get(i) + ": a confident model's best beam is its greedy path");
            }
            System.out.printf("vit-gpt2-tiny, 3 beams: %d/%d captions right%n", right, files.size());
            assertTrue(right >= files.size() * 0.95);
        }
    }

    /**
     * Florence-2 with its own generation config (3 beams, no repeated 3-gram, forced BOS/EOS): a batch
     * that mixes images and tasks gives each query exactly what it gets alone. Beams reorder, repeat and
     * leave, so the self-attention cache, the cross-attention cache (kept from the first step) and the
     * encoder_hidden_states / encoder_attention_mask rows must all be gathered with them.
     */
    @Test
    void florence2BeamsInAMixedBatchEqualEachQueryAlone() throws Exception {
        Path root = ReferenceRunner.root();
        Path heldout = root.resolve("sample-data/heldout-florence2");
        List<String> lines = Files.readAllLines(heldout.resolve("answers.csv"));
        try (VisionLanguageModel model = ModelLoader.load(root.resolve("sample-data/models/florence2-tiny"), RuntimeOptions.defaults())) {
            GenerationOptions options = model.options(20);
            assertEquals(3, options.numBeams(), "the bundle's generation_config asks for 3 beams");
            Map<String, PreparedImage> images = new HashMap<>();
            List<Query> queries = new ArrayList<>();
            List<String> answers = new ArrayList<>();
            // Every 7th row: captions of all three kinds and OCR, in mixed order.
            for (int i = 1; i < lines.size(); i += 7) {
                String[] f = lines.get(i).split(",", 3);
                PreparedImage image = images.get(f[0]);
                if (image == null) {
                    image = model.prepare(ImageIO.read(heldout.resolve(f[0]).toFile()));
                    images.put(f[0], image);
                }
                queries.add(new Query(image, new Task(f[1].equals("<OCR>") ? Task.OCR : Task.CAPTION, f[1])));
                answers.add(f[2]);
            }
            List<Generation> batched = model.generate(queries, options);
            int right = 0;
            for (int i = 0; i < queries.size(); i++) {
                Generation alone = model.generate(List.of(queries.get(i)), options).get(0);
                assertEquals(java.util.Arrays.toString(alone.tokenIds()), java.util.Arrays.toString(batched.get(i).tokenIds()),
                        "query " + i + " (" + queries.get(i).task().prompt() + ") batched vs alone");
                if (answers.get(i).equals(batched.get(i).text())) {
                    right++;
                }
            }
            System.out.printf("florence2-tiny, 3 beams, mixed batch of %d: %d right, each equal to its run alone%n",
                    queries.size(), right);
            assertTrue(right >= queries.size() * 0.9, right + "/" + queries.size());
        }
    }
}
