package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moonbatch.runtime.ChoiceQuery;
import dev.moonbatch.runtime.ChoiceScores;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SmolVLM with several photos of one product in one prompt: the Idefics3 chat template with one image
 * block per photo, each photo split on its own (a wide and a near-square photo give different
 * layouts). The prompt's token ids equal transformers.js 4.3.1's processor output for the same two
 * photos ({@code tools/reference/vlm-score.mjs}), and so do the choice scores over them.
 */
class SmolVlmSeveralPhotosTest {
    @Test
    void twoPhotoPromptIdsAndScoresMatchTransformersJs() throws Exception {
        ReferenceRunner.assumeInstalled();
        Path root = ReferenceRunner.root();
        Path bundle = root.resolve("sample-data/models/smolvlm-tiny");
        Path images = root.resolve("sample-data/heldout-vqa/images");
        List<Path> files;
        try (var list = Files.list(images)) {
            files = list.sorted().toList();
        }
        List<List<Path>> products = List.of(List.of(files.get(0), files.get(1)), List.of(files.get(2), files.get(3), files.get(4)));
        List<String> choices = List.of("box", "star", "red", "two boxes");
        ObjectMapper json = new ObjectMapper();
        ArrayNode spec = json.createArrayNode();
        for (List<Path> product : products) {
            ObjectNode c = spec.addObject();
            ArrayNode im = c.putArray("images");
            product.forEach(p -> im.add(p.toString()));
            c.put("question", "What shape is the object?");
            ArrayNode ch = c.putArray("choices");
            choices.forEach(ch::add);
        }
        Path file = Files.createTempFile("moonbatch-photos", ".json");
        Files.writeString(file, json.writeValueAsString(spec));
        JsonNode expected = ReferenceRunner.run("vlm-score.mjs", "--model", bundle.toString(), "--family", "smolvlm",
                "--cases", file.toString());

        try (VisionLanguageModel model = ModelLoader.load(bundle, RuntimeOptions.defaults())) {
            assertTrue(model.takesSeveralImages());
            SmolVlm smol = (SmolVlm) model;
            List<ChoiceQuery> queries = new ArrayList<>();
            for (int i = 0; i < products.size(); i++) {
                List<BufferedImage> photos = new ArrayList<>();
                for (Path p : products.get(i)) {
                    photos.add(ImageIO.read(p.toFile()));
                }
                PreparedImage prepared = model.prepare(photos);
                Task task = new Task(Task.QUERY, "What shape is the object?");
                long[] ours = smol.promptIds(task, prepared);
                long[] theirs = ReferenceRunner.tokenIds(json.createObjectNode().set("token_ids", expected.get(i).get("prompt_ids")));
                assertArrayEquals(theirs, ours, products.get(i).size() + "-photo prompt ids");
                long imagePositions = java.util.Arrays.stream(ours).filter(id -> id == smol.imageTokenId()).count();
                long single = java.util.Arrays.stream(smol.promptIds(task, model.prepare(photos.get(0))))
                        .filter(id -> id == smol.imageTokenId()).count();
                assertTrue(imagePositions > single, "every photo has its image block");
                queries.add(new ChoiceQuery(prepared, task, choices));
                Generation g = model.generate(List.of(new Query(prepared, task)), model.options(8)).get(0);
                assertFalse(g.text().isEmpty(), "the model answers about several photos");
            }
            List<ChoiceScores> scores = model.score(queries);
            for (int i = 0; i < products.size(); i++) {
                for (int c = 0; c < choices.size(); c++) {
                    assertEquals(expected.get(i).get("log_probs").get(c).asDouble(), scores.get(i).logProbs()[c],
                            ChoiceScoringAgreementTest.TOL, "product " + i + " choice " + choices.get(c));
                }
            }
        }
    }

    @Test
    void familiesWithoutAMultiImagePromptRefuseSeveralPhotos() throws Exception {
        Path root = ReferenceRunner.root();
        Path bundle = root.resolve("sample-data/models/moondream2-tiny");
        BufferedImage one = ImageIO.read(root.resolve("sample-data/heldout-vqa/images/vqa_000.png").toFile());
        try (VisionLanguageModel model = ModelLoader.load(bundle, RuntimeOptions.defaults())) {
            assertFalse(model.takesSeveralImages());
            model.prepare(List.of(one)); // one photo is fine
            assertThrows(UnsupportedOperationException.class, () -> model.prepare(List.of(one, one)));
        }
    }
}
