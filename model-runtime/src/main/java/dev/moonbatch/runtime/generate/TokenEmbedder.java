package dev.moonbatch.runtime.generate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.util.Map;

/**
 * The bundle's {@code embed_tokens.onnx}: token ids → {@code inputs_embeds}. Decoder-only VLMs
 * embed the prompt here, put image features in place of the image tokens, and embed each
 * generated token before the next step.
 */
public final class TokenEmbedder implements AutoCloseable {
    private final OrtSession session;

    public TokenEmbedder(OrtSession session) {
        this.session = session;
    }

    /** Embeddings of [rows, len] ids, flat in row-major [rows, len, hidden] order. */
    public float[] embedFlat(long[][] ids) throws OrtException {
        try (OnnxTensor input = Tensors.longs(ids);
             OrtSession.Result result = session.run(Map.of("input_ids", input))) {
            return Tensors.floatArray((OnnxTensor) result.get(0));
        }
    }

    /** Embeddings of [rows, len] ids as an {@code inputs_embeds} tensor the caller closes. */
    public OnnxTensor embed(long[][] ids) throws OrtException {
        return embed(ids, ai.onnxruntime.OnnxJavaType.FLOAT);
    }

    /** {@link #embed(long[][])} in the dtype the decoder declares for {@code inputs_embeds}. */
    public OnnxTensor embed(long[][] ids, ai.onnxruntime.OnnxJavaType type) throws OrtException {
        float[] flat = embedFlat(ids);
        int rows = ids.length;
        int len = ids[0].length;
        return Tensors.floats(type, FloatBuffer.wrap(flat), rows, len, flat.length / (rows * len));
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
