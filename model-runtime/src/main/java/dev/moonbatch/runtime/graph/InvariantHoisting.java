package dev.moonbatch.runtime.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.OrtSessions;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.generate.DeclaredInputs;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The decoder session a family runs, with its per-image work hoisted out when
 * {@link RuntimeOptions#hoistInvariants()} is on and the rewrite is possible: then
 * {@link #rowInputs} runs the per-image session once per batch and adds its outputs to the
 * per-sequence inputs the decoder is fed at every step.
 */
public final class InvariantHoisting implements AutoCloseable {
    private final OrtSession decoder;
    private final OrtSession perImage;
    /** The per-image graph's input dtypes: it may be float32 where the encoder feeding it is float16. */
    private final DeclaredInputs perImageInputs;

    private InvariantHoisting(OrtSession decoder, OrtSession perImage) {
        this.decoder = decoder;
        this.perImage = perImage;
        this.perImageInputs = perImage == null ? null : DeclaredInputs.of(perImage);
    }

    /**
     * Opens the decoder (rewritten or as is). {@code available} are the per-image tensors the family
     * can feed (e.g. {@code encoder_hidden_states}); a rewrite that needs others is not used.
     */
    public static InvariantHoisting open(Path decoderFile, RuntimeOptions options, Set<String> available) {
        Optional<HoistedDecoder.Pair> hoisted = options.hoistInvariants() ? HoistedDecoder.prepare(decoderFile) : Optional.empty();
        if (hoisted.isPresent() && available.containsAll(hoisted.get().perImageInputs())) {
            OrtSession pre = OrtSessions.open(hoisted.get().perImage(), options);
            try {
                return new InvariantHoisting(OrtSessions.open(hoisted.get().decoder(), options), pre);
            } catch (RuntimeException e) {
                try {
                    pre.close();
                } catch (OrtException ignored) {
                    // already failing
                }
                throw e;
            }
        }
        return new InvariantHoisting(OrtSessions.open(decoderFile, options), null);
    }

    /** The session to decode with; its owner (e.g. {@code MergedDecoder}) closes it. */
    public OrtSession decoder() {
        return decoder;
    }

    public boolean hoisted() {
        return perImage != null;
    }

    /** Per-sequence decoder inputs for one batch; close after decoding. */
    public RowInputs rowInputs(Map<String, OnnxTensor> perImageTensors) throws OrtException {
        Map<String, OnnxTensor> rows = new HashMap<>();
        OrtSession.Result result = null;
        if (perImage != null) {
            Map<String, OnnxTensor> feed = new HashMap<>();
            for (String name : perImage.getInputNames()) {
                feed.put(name, perImageTensors.get(name));
            }
            try (DeclaredInputs.Feed conformed = perImageInputs.conform(feed)) {
                result = perImage.run(conformed.tensors());
            }
            for (Map.Entry<String, OnnxValue> e : result) {
                rows.put(e.getKey(), (OnnxTensor) e.getValue());
            }
        }
        Set<String> wanted = decoder.getInputNames();
        perImageTensors.forEach((k, v) -> {
            if (wanted.contains(k)) {
                rows.put(k, v);
            }
        });
        return new RowInputs(rows, result);
    }

    /** The tensors to pass as {@code rowInputs}; owns the per-image session's result. */
    public static final class RowInputs implements AutoCloseable {
        private final Map<String, OnnxTensor> tensors;
        private final OrtSession.Result owner;

        RowInputs(Map<String, OnnxTensor> tensors, OrtSession.Result owner) {
            this.tensors = Map.copyOf(tensors);
            this.owner = owner;
        }

        public Map<String, OnnxTensor> tensors() {
            return tensors;
        }

        @Override
        public void close() {
            if (owner != null) {
                owner.close();
            }
        }
    }

    /** Closes the per-image session (the decoder session belongs to whoever decodes with it). */
    @Override
    public void close() throws OrtException {
        if (perImage != null) {
            perImage.close();
        }
    }
}
