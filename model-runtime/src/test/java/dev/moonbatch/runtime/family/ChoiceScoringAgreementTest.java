package dev.moonbatch.runtime.family;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moonbatch.runtime.ChoiceQuery;
import dev.moonbatch.runtime.ChoiceScores;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A property test of closed-choice scoring on the decoder-only test bundles: seeded random choice
 * lists (words the model knows and words it does not, choices that share a prefix such as
 * {@code red} / {@code red box} / {@code reddish}, multi-token choices, one to eight choices) about
 * random held-out images. For every case the value is one of the choices and each choice's score
 * (sum of its tokens' log-probs after the prompt, EOS included; KV cache shared, choices batched)
 * equals transformers.js 4.3.1's teacher-forced log-probs of the same sequence
 * ({@code tools/reference/vlm-score.mjs}: a full forward pass per choice, no cache) within 1e-4.
 * The cases are scored in one call (prompts of several images and questions batched) and the first
 * few one by one, which must give the same scores.
 */
class ChoiceScoringAgreementTest {
    static final double TOL = 1e-4;
    private static final List<String> WORDS = List.of("red", "green", "blue", "yellow", "orange", "black", "white", "purple",
            "mug", "ball", "box", "bottle", "star", "wooden", "grey", "one", "two", "three", "reddish", "redwood", "bluebell",
            "dark", "light", "navy", "teal", "magenta", "x", "cardboard", "stainless steel", "yes", "no");
    private static final List<String> QUESTIONS = List.of("What colour is the object?", "What shape is the object?",
            "What is the background?", "How many objects are there?", "Is there text on it?");

    @ParameterizedTest
    @CsvSource({"smolvlm-tiny,smolvlm,101", "moondream2-tiny,moondream2,202"})
    void scoresEqualTransformersJsTeacherForcedLogProbs(String bundleName, String family, long seed) throws Exception {
        ReferenceRunner.assumeInstalled();
        Path root = ReferenceRunner.root();
        Path bundle = root.resolve("sample-data/models/" + bundleName);
        Path images = root.resolve("sample-data/heldout-vqa/images");
        List<Path> files;
        try (var list = Files.list(images)) {
            files = list.sorted().toList();
        }
        Random rng = new Random(seed);
        int cases = 24;
        List<Path> caseImage = new ArrayList<>();
        List<String> caseQuestion = new ArrayList<>();
        List<List<String>> caseChoices = new ArrayList<>();
        for (int i = 0; i < cases; i++) {
            caseImage.add(files.get(rng.nextInt(Math.min(8, files.size()))));
            caseQuestion.add(QUESTIONS.get(rng.nextInt(QUESTIONS.size())));
            caseChoices.add(randomChoices(rng));
        }
        ObjectMapper json = new ObjectMapper();
        ArrayNode spec = json.createArrayNode();
        for (int i = 0; i < cases; i++) {
            ObjectNode c = spec.addObject();
            c.putArray("images").add(caseImage.get(i).toString());
            c.put("question", caseQuestion.get(i));
            ArrayNode ch = c.putArray("choices");
            caseChoices.get(i).forEach(ch::add);
        }
        Path file = Files.createTempFile("moonbatch-choices", ".json");
        Files.writeString(file, json.writeValueAsString(spec));
        JsonNode expected = ReferenceRunner.run("vlm-score.mjs", "--model", bundle.toString(), "--family", family,
                "--cases", file.toString(), "--image-tokens", String.valueOf(imageTokens(bundle)));
        assertEquals(cases, expected.size());

        double worst = 0;
        int multiToken = 0;
        try (VisionLanguageModel model = ModelLoader.load(bundle, RuntimeOptions.defaults())) {
            DecoderOnlyVlm vlm = (DecoderOnlyVlm) model;
            Map<Path, PreparedImage> prepared = new HashMap<>();
            List<ChoiceQuery> queries = new ArrayList<>();
            for (int i = 0; i < cases; i++) {
                PreparedImage p = prepared.get(caseImage.get(i));
                if (p == null) {
                    p = model.prepare(ImageIO.read(caseImage.get(i).toFile()));
                    prepared.put(caseImage.get(i), p);
                }
                queries.add(new ChoiceQuery(p, new Task(Task.QUERY, caseQuestion.get(i)), caseChoices.get(i)));
            }
            long encodedBefore = model.imagesEncoded();
            List<ChoiceScores> all = model.score(queries);
            assertEquals(prepared.size(), model.imagesEncoded() - encodedBefore, "each distinct image encoded once");
            for (int i = 0; i < cases; i++) {
                ChoiceScores s = all.get(i);
                JsonNode ref = expected.get(i);
                List<String> choices = caseChoices.get(i);
                assertTrue(choices.contains(s.value()), "value '" + s.value() + "' is one of " + choices);
                assertEquals(choices, s.choices());
                double p = Arrays.stream(s.probabilities()).sum();
                assertEquals(1.0, p, 1e-9, "softmax over the choices sums to 1");
                assertTrue(s.confidence() >= 1.0 / choices.size() - 1e-12, "the best choice has at least an even share");
                for (int c = 0; c < choices.size(); c++) {
                    long[] ours = vlm.choiceIds(choices.get(c));
                    long[] theirs = ReferenceRunner.tokenIds(json.createObjectNode().set("token_ids", ref.get("choice_ids").get(c)));
                    assertArrayEquals(theirs, ours, "tokens of '" + choices.get(c) + "'");
                    multiToken += ours.length > 2 ? 1 : 0;
                    double want = ref.get("log_probs").get(c).asDouble();
                    worst = Math.max(worst, Math.abs(want - s.logProbs()[c]));
                    assertEquals(want, s.logProbs()[c], TOL, "case " + i + " '" + caseQuestion.get(i) + "' choice '"
                            + choices.get(c) + "' of " + choices);
                }
                int refBest = 0;
                for (int c = 1; c < choices.size(); c++) {
                    if (ref.get("log_probs").get(c).asDouble() > ref.get("log_probs").get(refBest).asDouble()) {
                        refBest = c;
                    }
                }
                double margin = Math.abs(ref.get("log_probs").get(refBest).asDouble() - s.logProbs()[s.bestIndex()]);
                if (margin > 2 * TOL || refBest == s.bestIndex()) {
                    assertEquals(choices.get(refBest), s.value(), "case " + i + ": the reference's best choice");
                }
            }
            // one query per call (no batching across prompts) gives the same scores
            for (int i = 0; i < 4; i++) {
                ChoiceScores alone = model.score(List.of(queries.get(i))).get(0);
                for (int c = 0; c < alone.logProbs().length; c++) {
                    assertEquals(all.get(i).logProbs()[c], alone.logProbs()[c], TOL, "case " + i + " alone vs batched");
                }
            }
        }
        assertTrue(multiToken > 5, "multi-token choices were scored: " + multiToken);
        System.out.printf("%s choice scoring vs transformers.js: %d cases, max |delta log-prob| %.2e%n", bundleName, cases, worst);
    }

    /** 1 to 8 distinct choices; often some that share a prefix with another, and multi-word ones. */
    static List<String> randomChoices(Random rng) {
        int n = 1 + rng.nextInt(8);
        Set<String> out = new LinkedHashSet<>();
        while (out.size() < n) {
            String w = WORDS.get(rng.nextInt(WORDS.size()));
            switch (rng.nextInt(4)) {
                case 0 -> out.add(w + " " + WORDS.get(rng.nextInt(WORDS.size())));
                case 1 -> {
                    out.add(w);
                    if (out.size() < n) {
                        out.add(w + " " + WORDS.get(rng.nextInt(WORDS.size())));
                    }
                }
                default -> out.add(w);
            }
        }
        return new ArrayList<>(out);
    }

    private static int imageTokens(Path bundle) throws Exception {
        try (OrtSession vision = OrtEnvironment.getEnvironment().createSession(
                bundle.resolve("onnx/vision_encoder.onnx").toString(), new OrtSession.SessionOptions())) {
            long[] shape = ((TensorInfo) vision.getOutputInfo().values().iterator().next().getInfo()).getShape();
            return (int) shape[1];
        }
    }
}
