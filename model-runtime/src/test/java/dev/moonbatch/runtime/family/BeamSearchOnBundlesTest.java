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
        Path root = TransformersJsAgreementTest.root();
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
}
