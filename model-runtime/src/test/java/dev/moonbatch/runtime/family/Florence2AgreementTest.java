package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.ModelBundle;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our greedy token ids against transformers.js 4.3.1 (tools/reference/florence2-generate.mjs) on the
 * Florence-2 test bundle: every held-out image and task (three caption tasks, OCR) and each
 * extreme-aspect image ({@link ExtremeImages}: the reference reads it Pillow-resized as we resize
 * it) captioned and read, the bundle's
 * generation config (forced BOS/EOS, no_repeat_ngram_size 3) with one beam. Ours runs the queries in
 * mixed batches, so rows leave the batch at different steps and both caches are gathered.
 */
class Florence2AgreementTest {
    static final int MAX_NEW_TOKENS = 20;

    @Test
    void greedyTokenIdsMatchTransformersJs() throws Exception {
        ReferenceRunner.assumeInstalled();
        Path root = ReferenceRunner.root();

        Path bundle = root.resolve("sample-data/models/florence2-tiny");
        Path heldout = root.resolve("sample-data/heldout-florence2");
        // Each query: the image we read, the task, the image transformers.js reads (for an extreme
        // shape its Pillow-resized stand-in).
        List<String[]> queries = new ArrayList<>();
        List<String> lines = Files.readAllLines(heldout.resolve("answers.csv"));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", 3);
            String image = heldout.resolve(f[0]).toString();
            queries.add(new String[] {image, f[1], image});
        }
        assertTrue(queries.size() >= 100, "held-out queries: " + queries.size());
        for (ExtremeImages.Image e : ExtremeImages.pillowResized(Files.createTempDirectory("moonbatch-extreme"),
                ModelBundle.open(bundle).preprocessor())) {
            queries.add(new String[] {e.ours().toString(), "<CAPTION>", e.reference().toString()});
            queries.add(new String[] {e.ours().toString(), "<OCR>", e.reference().toString()});
        }
        Path csv = Files.createTempFile("moonbatch-florence2", ".csv");
        StringBuilder sb = new StringBuilder("image_path,task\n");
        queries.forEach(q -> sb.append(q[2]).append(',').append(q[1]).append('\n'));
        Files.writeString(csv, sb);

        JsonNode expected = ReferenceRunner.run("florence2-generate.mjs",
                "--model", bundle.toString(), "--queries", csv.toString(),
                "--max-new-tokens", String.valueOf(MAX_NEW_TOKENS));
        assertEquals(queries.size(), expected.size());

        List<Generation> ours = new ArrayList<>();
        try (VisionLanguageModel model = ModelLoader.load(bundle, RuntimeOptions.defaults())) {
            assertEquals("florence2", model.family());
            Map<String, PreparedImage> images = new LinkedHashMap<>();
            List<Query> all = new ArrayList<>();
            for (String[] q : queries) {
                PreparedImage image = images.get(q[0]);
                if (image == null) {
                    image = model.prepare(ImageIO.read(Path.of(q[0]).toFile()));
                    images.put(q[0], image);
                }
                all.add(new Query(image, new Task(q[1].equals("<OCR>") ? Task.OCR : Task.CAPTION, q[1])));
            }
            var options = model.options(MAX_NEW_TOKENS).withNumBeams(1);
            // Interleave tasks so that each batch mixes prompt lengths and answer lengths.
            List<Integer> order = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                for (int i = k; i < all.size(); i += 4) {
                    order.add(i);
                }
            }
            Generation[] byQuery = new Generation[all.size()];
            for (int from = 0; from < order.size(); from += 12) {
                List<Integer> slice = order.subList(from, Math.min(from + 12, order.size()));
                List<Generation> got = model.generate(slice.stream().map(all::get).toList(), options);
                for (int j = 0; j < slice.size(); j++) {
                    byQuery[slice.get(j)] = got.get(j);
                }
            }
            ours.addAll(Arrays.asList(byQuery));
        }
        int agree = 0;
        List<String> disagreements = new ArrayList<>();
        for (int i = 0; i < queries.size(); i++) {
            long[] ref = ReferenceRunner.tokenIds(expected.get(i));
            if (Arrays.equals(ref, ours.get(i).tokenIds())) {
                agree++;
                assertEquals(expected.get(i).get("text").asText().strip(), ours.get(i).text(), "text of " + queries.get(i)[0]);
            } else {
                disagreements.add(Path.of(queries.get(i)[0]).getFileName() + " " + queries.get(i)[1] + ": ours "
                        + Arrays.toString(ours.get(i).tokenIds()) + " transformers.js " + Arrays.toString(ref));
            }
        }
        System.out.printf("florence2-tiny transformers.js agreement: %d/%d queries token-for-token%n", agree, queries.size());
        assertEquals(List.of(), disagreements);
    }
}
