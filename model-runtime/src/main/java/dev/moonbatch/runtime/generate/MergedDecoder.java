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
 * An Optimum "merged" decoder ({@code decoder_model_merged.onnx}): one graph that takes
 * {@code use_cache_branch} to choose between the first step (no past) and later steps
 * (with {@code past_key_values.*}), and returns {@code logits} and {@code present.*}.
 * It reads its contract from the session's own input metadata, so optional inputs
 * ({@code attention_mask}, {@code position_ids}) are fed only where the export declares them.
 */
public final class MergedDecoder implements AutoCloseable {
    static final String PAST_PREFIX = "past_key_values.";
    static final String PRESENT_PREFIX = "present.";

    private final OrtSession session;
    private final Map<String, NodeInfo> pastInputs = new LinkedHashMap<>();
    private final Set<String> inputNames;

    public MergedDecoder(OrtSession session, String file) {
        this.session = session;
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            this.inputNames = inputs.keySet();
            inputs.forEach((name, info) -> {
                if (name.startsWith(PAST_PREFIX)) {
                    pastInputs.put(name, info);
                }
            });
            Set<String> outputs = session.getOutputNames();
            for (String required : List.of("input_ids", "use_cache_branch")) {
                if (!inputNames.contains(required)) {
                    throw new BundleException(file + " is not a merged decoder: it lacks the input '" + required
                            + "' (inputs: " + inputNames + ")");
                }
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

    public boolean hasInput(String name) {
        return inputNames.contains(name);
    }

    /**
     * A decoding state for a batch. {@code rowInputs} are per-sequence inputs that stay the same
     * at every step (e.g. {@code encoder_hidden_states}); the state does not close them, but closes
     * the copies it makes when rows are selected.
     */
    public DecodingState start(long[][] promptIds, Map<String, OnnxTensor> rowInputs) {
        return new State(promptIds, rowInputs);
    }

    private final class State implements DecodingState {
        private final long[][] prompt;
        private final Map<String, OnnxTensor> rowInputs;
        private final List<OnnxTensor> owned = new ArrayList<>();
        private final Map<String, OnnxTensor> past = new HashMap<>();
        private OrtSession.Result pastOwner;
        private int batch;
        private int pastLength;

        State(long[][] prompt, Map<String, OnnxTensor> rowInputs) {
            this.prompt = prompt;
            this.rowInputs = new HashMap<>(rowInputs);
            this.batch = prompt.length;
        }

        @Override
        public float[][] prefill() throws OrtException {
            for (Map.Entry<String, NodeInfo> e : pastInputs.entrySet()) {
                OnnxTensor empty = Tensors.emptyPast(e.getValue(), batch);
                owned.add(empty);
                past.put(e.getKey(), empty);
            }
            return run(prompt, false);
        }

        @Override
        public float[][] step(long[] tokens) throws OrtException {
            long[][] ids = new long[tokens.length][];
            for (int i = 0; i < tokens.length; i++) {
                ids[i] = new long[] {tokens[i]};
            }
            return run(ids, true);
        }

        private float[][] run(long[][] ids, boolean useCache) throws OrtException {
            int len = ids[0].length;
            List<OnnxTensor> stepInputs = new ArrayList<>();
            try {
                Map<String, OnnxTensor> feed = new HashMap<>(rowInputs);
                feed.putAll(past);
                feed.put("input_ids", track(stepInputs, Tensors.longs(ids)));
                feed.put("use_cache_branch", track(stepInputs, Tensors.bool(useCache)));
                if (hasInput("attention_mask")) {
                    feed.put("attention_mask", track(stepInputs, Tensors.ones(batch, pastLength + len)));
                }
                if (hasInput("position_ids")) {
                    feed.put("position_ids", track(stepInputs, Tensors.positions(batch, len, pastLength)));
                }
                OrtSession.Result result = session.run(feed);
                float[][] logits;
                try {
                    logits = Tensors.lastLogits((OnnxTensor) result.get("logits").orElseThrow());
                } catch (RuntimeException e) {
                    result.close();
                    throw e;
                }
                releasePast();
                for (String name : pastInputs.keySet()) {
                    past.put(name, (OnnxTensor) result.get(presentName(name)).orElseThrow());
                }
                pastOwner = result;
                pastLength += len;
                return logits;
            } finally {
                stepInputs.forEach(OnnxTensor::close);
            }
        }

        @Override
        public void select(int[] rows) throws OrtException {
            Map<String, OnnxTensor> gathered = new HashMap<>();
            for (Map.Entry<String, OnnxTensor> e : past.entrySet()) {
                gathered.put(e.getKey(), Tensors.gatherRows(e.getValue(), rows));
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
            owned.addAll(gathered.values());
            past.putAll(gathered);
            batch = rows.length;
        }

        /** Drops the current past: the result that produced it, or the copies we made of it. */
        private void releasePast() {
            if (pastOwner != null) {
                pastOwner.close();
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

        @Override
        public void close() {
            releasePast();
            owned.forEach(OnnxTensor::close);
            owned.clear();
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
