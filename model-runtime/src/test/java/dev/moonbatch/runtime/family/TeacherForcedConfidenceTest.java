package dev.moonbatch.runtime.family;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.Generation.FinishReason;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.generate.GenerationOptions;
import dev.moonbatch.runtime.generate.LogitsProcessor;
import dev.moonbatch.runtime.generate.Tensors;
import dev.moonbatch.runtime.preprocess.ImagePreprocessor;
import dev.moonbatch.runtime.text.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runtime's per-token log-probs on the committed tiny bundles against an independent
 * teacher-forced pass: the bundle's own {@code decoder_model_merged.onnx}, opened as a plain ORT
 * session (no hoisting, no {@code MergedDecoder}), run once per sequence on prompt + generated ids
 * without a KV cache ({@code use_cache_branch = false}, empty past), its logits at every position
 * turned into log-probs in double precision. Greedy: processors, then log_softmax; beam search:
 * log_softmax, then processors (transformers' two orders).
 */
class TeacherForcedConfidenceTest {
    private static final double TOL = 1e-3;
    /** The largest |runtime - reference| log-prob difference seen, printed per test. */
    private static double worst;

    /** How the reference turns one position's logits into the chosen token's log-prob. */
    private enum Order { GREEDY, BEAM }

    private static OrtSession open(Path file) throws OrtException {
        return Tensors.env().createSession(file.toString(), new OrtSession.SessionOptions());
    }

    /**
     * Logits [positions][vocab] of one row fed in full without a cache. {@code tokens} (ids or embeds)
     * is fed as {@code tokenInput}; {@code extra} holds per-model inputs (encoder states); past inputs
     * get empty tensors, {@code attention_mask} ones, {@code position_ids} 0..length-1.
     */
    private static float[][] fullForward(OrtSession decoder, String tokenInput, OnnxTensor tokens, int length,
                                         Map<String, OnnxTensor> extra) throws OrtException {
        Map<String, OnnxTensor> feed = new HashMap<>(extra);
        feed.put(tokenInput, tokens);
        List<OnnxTensor> made = new ArrayList<>();
        try {
            for (Map.Entry<String, NodeInfo> e : decoder.getInputInfo().entrySet()) {
                String name = e.getKey();
                if (feed.containsKey(name)) {
                    continue;
                }
                OnnxTensor t;
                if (name.startsWith("past_key_values.")) {
                    t = Tensors.emptyPast(e.getValue(), 1);
                } else if (name.equals("use_cache_branch")) {
                    t = Tensors.bool(false);
                } else if (name.equals("attention_mask")) {
                    t = Tensors.ones(1, length);
                } else if (name.equals("position_ids")) {
                    t = Tensors.positions(1, length, 0);
                } else {
                    throw new AssertionError("the reference pass does not know decoder input '" + name + "' (inputs "
                            + decoder.getInputNames() + ")");
                }
                made.add(t);
                feed.put(name, t);
            }
            try (OrtSession.Result result = decoder.run(feed)) {
                OnnxTensor logits = (OnnxTensor) result.get("logits").orElseThrow();
                long[] shape = logits.getInfo().getShape();
                assertEquals(length, shape[1], "logits at every position");
                FloatBuffer all = logits.getFloatBuffer();
                float[][] out = new float[length][(int) shape[2]];
                for (float[] row : out) {
                    all.get(row);
                }
                return out;
            }
        } finally {
            made.forEach(OnnxTensor::close);
        }
    }

    /**
     * The reference log-prob of each generated token: {@code logits[firstRow + k]} is the distribution
     * that chose {@code generated[k]}; {@code prompt} is the context the processors see before it.
     */
    private static double[] reference(float[][] logits, int firstRow, long[] prompt, long[] generated,
                                      GenerationOptions options, Order order) {
        List<LogitsProcessor> processors = LogitsProcessor.of(options);
        double[] out = new double[generated.length];
        for (int k = 0; k < generated.length; k++) {
            float[] row = logits[firstRow + k].clone();
            long[] context = Arrays.copyOf(prompt, prompt.length + k);
            System.arraycopy(generated, 0, context, prompt.length, k);
            int token = (int) generated[k];
            if (order == Order.GREEDY) {
                for (LogitsProcessor p : processors) {
                    p.process(context, k, row);
                }
                out[k] = row[token] - logSumExp(row);
            } else {
                double logSum = logSumExp(row);
                for (int t = 0; t < row.length; t++) {
                    row[t] = (float) (row[t] - logSum);
                }
                for (LogitsProcessor p : processors) {
                    p.process(context, k, row);
                }
                out[k] = row[token];
            }
        }
        return out;
    }

    private static double logSumExp(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : row) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : row) {
            sum += Math.exp(x - max);
        }
        return max + Math.log(sum);
    }

    /** Compares one generation with its reference; returns 1 when it ended on EOS. */
    private static int check(Generation g, double[] expected, GenerationOptions options, String what) {
        long[] ids = g.tokenIds();
        assertTrue(ids.length > 0, what + ": nothing generated");
        assertEquals(ids.length, g.tokenLogProbs().length, what);
        double sum = 0;
        double min = Double.POSITIVE_INFINITY;
        for (int k = 0; k < ids.length; k++) {
            worst = Math.max(worst, Math.abs(expected[k] - g.tokenLogProbs()[k]));
            assertEquals(expected[k], g.tokenLogProbs()[k], TOL, what + " token " + k + " (id " + ids[k] + ") of "
                    + Arrays.toString(ids) + ": runtime " + Arrays.toString(g.tokenLogProbs()) + ", reference "
                    + Arrays.toString(expected));
            sum += expected[k];
            min = Math.min(min, expected[k]);
        }
        double confidence = Math.exp(sum / ids.length);
        assertEquals(confidence, g.confidence(), TOL * confidence, what + ": confidence");
        assertEquals(Math.exp(min), g.minTokenProb(), TOL * Math.exp(min), what + ": min token prob");
        boolean eos = options.eosTokenIds().contains(ids[ids.length - 1]);
        assertEquals(eos ? FinishReason.EOS : FinishReason.LENGTH, g.finishReason(), what + " " + Arrays.toString(ids));
        if (!eos) {
            assertEquals(options.maxNewTokens(), ids.length, what + ": stopped without EOS before the limit");
        }
        return eos ? 1 : 0;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** All ids but the last: what the decoder is fed so that its outputs predict each generated token. */
    private static long[] fedIds(long[] generated) {
        return Arrays.copyOf(generated, Math.max(0, generated.length - 1));
    }

    // ---- vit-gpt2 --------------------------------------------------------------------------------

    @org.junit.jupiter.api.BeforeEach
    void resetWorst() {
        worst = 0;
    }

    @Test
    void vitGpt2GreedyAndBeamLogProbsMatchATeacherForcedPass() throws Exception {
        Path root = ReferenceRunner.root();
        Path dir = root.resolve("sample-data/models/vit-gpt2-tiny");
        Path images = root.resolve("sample-data/heldout/images");
        List<Path> files;
        try (var list = Files.list(images)) {
            files = list.sorted().limit(6).toList();
        }
        ModelBundle bundle = ModelBundle.open(dir);
        ImagePreprocessor preprocessor = new ImagePreprocessor(bundle.preprocessor());
        long start = bundle.generation().decoderStartTokenId();
        try (VisionLanguageModel model = ModelLoader.load(dir, RuntimeOptions.defaults());
             OrtSession encoder = open(dir.resolve("onnx/encoder_model.onnx"));
             OrtSession decoder = open(dir.resolve("onnx/decoder_model_merged.onnx"))) {
            List<Query> queries = new ArrayList<>();
            for (Path f : files) {
                queries.add(new Query(model.prepare(ImageIO.read(f.toFile())), Task.caption()));
            }
            GenerationOptions greedy = model.options(20);
            GenerationOptions processed = greedy.withRepetitionPenalty(1.3);
            GenerationOptions beam = greedy.withNumBeams(3).withNoRepeatNgramSize(3);
            GenerationOptions shortRun = greedy.withMaxNewTokens(3);
            Map<GenerationOptions, List<Generation>> runs = new LinkedHashMap<>();
            for (GenerationOptions o : List.of(greedy, processed, beam, shortRun)) {
                runs.put(o, model.generate(queries, o));
            }
            int eos = 0;
            for (int i = 0; i < queries.size(); i++) {
                float[] pixels = ((VitGpt2.Pixels) queries.get(i).image()).values();
                try (OnnxTensor pixelValues = Tensors.floats(FloatBuffer.wrap(pixels), 1, 3, preprocessor.height(),
                        preprocessor.width());
                     OrtSession.Result encoded = encoder.run(Map.of("pixel_values", pixelValues))) {
                    OnnxTensor hidden = (OnnxTensor) encoded.get("last_hidden_state").orElseThrow();
                    for (Map.Entry<GenerationOptions, List<Generation>> run : runs.entrySet()) {
                        GenerationOptions o = run.getKey();
                        Generation g = run.getValue().get(i);
                        long[] fed = concat(new long[] {start}, fedIds(g.tokenIds()));
                        float[][] logits;
                        try (OnnxTensor ids = Tensors.longs(new long[][] {fed})) {
                            logits = fullForward(decoder, "input_ids", ids, fed.length, Map.of("encoder_hidden_states", hidden));
                        }
                        double[] expected = reference(logits, 0, new long[] {start}, g.tokenIds(), o,
                                o.numBeams() > 1 ? Order.BEAM : Order.GREEDY);
                        eos += check(g, expected, o, files.get(i).getFileName() + " " + o);
                    }
                }
                // A run cut at 3 tokens is the full run's first 3 tokens, with the same log-probs, and ends LENGTH.
                Generation full = runs.get(greedy).get(i);
                Generation cut = runs.get(shortRun).get(i);
                if (full.tokenIds().length > 3) {
                    assertArrayEquals(Arrays.copyOf(full.tokenIds(), 3), cut.tokenIds());
                    assertEquals(FinishReason.LENGTH, cut.finishReason());
                    for (int k = 0; k < 3; k++) {
                        assertEquals(full.tokenLogProbs()[k], cut.tokenLogProbs()[k], 1e-4);
                    }
                }
            }
            assertTrue(eos >= queries.size() * 3, "the captions end on EOS: " + eos);
            System.out.printf("vit-gpt2-tiny: %d queries x 4 runs, worst log-prob difference %.2e%n", queries.size(), worst);
        }
    }

    // ---- decoder-only (SmolVLM, moondream2) ---------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"smolvlm-tiny", "moondream2-tiny"})
    void decoderOnlyGreedyLogProbsMatchATeacherForcedPass(String bundleName) throws Exception {
        Path root = ReferenceRunner.root();
        Path dir = root.resolve("sample-data/models/" + bundleName);
        Path heldout = root.resolve("sample-data/heldout-vqa");
        List<String> lines = Files.readAllLines(heldout.resolve("questions.csv"));
        try (VisionLanguageModel model = ModelLoader.load(dir, RuntimeOptions.defaults());
             OrtSession embed = open(dir.resolve("onnx/embed_tokens.onnx"));
             OrtSession decoder = open(dir.resolve("onnx/decoder_model_merged.onnx"))) {
            DecoderOnlyVlm vlm = (DecoderOnlyVlm) model;
            Map<String, PreparedImage> images = new HashMap<>();
            List<Query> queries = new ArrayList<>();
            for (String line : lines.subList(1, 13)) {
                String[] f = line.split(",", 3);
                PreparedImage image = images.get(f[0]);
                if (image == null) {
                    image = model.prepare(ImageIO.read(heldout.resolve(f[0]).toFile()));
                    images.put(f[0], image);
                }
                queries.add(new Query(image, new Task("query", f[1].isEmpty() ? "Describe this image." : f[1])));
            }
            GenerationOptions greedy = model.options(12);
            GenerationOptions processed = greedy.withRepetitionPenalty(1.3).withNoRepeatNgramSize(2);
            int eos = 0;
            int length = 0;
            for (GenerationOptions o : List.of(greedy, processed, greedy.withMaxNewTokens(4))) {
                List<Generation> out = model.generate(queries, o);
                for (int i = 0; i < queries.size(); i++) {
                    Query q = queries.get(i);
                    Generation g = out.get(i);
                    long[] prompt = vlm.promptIds(q.task(), q.image());
                    float[] features = vlm.encode(q.image());
                    long[] fed = concat(prompt, fedIds(g.tokenIds()));
                    float[] embeds = embedSpliced(embed, fed, vlm.imageTokenId(), features);
                    int hidden = embeds.length / fed.length;
                    float[][] logits;
                    try (OnnxTensor e = Tensors.floats(FloatBuffer.wrap(embeds), 1, fed.length, hidden)) {
                        logits = fullForward(decoder, "inputs_embeds", e, fed.length, Map.of());
                    }
                    double[] expected = reference(logits, prompt.length - 1, prompt, g.tokenIds(), o, Order.GREEDY);
                    int ended = check(g, expected, o, bundleName + " query " + i + " '" + q.task().prompt() + "' " + o);
                    eos += ended;
                    length += 1 - ended;
                }
            }
            assertTrue(eos > 0 && length > 0, "both finish reasons occur: eos " + eos + ", length " + length);
            System.out.printf("%s: %d queries x 3 runs (eos %d, length %d), worst log-prob difference %.2e%n", bundleName,
                    queries.size(), eos, length, worst);
        }
    }

    /** embed_tokens of {@code ids} (image positions embedded as id 0) with the feature rows at the image positions. */
    private static float[] embedSpliced(OrtSession embed, long[] ids, long imageToken, float[] features) throws OrtException {
        long[] embeddable = ids.clone();
        for (int i = 0; i < embeddable.length; i++) {
            if (embeddable[i] == imageToken) {
                embeddable[i] = 0;
            }
        }
        float[] embeds = embedTokens(embed, embeddable);
        int hidden = embeds.length / ids.length;
        int row = 0;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == imageToken) {
                System.arraycopy(features, row++ * hidden, embeds, i * hidden, hidden);
            }
        }
        assertEquals(features.length, row * hidden, "every feature row has an image position");
        return embeds;
    }

    private static float[] embedTokens(OrtSession embed, long[] ids) throws OrtException {
        try (OnnxTensor input = Tensors.longs(new long[][] {ids});
             OrtSession.Result result = embed.run(Map.of("input_ids", input))) {
            FloatBuffer buffer = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] out = new float[buffer.remaining()];
            buffer.get(out);
            return out;
        }
    }

    // ---- Florence-2 ---------------------------------------------------------------------------------

    /**
     * Florence-2 with its generation config (forced BOS/EOS, no repeated 3-gram): greedy (1 beam) and
     * its 3 beams, against the encoder + decoder run in full.
     */
    @Test
    void florence2GreedyAndBeamLogProbsMatchATeacherForcedPass() throws Exception {
        Path root = ReferenceRunner.root();
        Path dir = root.resolve("sample-data/models/florence2-tiny");
        Path heldout = root.resolve("sample-data/heldout-florence2");
        List<String> lines = Files.readAllLines(heldout.resolve("answers.csv"));
        ModelBundle bundle = ModelBundle.open(dir);
        ImagePreprocessor preprocessor = new ImagePreprocessor(bundle.preprocessor());
        long start = bundle.generation().decoderStartTokenId();
        try (VisionLanguageModel model = ModelLoader.load(dir, RuntimeOptions.defaults());
             TextTokenizer tokenizer = TextTokenizer.load(bundle);
             OrtSession vision = open(dir.resolve("onnx/vision_encoder.onnx"));
             OrtSession embed = open(dir.resolve("onnx/embed_tokens.onnx"));
             OrtSession encoder = open(dir.resolve("onnx/encoder_model.onnx"));
             OrtSession decoder = open(dir.resolve("onnx/decoder_model_merged.onnx"))) {
            Florence2 florence = (Florence2) model;
            List<Query> queries = new ArrayList<>();
            for (int i = 1; i < lines.size() && queries.size() < 6; i += 7) {
                String[] f = lines.get(i).split(",", 3);
                PreparedImage image = model.prepare(ImageIO.read(heldout.resolve(f[0]).toFile()));
                queries.add(new Query(image, new Task(f[1].equals("<OCR>") ? Task.OCR : Task.CAPTION, f[1])));
            }
            GenerationOptions beam = model.options(20);
            GenerationOptions greedy = beam.withNumBeams(1);
            Map<GenerationOptions, List<Generation>> runs = new LinkedHashMap<>();
            for (GenerationOptions o : List.of(greedy, beam)) {
                runs.put(o, model.generate(queries, o));
            }
            int eos = 0;
            for (int i = 0; i < queries.size(); i++) {
                Query q = queries.get(i);
                float[] features;
                try (OnnxTensor pixelValues = Tensors.floats(FloatBuffer.wrap(((Florence2.Pixels) q.image()).values()), 1, 3,
                        preprocessor.height(), preprocessor.width());
                     OrtSession.Result result = vision.run(Map.of("pixel_values", pixelValues))) {
                    FloatBuffer buffer = ((OnnxTensor) result.get(0)).getFloatBuffer();
                    features = new float[buffer.remaining()];
                    buffer.get(features);
                }
                long[] promptIds = tokenizer.encode(florence.promptText(q.task()), true);
                float[] promptEmbeds = embedTokens(embed, promptIds);
                float[] inputs = Arrays.copyOf(features, features.length + promptEmbeds.length);
                System.arraycopy(promptEmbeds, 0, inputs, features.length, promptEmbeds.length);
                int hidden = promptEmbeds.length / promptIds.length;
                int encoderLength = inputs.length / hidden;
                try (OnnxTensor embeds = Tensors.floats(FloatBuffer.wrap(inputs), 1, encoderLength, hidden);
                     OnnxTensor mask = Tensors.ones(1, encoderLength);
                     OrtSession.Result encoded = encoder.run(Map.of("inputs_embeds", embeds, "attention_mask", mask))) {
                    OnnxTensor states = (OnnxTensor) encoded.get("last_hidden_state").orElseThrow();
                    Map<String, OnnxTensor> extra = new HashMap<>();
                    extra.put("encoder_hidden_states", states);
                    if (decoder.getInputNames().contains("encoder_attention_mask")) {
                        extra.put("encoder_attention_mask", mask);
                    }
                    for (Map.Entry<GenerationOptions, List<Generation>> run : runs.entrySet()) {
                        GenerationOptions o = run.getKey();
                        Generation g = run.getValue().get(i);
                        long[] fed = concat(new long[] {start}, fedIds(g.tokenIds()));
                        float[][] logits;
                        try (OnnxTensor e = Tensors.floats(FloatBuffer.wrap(embedTokens(embed, fed)), 1, fed.length, hidden)) {
                            logits = fullForward(decoder, "inputs_embeds", e, fed.length, extra);
                        }
                        double[] expected = reference(logits, 0, new long[] {start}, g.tokenIds(), o,
                                o.numBeams() > 1 ? Order.BEAM : Order.GREEDY);
                        eos += check(g, expected, o, "florence2 query " + i + " " + q.task().prompt() + " " + o);
                    }
                }
            }
            assertTrue(eos >= queries.size(), "answers end on EOS: " + eos);
            System.out.printf("florence2-tiny: %d queries x 2 runs, worst log-prob difference %.2e%n", queries.size(), worst);
        }
    }
}
