package dev.moonbatch.runtime.generate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The element types one session declares for its inputs, and float tensors made in (or converted
 * to) them. The {@code _fp16} / {@code _q4f16} exports declare float16 for {@code pixel_values},
 * {@code inputs_embeds}, {@code encoder_hidden_states} and the KV cache, and a per-file precision
 * choice hands one session's float16 output to another session's float32 input (or the other way
 * round). Every float tensor a model feeds goes through here, so no family needs to know which
 * dtype its files were exported in.
 */
public final class DeclaredInputs {
    private final Map<String, OnnxJavaType> types;

    private DeclaredInputs(Map<String, OnnxJavaType> types) {
        this.types = types;
    }

    public static DeclaredInputs of(OrtSession session) {
        try {
            Map<String, OnnxJavaType> types = new HashMap<>();
            for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
                if (e.getValue().getInfo() instanceof TensorInfo t) {
                    types.put(e.getKey(), t.type);
                }
            }
            return new DeclaredInputs(Map.copyOf(types));
        } catch (OrtException e) {
            throw new IllegalStateException("cannot read the inputs of a session: " + e.getMessage(), e);
        }
    }

    /** The declared element type of an input; FLOAT for an input the session does not declare as a tensor. */
    public OnnxJavaType type(String input) {
        return types.getOrDefault(input, OnnxJavaType.FLOAT);
    }

    /** Float values as a tensor for {@code input}, in its declared float type. */
    public OnnxTensor floats(String input, FloatBuffer data, long... shape) throws OrtException {
        return Tensors.floats(type(input), data, shape);
    }

    /**
     * The tensor as {@code input} declares it: the tensor itself when its type already fits (or it is
     * not a float), else a converted copy that the caller closes.
     */
    public OnnxTensor conform(String input, OnnxTensor tensor) throws OrtException {
        OnnxJavaType have = tensor.getInfo().type;
        OnnxJavaType want = types.get(input);
        if (want == null || want == have || !Tensors.isFloat(have) || !Tensors.isFloat(want)) {
            return tensor;
        }
        return Tensors.floats(want, tensor.getFloatBuffer(), tensor.getInfo().getShape());
    }

    /** A feed with every float tensor conformed ({@link #conform}); closing it closes the copies only. */
    public Feed conform(Map<String, OnnxTensor> feed) throws OrtException {
        Map<String, OnnxTensor> out = new HashMap<>(feed);
        List<OnnxTensor> copies = new ArrayList<>();
        try {
            for (Map.Entry<String, OnnxTensor> e : out.entrySet()) {
                OnnxTensor t = conform(e.getKey(), e.getValue());
                if (t != e.getValue()) {
                    copies.add(t);
                    e.setValue(t);
                }
            }
        } catch (OrtException | RuntimeException e) {
            copies.forEach(OnnxTensor::close);
            throw e;
        }
        return new Feed(Map.copyOf(out), copies);
    }

    /** A conformed feed and the copies it made. */
    public record Feed(Map<String, OnnxTensor> tensors, List<OnnxTensor> copies) implements AutoCloseable {
        @Override
        public void close() {
            copies.forEach(OnnxTensor::close);
        }
    }
}
