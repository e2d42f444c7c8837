package dev.moonbatch.runtime.generate;

import java.util.Arrays;

/**
 * transformers' {@code RepetitionPenaltyLogitsProcessor} (CTRL's penalty): every distinct token that
 * is already in the context has its score divided by the penalty when positive and multiplied by it
 * when negative (zero stays zero), once however often it occurs. With a penalty above 1 that makes
 * repeated tokens less likely. Like transformers, the context includes the prompt ids the caller
 * passes (for a decoder-only model the whole prompt, for an encoder-decoder the decoder start token).
 */
public final class RepetitionPenaltyProcessor implements LogitsProcessor {
    private final float penalty;

    public RepetitionPenaltyProcessor(float penalty) {
        if (!(penalty > 0) || !Float.isFinite(penalty)) {
            throw new IllegalArgumentException("--repetition-penalty: expected a number > 0 but got " + penalty);
        }
        this.penalty = penalty;
    }

    @Override
    public void process(long[] context, float[] scores) {
        long[] distinct = context.clone();
        Arrays.sort(distinct);
        for (int i = 0; i < distinct.length; i++) {
            if (i > 0 && distinct[i] == distinct[i - 1]) {
                continue;
            }
            long token = distinct[i];
            if (token < 0 || token >= scores.length) {
                continue;
            }
            float s = scores[(int) token];
            scores[(int) token] = s < 0 ? s * penalty : s / penalty;
        }
    }
}
