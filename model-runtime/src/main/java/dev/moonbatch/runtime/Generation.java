package dev.moonbatch.runtime;

import java.util.List;
import java.util.Locale;

/**
 * What the model produced for one image and task: the generated ids (EOS included when it was
 * produced), their text, each generated token's log-probability and why generation stopped.
 *
 * <p>Definitions (also in {@code docs/confidence.md}):
 * <ul>
 *   <li>{@code tokenLogProbs[i]} is the log-softmax, at {@code tokenIds[i]}, of the scores the token
 *       was chosen from. Greedy search: {@code log_softmax} of the logits <em>after</em> the logits
 *       processors (repetition penalty, no-repeat n-gram, forced BOS/EOS). Beam search: the chosen
 *       hypothesis's own per-step scores, i.e. the value added to the beam's running sum at each step
 *       ({@code log_softmax} of the raw logits, then the processors, as transformers does; not
 *       renormalised). The EOS token, when generated, has its entry like any other.</li>
 *   <li>{@link #confidence()} = {@code exp(mean(tokenLogProbs))}, the geometric mean of the token
 *       probabilities; {@link #minTokenProb()} = {@code exp(min(tokenLogProbs))}. Both NaN when no
 *       token was generated.</li>
 *   <li>{@link #finishReason()}: {@link FinishReason#EOS} when the sequence ended on an EOS token;
 *       {@link FinishReason#LENGTH} when it stopped at {@code max_new_tokens} without one. Beam search
 *       can also end a beam early because every continuation was banned by a processor: that counts as
 *       {@code LENGTH} only if the beam had reached {@code max_new_tokens} (it never has, so in practice
 *       {@code EOS}: the model had nothing left to say).</li>
 *   <li>{@link #regions()}: the located answers of a region task (Florence-2 {@code <OD>}, …), in the
 *       order generated; empty for every other task and family. {@code text} is then the answer with
 *       its location tokens taken out.</li>
 * </ul>
 */
public record Generation(long[] tokenIds, String text, float[] tokenLogProbs, FinishReason finishReason,
                         List<Region> regions) {
    /** Why generation stopped. */
    public enum FinishReason {
        /** The sequence ended on an EOS token (or, in beam search, no continuation was allowed). */
        EOS,
        /** It reached {@code max_new_tokens} without an EOS. */
        LENGTH;

        /** {@code "eos"} or {@code "length"}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Generation {
        if (tokenLogProbs.length != tokenIds.length) {
            throw new IllegalArgumentException(tokenLogProbs.length + " log-probs for " + tokenIds.length + " tokens");
        }
        regions = List.copyOf(regions);
    }

    /** A generation without regions (every task that is not a region task). */
    public Generation(long[] tokenIds, String text, float[] tokenLogProbs, FinishReason finishReason) {
        this(tokenIds, text, tokenLogProbs, finishReason, List.of());
    }

    /** exp(mean of {@link #tokenLogProbs()}); NaN when no token was generated. */
    public double confidence() {
        if (tokenLogProbs.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (float lp : tokenLogProbs) {
            sum += lp;
        }
        return Math.exp(sum / tokenLogProbs.length);
    }

    /** exp(min of {@link #tokenLogProbs()}); NaN when no token was generated. */
    public double minTokenProb() {
        if (tokenLogProbs.length == 0) {
            return Double.NaN;
        }
        double min = Double.POSITIVE_INFINITY;
        for (float lp : tokenLogProbs) {
            min = Math.min(min, lp);
        }
        return Math.exp(min);
    }
}
