package dev.moonbatch.runtime.family;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.SessionOpening;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.Json;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.generate.DeclaredInputs;
import dev.moonbatch.runtime.generate.DecodingState;
import dev.moonbatch.runtime.generate.GenerationOptions;
import dev.moonbatch.runtime.generate.GeneratedSequence;
import dev.moonbatch.runtime.generate.Generator;
import dev.moonbatch.runtime.generate.MergedDecoder;
import dev.moonbatch.runtime.generate.Tensors;
import dev.moonbatch.runtime.generate.TokenEmbedder;
import dev.moonbatch.runtime.preprocess.ImagePreprocessor;
import dev.moonbatch.runtime.text.TextTokenizer;

import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Florence-2 (transformers.js / onnx-community layout, {@code model_type: florence2}): an encoder-decoder
 * whose encoder reads the image features <em>in front of</em> the prompt's token embeddings.
 * {@code vision_encoder} turns pixel values into {@code image_features}; {@code embed_tokens} embeds the
 * task prompt (built from the task token as Florence2Processor does, see {@link Florence2Prompts});
 * {@code encoder_model} runs once over [image features, prompt] with an all-ones mask; the merged
 * decoder starts from {@code decoder_start_token_id} as {@code inputs_embeds}, with
 * {@code encoder_hidden_states} / {@code encoder_attention_mask} as per-row inputs and both caches
 * (self-attention {@code .decoder.*}, cross-attention {@code .encoder.*} computed on the first step only).
 * The answer is the text decoded with special tokens kept, post-processed as the processor does for
 * the prompt's task ({@link Florence2Regions}): pure text, or the regions of {@code <OD>} and the other
 * region tasks in pixels of the image as given to {@link #prepare}.
 */
public final class Florence2 implements VisionLanguageModel {
    static final String VISION = "vision_encoder";
    static final String EMBED = "embed_tokens";
    static final String ENCODER = "encoder_model";
    static final String DECODER = "decoder_model_merged";
    public static final List<String> COMPONENTS = List.of(VISION, EMBED, ENCODER, DECODER);

    /** Task tokens for a task name when the task carries no prompt of its own. */
    static final Map<String, String> DEFAULT_TASK_TOKENS = Map.of(Task.CAPTION, "<CAPTION>", Task.OCR, "<OCR>");

    private final ModelBundle bundle;
    private final ImagePreprocessor preprocessor;
    private final TextTokenizer tokenizer;
    private final Florence2Prompts prompts;
    private final Florence2Regions regions;
    private final OrtSession vision;
    private final DeclaredInputs visionInputs;
    private final TokenEmbedder embedder;
    private final OrtSession encoder;
    private final DeclaredInputs encoderInputs;
    private final MergedDecoder decoder;
    private final long startToken;
    private final AtomicLong encoded = new AtomicLong();
    private final LastImageFeatures lastImage = new LastImageFeatures();

    public Florence2(ModelBundle bundle, RuntimeOptions options) {
        this.bundle = bundle;
        this.preprocessor = new ImagePreprocessor(bundle.preprocessor());
        JsonNode preprocessorConfig = Json.read(bundle.require("preprocessor_config.json"));
        this.prompts = Florence2Prompts.from(preprocessorConfig);
        this.regions = Florence2Regions.from(preprocessorConfig);
        this.startToken = bundle.generation().decoderStartTokenId();
        if (startToken < 0) {
            throw new BundleException("generation_config.json / config.json give no decoder_start_token_id");
        }
        this.tokenizer = TextTokenizer.load(bundle);
        java.nio.file.Path decoderFile = bundle.onnx(DECODER, options.precision());
        List<AutoCloseable> sessions = SessionOpening.all(List.of(
                SessionOpening.open(bundle.onnx(VISION, options.precision()), options),
                SessionOpening.open(bundle.onnx(EMBED, options.precision()), options),
                SessionOpening.open(bundle.onnx(ENCODER, options.precision()), options),
                SessionOpening.open(decoderFile, options)));
        this.vision = (OrtSession) sessions.get(0);
        this.visionInputs = DeclaredInputs.of(vision);
        this.embedder = new TokenEmbedder((OrtSession) sessions.get(1));
        this.encoder = (OrtSession) sessions.get(2);
        this.encoderInputs = DeclaredInputs.of(encoder);
        this.decoder = new MergedDecoder((OrtSession) sessions.get(3), "onnx/" + decoderFile.getFileName());
        if (!decoder.hasInput("inputs_embeds") || !decoder.hasInput("encoder_hidden_states")) {
            close();
            throw new BundleException(decoderFile + " is not a Florence-2 decoder: it needs inputs_embeds and encoder_hidden_states");
        }
    }

    @Override
    public String name() {
        return bundle.name();
    }

    @Override
    public String family() {
        return "florence2";
    }

    @Override
    public long imagesEncoded() {
        return encoded.get();
    }

    /** Florence-2's prepared image: CHW pixel values, and the image's own size, which region answers are in. */
    record Pixels(float[] values, int width, int height) implements PreparedImage {
    }

    @Override
    public PreparedImage prepare(BufferedImage image) {
        return new Pixels(preprocessor.pixelValues(image), image.getWidth(), image.getHeight());
    }

    @Override
    public GenerationOptions options(int maxNewTokens) {
        return bundle.generationOptions(maxNewTokens);
    }

    /** The text the encoder reads for a task: its prompt (a task token or free text) through the processor's mapping. */
    String promptText(Task task) {
        return prompts.construct(prompt(task));
    }

    /** A task's prompt: its own (a task token or free text), else the default task token of its name. */
    private static String prompt(Task task) {
        String prompt = task.prompt();
        if (prompt == null || prompt.isBlank()) {
            prompt = DEFAULT_TASK_TOKENS.get(task.name());
            if (prompt == null) {
                throw new IllegalArgumentException("--task " + task.name() + ": Florence-2 needs a prompt (a task token such as <OCR>, or text)");
            }
        }
        return prompt.strip();
    }

    @Override
    public List<Generation> generate(List<Query> queries, GenerationOptions options) throws OrtException {
        if (queries.isEmpty()) {
            return List.of();
        }
        Map<PreparedImage, Integer> images = new IdentityHashMap<>();
        List<PreparedImage> distinct = new ArrayList<>();
        for (Query q : queries) {
            if (images.putIfAbsent(q.image(), distinct.size()) == null) {
                distinct.add(q.image());
            }
        }
        float[] features = features(distinct);
        int perImage = features.length / distinct.size();

        // Prompts of equal length run through the encoder and decoder together (no padding needed).
        List<long[]> promptIds = new ArrayList<>(queries.size());
        Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
        for (int i = 0; i < queries.size(); i++) {
            long[] ids = tokenizer.encode(promptText(queries.get(i).task()), true);
            promptIds.add(ids);
            byLength.computeIfAbsent(ids.length, k -> new ArrayList<>()).add(i);
        }
        Generation[] out = new Generation[queries.size()];
        for (List<Integer> members : byLength.values()) {
            long[][] ids = new long[members.size()][];
            int[] imageOf = new int[members.size()];
            for (int m = 0; m < members.size(); m++) {
                ids[m] = promptIds.get(members.get(m));
                imageOf[m] = images.get(queries.get(members.get(m)).image());
            }
            List<GeneratedSequence> generated = generateGroup(features, perImage, imageOf, ids, options);
            for (int m = 0; m < members.size(); m++) {
                out[members.get(m)] = answer(queries.get(members.get(m)), generated.get(m));
            }
        }
        return List.of(out);
    }

    /** As {@link #visionFeatures}, but one image that the previous call encoded is not encoded again. */
    private float[] features(List<PreparedImage> distinct) throws OrtException {
        float[] f = distinct.size() == 1 ? lastImage.get(distinct.get(0)) : null;
        if (f == null) {
            f = visionFeatures(distinct);
            if (distinct.size() == 1) {
                lastImage.put(distinct.get(0), f);
            }
        }
        return f;
    }

    /** Vision features of the distinct images, [n, rows, hidden] flat; one vision call for all of them. */
    private float[] visionFeatures(List<PreparedImage> distinct) throws OrtException {
        encoded.addAndGet(distinct.size());
        FloatBuffer pixels = preprocessor.batch(distinct.stream().map(p -> ((Pixels) p).values()).toList());
        try (OnnxTensor pixelValues = visionInputs.floats("pixel_values", pixels, distinct.size(), 3, preprocessor.height(),
                preprocessor.width());
             OrtSession.Result result = vision.run(Map.of("pixel_values", pixelValues))) {
            return Tensors.floatArray((OnnxTensor) result.get(0));
        }
    }

    /** One generated sequence as the answer to its query: decoded, then post-processed for the query's task. */
    Generation answer(Query query, GeneratedSequence g) {
        Pixels image = (Pixels) query.image();
        Florence2Regions.Answer answer = regions.parse(tokenizer.decode(g.ids(), false),
                prompts.taskToken(prompt(query.task())), image.width(), image.height());
        return new Generation(g.ids(), answer.text(), g.logProbs(), g.finishReason(), answer.regions());
    }

    /** One batch of prompts of equal length: encoder once, then the shared generation loop. */
    private List<GeneratedSequence> generateGroup(float[] features, int perImage, int[] imageOf, long[][] promptIds,
                                                  GenerationOptions options) throws OrtException {
        int n = promptIds.length;
        int promptLength = promptIds[0].length;
        float[] promptEmbeds = embedder.embedFlat(promptIds);
        int hidden = promptEmbeds.length / (n * promptLength);
        int imageRows = perImage / hidden;
        int length = imageRows + promptLength;
        float[] inputs = new float[n * length * hidden];
        for (int m = 0; m < n; m++) {
            System.arraycopy(features, imageOf[m] * perImage, inputs, m * length * hidden, perImage);
            System.arraycopy(promptEmbeds, m * promptLength * hidden, inputs, m * length * hidden + perImage,
                    promptLength * hidden);
        }
        long[][] start = new long[n][];
        Arrays.fill(start, new long[] {startToken});
        try (OnnxTensor embeds = encoderInputs.floats("inputs_embeds", FloatBuffer.wrap(inputs), n, length, hidden);
             OnnxTensor mask = Tensors.ones(n, length);
             OrtSession.Result encoded = encoder.run(Map.of("inputs_embeds", embeds, "attention_mask", mask))) {
            OnnxTensor states = (OnnxTensor) encoded.get("last_hidden_state").orElseGet(() -> encoded.get(0));
            Map<String, OnnxTensor> rowInputs = new LinkedHashMap<>();
            rowInputs.put("encoder_hidden_states", states);
            if (decoder.hasInput("encoder_attention_mask")) {
                rowInputs.put("encoder_attention_mask", mask);
            }
            try (DecodingState state = decoder.startWithEmbeddings(embedder.embedFlat(start), n, 1, embedder, rowInputs)) {
                return Generator.generate(state, options, start);
            }
        }
    }

    @Override
    public void close() {
        try {
            if (vision != null) {
                vision.close();
            }
            if (embedder != null) {
                embedder.close();
            }
            if (encoder != null) {
                encoder.close();
            }
            if (decoder != null) {
                decoder.close();
            }
        } catch (OrtException e) {
            throw new IllegalStateException("closing " + bundle.name() + ": " + e.getMessage(), e);
        } finally {
            if (tokenizer != null) {
                tokenizer.close();
            }
        }
    }
}
