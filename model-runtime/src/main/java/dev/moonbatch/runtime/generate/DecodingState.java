package dev.moonbatch.runtime.generate;

import ai.onnxruntime.OrtException;

/**
 * A batch of sequences being decoded by one model: whatever the family keeps between steps (KV
 * cache, encoder states) lives here. The {@link Generator} only sees logits and token choices, so
 * every family and every search strategy share one loop.
 */
public interface DecodingState extends AutoCloseable {
    /** Runs the prompt (decoder start token, or prompt embeddings) and returns each row's next-token logits. */
    float[][] prefill() throws OrtException;

    /** Feeds one new token per row and returns each row's next-token logits. */
    float[][] step(long[] tokens) throws OrtException;

    /**
     * Feeds several tokens per row at once (rows right-padded to one length: a row's logits past its
     * own tokens are the caller's to ignore) and returns each row's logits at every new position,
     * [row][position][vocab]. Teacher-forced scoring uses it; the generation loop never does.
     */
    default float[][][] extend(long[][] tokens) throws OrtException {
        throw new UnsupportedOperationException("this decoding state feeds one token per step");
    }

    /**
     * Keeps these rows, in this order, for the next step: finished sequences leave the batch,
     * beam search reorders and duplicates rows. Caches are gathered, never recomputed.
     */
    void select(int[] rows) throws OrtException;

    @Override
    void close();
}
