package dev.moonbatch.runtime.family;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.ChoiceQuery;
import dev.moonbatch.runtime.ChoiceScores;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.SessionOpening;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.generate.ChoiceScorer;
import dev.moonbatch.runtime.generate.DeclaredInputs;
import dev.moonbatch.runtime.generate.DecodingState;
import dev.moonbatch.runtime.generate.GenerationOptions;
import dev.moonbatch.runtime.generate.GeneratedSequence;
import dev.moonbatch.runtime.generate.Generator;
import dev.moonbatch.runtime.generate.MergedDecoder;
import dev.moonbatch.runtime.generate.Tensors;
import dev.moonbatch.runtime.generate.TokenEmbedder;
import dev.moonbatch.runtime.text.TextTokenizer;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What SmolVLM, moondream2 and BLIP-2 share (the transformers.js three-file layout): a vision
 * encoder turns an image into feature rows; the prompt's token embeddings ({@code embed_tokens})
 * get those rows in place of its image tokens; the merged decoder generates from
 * {@code inputs_embeds}. A subclass says how an image is encoded and how a prompt is tokenized.
 */
abstract class DecoderOnlyVlm implements VisionLanguageModel {
    static final String VISION = "vision_encoder";
    static final String EMBED = "embed_tokens";
    static final String DECODER = "decoder_model_merged";
    static final List<String> COMPONENTS = List.of(VISION, EMBED, DECODER);

    protected final ModelBundle bundle;
    protected final TextTokenizer tokenizer;
    protected final OrtSession vision;
    private final DeclaredInputs visionInputs;
    private final TokenEmbedder embedder;
    private final MergedDecoder decoder;
    private final AtomicLong encoded = new AtomicLong();
    /** Vision encoder runs so far (tests: a batch of fixed-size images is one run). */
    private final AtomicLong visionCalls = new AtomicLong();
    private final LastImageFeatures lastImage = new LastImageFeatures();
    /** One padded prefill call per batch (GPU) rather than one per prompt length (CPU). */
    private final boolean padPrefill;
    /** The bundle's EOS ids: a scored choice ends with the first. */
    private final List<Long> eos;

    DecoderOnlyVlm(ModelBundle bundle, RuntimeOptions options, TextTokenizer tokenizer) {
        this.bundle = bundle;
        this.tokenizer = tokenizer;
        java.nio.file.Path decoderFile = bundle.onnx(DECODER, options.precision());
        List<AutoCloseable> sessions = SessionOpening.all(List.of(
                SessionOpening.open(bundle.onnx(VISION, options.precision()), options),
                SessionOpening.open(bundle.onnx(EMBED, options.precision()), options),
                SessionOpening.open(decoderFile, options)));
        this.vision = (OrtSession) sessions.get(0);
        this.visionInputs = DeclaredInputs.of(vision);
        this.padPrefill = options.device().isGpu();
        this.eos = bundle.generationOptions(1).eosTokenIds();
        this.embedder = new TokenEmbedder((OrtSession) sessions.get(1));
        this.decoder = new MergedDecoder((OrtSession) sessions.get(2), "onnx/" + decoderFile.getFileName());
    }

    /** Runs the vision encoder and returns its (first) output, the feature rows, flat. */
    protected final float[] visionFeatures(Map<String, OnnxTensor> inputs) throws OrtException {
        visionCalls.incrementAndGet();
        try (OrtSession.Result result = vision.run(inputs)) {
            return Tensors.floatArray((OnnxTensor) result.get(0));
        }
    }

    /** A {@code pixel_values} tensor in the dtype the vision encoder declares (float16 in {@code _fp16} exports). */
    protected final OnnxTensor pixelValues(FloatBuffer values, long... shape) throws OrtException {
        return visionInputs.floats("pixel_values", values, shape);
    }

    /** Image features of one prepared image: rows × hidden, flat. */
    protected abstract float[] encode(PreparedImage image) throws OrtException;

    /** The prompt's token ids for this question, with {@link #imageTokenId()} at each image-feature position. */
    protected abstract long[] promptIds(String question, PreparedImage image);

    /** The prompt's token ids for a task; a family whose prompt differs by task (BLIP-2's questions) overrides this. */
    protected long[] promptIds(Task task, PreparedImage image) {
        return promptIds(task.prompt(), image);
    }

