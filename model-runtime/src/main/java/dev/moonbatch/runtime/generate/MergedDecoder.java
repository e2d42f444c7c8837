package dev.moonbatch.runtime.generate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.bundle.BundleException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An Optimum / transformers.js "merged" decoder ({@code decoder_model_merged.onnx}): one graph for
 * the first step (empty past) and later steps (with {@code past_key_values.*}), returning
 * {@code logits} and {@code present.*}. It reads its contract from the session's own input
 * metadata: tokens go in as {@code input_ids} (vit-gpt2) or as {@code inputs_embeds} made by the
 * bundle's {@code embed_tokens} (decoder-only VLMs), and optional inputs ({@code use_cache_branch},
 * {@code attention_mask}, {@code position_ids}) are fed only where the export declares them.
 */
public final class MergedDecoder implements AutoCloseable {
    static final String PAST_PREFIX = "past_key_values.";
    static final String PRESENT_PREFIX = "present.";
    static final String INPUT_IDS = "input_ids";
    static final String INPUTS_EMBEDS = "inputs_embeds";

    private final OrtSession session;
    private final Map<String, NodeInfo> pastInputs = new LinkedHashMap<>();
    private final Set<String> inputNames;
    /** The declared dtypes of the inputs ({@code inputs_embeds}, the KV cache, {@code encoder_hidden_states}: float16 in {@code _fp16} exports). */
    private final DeclaredInputs declared;

