package dev.moonbatch.runtime.generate;

import dev.moonbatch.runtime.Generation.FinishReason;

/**
 * One input row's result from {@link Generator}: the generated ids (EOS included when it was
 * produced), each token's log-probability (see {@link dev.moonbatch.runtime.Generation} for the
 * definition, greedy and beam) and why it stopped.
 */
public record GeneratedSequence(long[] ids, float[] logProbs, FinishReason finishReason) {
    public GeneratedSequence {
        if (logProbs.length != ids.length) {
            throw new IllegalArgumentException(logProbs.length + " log-probs for " + ids.length + " ids");
        }
    }

    /** Whether it ended on an EOS token (or, in beam search, with every continuation banned). */
    public boolean endedOnEos() {
        return finishReason == FinishReason.EOS;
    }
}