    /** The id that marks an image-feature position in {@link #promptIds}. */
    protected abstract long imageTokenId();

    @Override
    public String name() {
        return bundle.name();
    }

    @Override
    public GenerationOptions options(int maxNewTokens) {
        return bundle.generationOptions(maxNewTokens);
    }

    @Override
    public long imagesEncoded() {
        return encoded.get();
    }

    long visionCalls() {
        return visionCalls.get();
    }

    @Override
    public List<Generation> generate(List<Query> queries, GenerationOptions options) throws OrtException {
        return generate(queries, options, padPrefill);
    }

    /**
     * All queries decode as one batch, however long their prompts: rows are left-padded with an
     * attention mask ({@link MergedDecoder#startWithEmbeddings(List, int, TokenEmbedder, boolean)}),
     * and a row that finishes leaves the batch. {@code padPrefill} picks one padded prefill call
     * (transformers.js's way) or one call per prompt length with the caches padded afterwards.
     */
    List<Generation> generate(List<Query> queries, GenerationOptions options, boolean padPrefill) throws OrtException {
        if (queries.isEmpty()) {
            return List.of();
        }
        Prompts prompts = prompts(queries);
        List<float[]> embeds = prompts.embeds();
        long[][] promptIds = prompts.ids();
        int hidden = prompts.hidden();
        Generation[] out = new Generation[queries.size()];
        for (int[] group : batches(promptIds)) {
            List<float[]> rows = new ArrayList<>(group.length);
            long[][] ids = new long[group.length][];
            for (int m = 0; m < group.length; m++) {
                rows.add(embeds.get(group[m]));
                ids[m] = promptIds[group[m]];
            }
            try (DecodingState state = decoder.startWithEmbeddings(rows, hidden, embedder, padPrefill)) {
                List<GeneratedSequence> generated = Generator.generate(state, options, ids);
                for (int m = 0; m < group.length; m++) {
                    GeneratedSequence g = generated.get(m);
                    out[group[m]] = new Generation(g.ids(), tokenizer.decode(g.ids()).strip(), g.logProbs(), g.finishReason());
                }
            }
        }
        return List.of(out);
    }

    /** The queries' prompts: token ids and embeddings with the image features spliced in. */
    private record Prompts(long[][] ids, List<float[]> embeds, int hidden) {
    }

    /** Each distinct image encoded once, then each query's prompt embedded with its image's features. */
    private Prompts prompts(List<Query> queries) throws OrtException {
        Map<PreparedImage, float[]> features = new IdentityHashMap<>();
        for (Query q : queries) {
            features.put(q.image(), null);
        }
        List<PreparedImage> distinct = new ArrayList<>(features.keySet());
        List<float[]> encodedRows = encodeOnce(distinct);
        for (int i = 0; i < distinct.size(); i++) {
            features.put(distinct.get(i), encodedRows.get(i));
        }
        lastImage.keepOnly(features);
        int hidden = -1;
        List<float[]> embeds = new ArrayList<>(queries.size());
        long[][] promptIds = new long[queries.size()][];
        for (int i = 0; i < queries.size(); i++) {
            Query q = queries.get(i);
            long[] ids = promptIds(q.task(), q.image());
            float[] e = spliced(ids, features.get(q.image()));
            hidden = e.length / ids.length;
            embeds.add(e);
            promptIds[i] = ids;
        }
        return new Prompts(promptIds, embeds, hidden);
    }

    /**
     * Closed choices scored in one place for every decoder-only family ({@link ChoiceScorer}): the
     * prompts of a batch prefill together (as in {@link #generate}), each prompt's cache is shared by
     * its choices, and all choices of the batch are fed in one decoder call.
     */
    @Override
    public List<ChoiceScores> score(List<ChoiceQuery> queries) throws OrtException {
        if (queries.isEmpty()) {
            return List.of();
        }
        Prompts prompts = prompts(queries.stream().map(q -> new Query(q.image(), q.task())).toList());
        long[][][] choiceIds = new long[queries.size()][][];
        for (int i = 0; i < queries.size(); i++) {
            List<String> choices = queries.get(i).choices();
            choiceIds[i] = new long[choices.size()][];
            for (int c = 0; c < choices.size(); c++) {
                choiceIds[i][c] = choiceIds(choices.get(c));
            }
        }
        ChoiceScores[] out = new ChoiceScores[queries.size()];
        for (int[] group : batches(prompts.ids())) {
            List<float[]> rows = new ArrayList<>(group.length);
            long[][][] ids = new long[group.length][][];
            for (int m = 0; m < group.length; m++) {
                rows.add(prompts.embeds().get(group[m]));
                ids[m] = choiceIds[group[m]];
            }
            try (DecodingState state = decoder.startWithEmbeddings(rows, prompts.hidden(), embedder, padPrefill)) {
                double[][] scores = ChoiceScorer.score(state, ids);
                for (int m = 0; m < group.length; m++) {
                    out[group[m]] = new ChoiceScores(queries.get(group[m]).choices(), scores[m]);
                }
            }
        }
        return List.of(out);
    }