    public MergedDecoder(OrtSession session, String file) {
        this.session = session;
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            this.inputNames = inputs.keySet();
            this.declared = DeclaredInputs.of(session);
            inputs.forEach((name, info) -> {
                if (name.startsWith(PAST_PREFIX)) {
                    pastInputs.put(name, info);
                }
            });
            Set<String> outputs = session.getOutputNames();
            if (!inputNames.contains(INPUT_IDS) && !inputNames.contains(INPUTS_EMBEDS)) {
                throw new BundleException(file + " is not a decoder: it takes neither '" + INPUT_IDS + "' nor '"
                        + INPUTS_EMBEDS + "' (inputs: " + inputNames + ")");
            }
            if (!outputs.contains("logits")) {
                throw new BundleException(file + " lacks the output 'logits' (outputs: " + outputs + ")");
            }
            for (String past : pastInputs.keySet()) {
                String present = presentName(past);
                if (!outputs.contains(present)) {
                    throw new BundleException(file + " has input '" + past + "' but no output '" + present + "'");
                }
            }
        } catch (OrtException e) {
            throw new BundleException("cannot read the inputs of " + file + ": " + e.getMessage(), e);
        }
    }

    static String presentName(String pastName) {
        return PRESENT_PREFIX + pastName.substring(PAST_PREFIX.length());
    }

    /**
     * Whether a past input is a cross-attention cache ({@code past_key_values.{i}.encoder.key/value} of
     * a BART-style export such as Florence-2's). Those are computed from {@code encoder_hidden_states}
     * on the first step only; the with-past branch returns empty dummies for them (optimum's
     * {@code _unify_onnx_outputs}), so the first step's values are kept for every later step, as
     * transformers.js's {@code getPastKeyValues} does.
     */
    static boolean isCrossAttentionCache(String pastName) {
        return pastName.contains(".encoder.");
    }

    public boolean hasInput(String name) {
        return inputNames.contains(name);
    }

    /**
     * A decoding state for a batch. {@code rowInputs} are per-sequence inputs that stay the same
     * at every step (e.g. {@code encoder_hidden_states}); the state does not close them, but closes
     * the copies it makes when rows are selected.
     */
    public DecodingState start(long[][] promptIds, Map<String, OnnxTensor> rowInputs) {
        if (!hasInput(INPUT_IDS)) {
            throw new IllegalStateException("this decoder takes inputs_embeds: start it with startWithEmbeddings");
        }
        return new State(batch -> Tensors.longs(promptIds), promptIds.length, promptIds[0].length, null, rowInputs);
    }

    /**
     * A decoding state for a decoder that takes {@code inputs_embeds}: the prompt as embeddings
     * [batch, length, hidden] (image features already in place), later tokens embedded by {@code embedder}.
     */
    public DecodingState startWithEmbeddings(float[] promptEmbeds, int batch, int length, TokenEmbedder embedder) {
        return startWithEmbeddings(promptEmbeds, batch, length, embedder, Map.of());
    }

    /**
     * {@link #startWithEmbeddings(float[], int, int, TokenEmbedder)} with per-sequence inputs that stay
     * the same at every step, as in {@link #start}: an encoder-decoder that takes {@code inputs_embeds}
     * (Florence-2) gets {@code encoder_hidden_states} and {@code encoder_attention_mask} here.
     */
    public DecodingState startWithEmbeddings(float[] promptEmbeds, int batch, int length, TokenEmbedder embedder,
                                             Map<String, OnnxTensor> rowInputs) {
        if (!hasInput(INPUTS_EMBEDS)) {
            throw new IllegalStateException("this decoder takes input_ids: start it with start");
        }
        int hidden = promptEmbeds.length / (batch * length);
        return new State(b -> declared.floats(INPUTS_EMBEDS, java.nio.FloatBuffer.wrap(promptEmbeds), batch, length, hidden),
                batch, length, embedder, rowInputs);
    }

    /**
     * A decoding state for prompts of different lengths (one {@code inputs_embeds} row each, flat
     * [length, hidden]): they decode as one batch, each row left-padded with a zero
     * {@code attention_mask} over its padding and {@code position_ids} counted over its own tokens
     * (transformers.js's cumulative-sum rule: padded positions get 1). Finished rows leave the batch
     * through {@link DecodingState#select}, their padding with them.
     *
     * @param padPrefill true: one prefill call over the left-padded prompts, as transformers.js does
     *                   (fewest calls: right for a GPU); false: one prefill call per prompt length,
     *                   whose caches are then left-padded into one batch (no compute spent on padding,
     *                   smaller attention peaks: right for a CPU). Both give the same ids.
     */
    public DecodingState startWithEmbeddings(List<float[]> rowEmbeds, int hidden, TokenEmbedder embedder,
                                             boolean padPrefill) {
        if (!hasInput(INPUTS_EMBEDS)) {
            throw new IllegalStateException("this decoder takes input_ids: start it with start");
        }
        if (rowEmbeds.isEmpty()) {
            throw new IllegalArgumentException("no prompts");
        }
        int[] lengths = rowEmbeds.stream().mapToInt(e -> e.length / hidden).toArray();
        if (java.util.Arrays.stream(lengths).distinct().count() > 1 && !hasInput("attention_mask")) {
            throw new IllegalStateException("this decoder has no attention_mask input, so prompts of different "
                    + "lengths cannot share a batch");
        }
        return new State(new RaggedPrompts(rowEmbeds, lengths, hidden, padPrefill, declared), embedder);
    }

    /** Prompts of possibly different lengths as inputs_embeds rows. */
    private record RaggedPrompts(List<float[]> rows, int[] lengths, int hidden, boolean padPrefill,
                                 DeclaredInputs declared) {
        int maxLength() {
            return java.util.Arrays.stream(lengths).max().orElse(0);
        }

        /** Groups of rows prefilled by one call: all rows (padded), or rows of equal length. */
        List<int[]> chunks() {
            if (padPrefill) {
                return List.of(java.util.stream.IntStream.range(0, rows.size()).toArray());
            }
            Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
            for (int r = 0; r < rows.size(); r++) {
                byLength.computeIfAbsent(lengths[r], k -> new ArrayList<>()).add(r);
            }
            return byLength.values().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();
        }

        /** The rows' embeddings left-padded with zeros to the longest of them, as one tensor. */
        OnnxTensor tensor(int[] chunk) throws OrtException {
            int len = 0;
            for (int r : chunk) {
                len = Math.max(len, lengths[r]);
            }
            java.nio.FloatBuffer buffer = java.nio.FloatBuffer.allocate(chunk.length * len * hidden);
            for (int i = 0; i < chunk.length; i++) {
                float[] row = rows.get(chunk[i]);
                buffer.position((i * len + len - lengths[chunk[i]]) * hidden);
                buffer.put(row);
            }
            return declared.floats(INPUTS_EMBEDS, buffer.rewind(), chunk.length, len, hidden);
        }

        /** Left padding of each row of a chunk. */
        int[] padding(int[] chunk) {
            int len = 0;
            for (int r : chunk) {
                len = Math.max(len, lengths[r]);
            }
            int[] pad = new int[chunk.length];
            for (int i = 0; i < chunk.length; i++) {
                pad[i] = len - lengths[chunk[i]];
            }
            return pad;
        }
    }

    /** Makes the prompt's token tensor when the first step runs. */
    private interface PromptTensor {
        OnnxTensor make(int batch) throws OrtException;
    }

    private final class State implements DecodingState {
        private final PromptTensor prompt;
        private final int promptLength;
        private final TokenEmbedder embedder;
        private final Map<String, OnnxTensor> rowInputs;
        private final List<OnnxTensor> owned = new ArrayList<>();
        private final Map<String, OnnxTensor> past = new HashMap<>();
        private final RaggedPrompts ragged;
        private OrtSession.Result pastOwner;
        /** Cross-attention caches, kept from the first step (see {@link #isCrossAttentionCache}). */
        private final Map<String, OnnxTensor> crossPast = new HashMap<>();
        /** The first step's result, which holds {@link #crossPast}; null once they are copies in {@link #owned}. */
        private OrtSession.Result crossOwner;
        private int batch;
        private int pastLength;
        /** Left padding of each row (masked cache columns); null while no row is padded. */
        private int[] padding;

        State(PromptTensor prompt, int batch, int promptLength, TokenEmbedder embedder, Map<String, OnnxTensor> rowInputs) {
            this.prompt = prompt;
            this.promptLength = promptLength;
            this.embedder = embedder;
            this.rowInputs = new HashMap<>(rowInputs);
            this.batch = batch;
            this.ragged = null;
        }

        State(RaggedPrompts ragged, TokenEmbedder embedder) {
            this.prompt = null;
            this.promptLength = ragged.maxLength();
            this.embedder = embedder;
            this.rowInputs = new HashMap<>();
            this.batch = ragged.rows().size();
            this.ragged = ragged;
        }

        @Override
        public float[][] prefill() throws OrtException {
            if (ragged != null) {
                return prefillRagged();
            }
            conformRowInputs();
            for (Map.Entry<String, NodeInfo> e : pastInputs.entrySet()) {
                OnnxTensor empty = Tensors.emptyPast(e.getValue(), batch);
                owned.add(empty);
                past.put(e.getKey(), empty);
            }
            return run(prompt.make(batch), promptLength, false);
        }

        /**
         * Row inputs in this decoder's declared dtypes, converted once for all steps: with a per-file
         * precision choice the encoder's {@code encoder_hidden_states} may be float32 and the decoder's float16.
         */
        private void conformRowInputs() throws OrtException {
            for (Map.Entry<String, OnnxTensor> e : rowInputs.entrySet()) {
                OnnxTensor t = declared.conform(e.getKey(), e.getValue());
                if (t != e.getValue()) {
                    owned.add(t);
                    e.setValue(t);
                }
            }
        }

        @Override
        public float[][] step(long[] tokens) throws OrtException {
            long[][] ids = new long[tokens.length][];
            for (int i = 0; i < tokens.length; i++) {
                ids[i] = new long[] {tokens[i]};
            }
            return run(embedder != null ? embedder.embed(ids, declared.type(INPUTS_EMBEDS)) : Tensors.longs(ids), 1, true);
        }

        @Override
        public float[][][] extend(long[][] tokens) throws OrtException {
            OnnxTensor t = embedder != null ? embedder.embed(tokens, declared.type(INPUTS_EMBEDS)) : Tensors.longs(tokens);
            return run(t, tokens[0].length, true, Tensors::allLogits);
        }

        /** One decoder call; takes ownership of {@code tokens}. */
        private float[][] run(OnnxTensor tokens, int len, boolean useCache) throws OrtException {
            return run(tokens, len, useCache, Tensors::lastLogits);
        }

        /** One decoder call whose logits {@code read} turns into what the caller wants; takes ownership of {@code tokens}. */
        private <T> T run(OnnxTensor tokens, int len, boolean useCache, java.util.function.Function<OnnxTensor, T> read)
                throws OrtException {
            List<OnnxTensor> stepInputs = new ArrayList<>();
            stepInputs.add(tokens);
            try {
                Map<String, OnnxTensor> feed = new HashMap<>(rowInputs);
                feed.putAll(past);
                feed.putAll(crossPast);
                feed.put(embedder != null || !hasInput(INPUT_IDS) ? INPUTS_EMBEDS : INPUT_IDS, tokens);
                if (hasInput("use_cache_branch")) {
                    feed.put("use_cache_branch", track(stepInputs, Tensors.bool(useCache)));
                }
                putMaskAndPositions(feed, stepInputs, batch, len, pastLength, padding);
                OrtSession.Result result = session.run(feed);
                T logits;
                try {
                    logits = read.apply((OnnxTensor) result.get("logits").orElseThrow());
                } catch (RuntimeException e) {
                    result.close();
                    throw e;
                }
                releasePast();
                boolean keepCross = useCache && !crossPast.isEmpty();
                for (String name : pastInputs.keySet()) {
                    OnnxTensor present = (OnnxTensor) result.get(presentName(name)).orElseThrow();
                    if (!isCrossAttentionCache(name)) {
                        past.put(name, present);
                    } else if (!keepCross) {
                        crossPast.put(name, present);
                    }
                }
                if (!keepCross && !crossPast.isEmpty()) {
                    crossOwner = result;
                }
                pastOwner = result;
                pastLength += len;
                return logits;
            } finally {
                stepInputs.forEach(OnnxTensor::close);
            }
        }

        /**
         * Prefill of prompts of different lengths: one call per chunk ({@link RaggedPrompts#chunks});
         * with several chunks, their caches are left-padded into one batch.
         */
        private float[][] prefillRagged() throws OrtException {
            List<int[]> chunks = ragged.chunks();
            if (chunks.size() == 1) {
                int[] all = chunks.get(0);
                padding = ragged.padding(all);
                for (Map.Entry<String, NodeInfo> e : pastInputs.entrySet()) {
                    OnnxTensor empty = Tensors.emptyPast(e.getValue(), batch);
                    owned.add(empty);
                    past.put(e.getKey(), empty);
                }
                return run(ragged.tensor(all), promptLength, false);
            }
            float[][] logits = new float[batch][];
            List<OrtSession.Result> results = new ArrayList<>();
            try {
                for (int[] chunk : chunks) {
                    List<OnnxTensor> inputs = new ArrayList<>();
                    try {
                        Map<String, OnnxTensor> feed = new HashMap<>();
                        for (Map.Entry<String, NodeInfo> e : pastInputs.entrySet()) {
                            feed.put(e.getKey(), track(inputs, Tensors.emptyPast(e.getValue(), chunk.length)));
                        }
                        OnnxTensor tokens = track(inputs, ragged.tensor(chunk));
                        feed.put(INPUTS_EMBEDS, tokens);
                        if (hasInput("use_cache_branch")) {
                            feed.put("use_cache_branch", track(inputs, Tensors.bool(false)));
                        }
                        putMaskAndPositions(feed, inputs, chunk.length, (int) tokens.getInfo().getShape()[1], 0,
                                ragged.padding(chunk));
                        OrtSession.Result result = session.run(feed);
                        results.add(result);
                        float[][] chunkLogits = Tensors.lastLogits((OnnxTensor) result.get("logits").orElseThrow());
                        for (int i = 0; i < chunk.length; i++) {
                            logits[chunk[i]] = chunkLogits[i];
                        }
                    } finally {
                        inputs.forEach(OnnxTensor::close);
                    }
                }
                int maxLength = ragged.maxLength();
                padding = new int[batch];
                for (int r = 0; r < batch; r++) {
                    padding[r] = maxLength - ragged.lengths()[r];
                }
                for (Map.Entry<String, NodeInfo> e : pastInputs.entrySet()) {
                    List<OnnxTensor> parts = new ArrayList<>();
                    for (OrtSession.Result result : results) {
                        parts.add((OnnxTensor) result.get(presentName(e.getKey())).orElseThrow());
                    }
                    OnnxTensor merged = Tensors.leftPaddedRows(parts, chunks, batch, maxLength,
                            Tensors.sequenceAxis(e.getValue()));
                    owned.add(merged);
                    past.put(e.getKey(), merged);
                }
            } finally {
                results.forEach(OrtSession.Result::close);
            }
            pastLength = maxLength();
            return logits;
        }

        private int maxLength() {
            return ragged.maxLength();
        }

        @Override
        public void select(int[] rows) throws OrtException {
            Map<String, OnnxTensor> gathered = new HashMap<>();
            for (Map.Entry<String, OnnxTensor> e : past.entrySet()) {
                gathered.put(e.getKey(), Tensors.gatherRows(e.getValue(), rows));
            }
            Map<String, OnnxTensor> gatheredCross = new HashMap<>();
            for (Map.Entry<String, OnnxTensor> e : crossPast.entrySet()) {
                gatheredCross.put(e.getKey(), Tensors.gatherRows(e.getValue(), rows));
            }
            for (Map.Entry<String, OnnxTensor> e : rowInputs.entrySet()) {
                OnnxTensor old = e.getValue();
                OnnxTensor copy = Tensors.gatherRows(old, rows);
                if (owned.remove(old)) {
                    old.close();
                }
                owned.add(copy);
                e.setValue(copy);
            }
            releasePast();
            releaseCross();
            owned.addAll(gathered.values());
            past.putAll(gathered);
            owned.addAll(gatheredCross.values());
            crossPast.putAll(gatheredCross);
            batch = rows.length;
            if (padding != null) {
                int[] kept = new int[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    kept[i] = padding[rows[i]];
                }
                padding = kept;
            }
        }

        /** Drops the current past: the result that produced it, or the copies we made of it. */
        private void releasePast() {
            if (pastOwner != null) {
                if (pastOwner != crossOwner) {
                    pastOwner.close();
                }
                pastOwner = null;
            } else {
                past.values().forEach(t -> {
                    if (owned.remove(t)) {
                        t.close();
                    }
                });
            }
            past.clear();
        }

        /** Drops the cross-attention caches: the first step's result, or the copies we made of them. */
        private void releaseCross() {
            if (crossOwner != null) {
                if (crossOwner != pastOwner) {
                    crossOwner.close();
                }
                crossOwner = null;
            } else {
                crossPast.values().forEach(t -> {
                    if (owned.remove(t)) {
                        t.close();
                    }
                });
            }
            crossPast.clear();
        }

        @Override
        public void close() {
            releasePast();
            releaseCross();
            owned.forEach(OnnxTensor::close);
            owned.clear();
        }
    }


    /**
     * {@code attention_mask} and {@code position_ids}, where the export takes them, for {@code rows}
     * rows of {@code len} new positions after {@code pastLength} cached ones; row r's first
     * {@code padding[r]} columns are padding (masked; position 1, as transformers.js fills them).
     */
    private void putMaskAndPositions(Map<String, OnnxTensor> feed, List<OnnxTensor> owner, int rows, int len,
                                     int pastLength, int[] padding) throws OrtException {
        boolean padded = padding != null && java.util.Arrays.stream(padding).anyMatch(p -> p > 0);
        if (padded && !hasInput("attention_mask")) {
            throw new IllegalStateException("padded rows need an attention_mask input, which this decoder lacks");
        }
        if (hasInput("attention_mask")) {
            feed.put("attention_mask", track(owner, padded ? Tensors.leftPaddedMask(padding, pastLength + len)
                    : Tensors.ones(rows, pastLength + len)));
        }
        if (hasInput("position_ids")) {
            feed.put("position_ids", track(owner, padded ? Tensors.leftPaddedPositions(padding, len, pastLength)
                    : Tensors.positions(rows, len, pastLength)));
        }
    }

    private static OnnxTensor track(List<OnnxTensor> list, OnnxTensor t) {
        list.add(t);
        return t;
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