    /**
     * The tokens the model would generate to answer exactly {@code choice}: the text with the leading
     * space the answer follows the prompt with (these families answer {@code Answer: red},
     * {@code Assistant: red}), then the first EOS id.
     */
    long[] choiceIds(String choice) {
        long[] text = tokenizer.encode(" " + choice.strip(), false);
        if (eos.isEmpty()) {
            return text;
        }
        long[] ids = java.util.Arrays.copyOf(text, text.length + 1);
        ids[text.length] = eos.get(0);
        return ids;
    }

    /**
     * The feature rows of each image, in order: the ones this thread's previous call had come from
     * {@link LastImageFeatures}, the rest from one {@link #encodeBatch} call.
     */
    private List<float[]> encodeOnce(List<PreparedImage> images) throws OrtException {
        float[][] out = new float[images.size()][];
        List<PreparedImage> todo = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            out[i] = lastImage.get(images.get(i));
            if (out[i] == null) {
                todo.add(images.get(i));
                at.add(i);
            }
        }
        if (!todo.isEmpty()) {
            List<float[]> fresh = encodeBatch(todo);
            for (int k = 0; k < todo.size(); k++) {
                out[at.get(k)] = fresh.get(k);
            }
            encoded.addAndGet(todo.size());
        }
        return java.util.Arrays.asList(out);
    }

    /**
     * Feature rows of several distinct images: one {@link #encode} each here; a family whose vision
     * encoder takes a batch of images overrides this with one call for all of them.
     */
    protected List<float[]> encodeBatch(List<PreparedImage> images) throws OrtException {
        List<float[]> out = new ArrayList<>(images.size());
        for (PreparedImage image : images) {
            out.add(encode(image));
        }
        return out;
    }

    /**
     * The decoding batches: every query in one, unless the export takes no {@code attention_mask}
     * (then padding is impossible and prompts of equal length go together).
     */
    private List<int[]> batches(long[][] promptIds) {
        if (decoder.hasInput("attention_mask")) {
            return List.of(java.util.stream.IntStream.range(0, promptIds.length).toArray());
        }
        Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
        for (int i = 0; i < promptIds.length; i++) {
            byLength.computeIfAbsent(promptIds[i].length, k -> new ArrayList<>()).add(i);
        }
        return byLength.values().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();
    }

    /** Token embeddings of the prompt with the image's feature rows at its image-token positions. */
    private float[] spliced(long[] ids, float[] features) throws OrtException {
        long[] embeddable = ids.clone();
        int imagePositions = 0;
        for (int i = 0; i < embeddable.length; i++) {
            if (embeddable[i] == imageTokenId()) {
                embeddable[i] = 0;
                imagePositions++;
            }
        }
        float[] embeds = embedder.embedFlat(new long[][] {embeddable});
        int hidden = embeds.length / ids.length;
        if (imagePositions * hidden != features.length) {
            throw new IllegalStateException("the prompt has " + imagePositions + " image positions but the vision encoder gave "
                    + features.length / hidden + " feature rows");
        }
        for (int i = 0, row = 0; i < ids.length; i++) {
            if (ids[i] == imageTokenId()) {
                System.arraycopy(features, row++ * hidden, embeds, i * hidden, hidden);
            }
        }
        return embeds;
    }

    @Override
    public void close() {
        try {
            embedder.close();
            decoder.close();
            vision.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing " + bundle.name() + ": " + e.getMessage(), e);
        } finally {
            tokenizer.close();
        }
    }
}
