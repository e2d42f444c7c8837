package dev.moonbatch.runtime.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * Adjusts one row's next-token scores given the tokens of that row so far, like transformers'
 * {@code LogitsProcessor}. Greedy search applies processors to the raw logits; beam search to the
 * log-softmax of the logits (transformers' {@code _beam_search} does {@code log_softmax} first and
 * does not renormalise after), so the same processor serves both.
 */
public interface LogitsProcessor {
    /**
     * @param context the row's tokens so far: the prompt ids the caller gave (if any), then the generated ids
     * @param scores  the row's scores over the vocabulary, changed in place
     */
    void process(long[] context, float[] scores);

    /**
     * {@link #process(long[], float[])} knowing how many of the context's tokens were generated (the
     * rest is the prompt): processors tied to the generation length ({@link ForcedTokenProcessor}'s
     * forced EOS) override this; the searches call this one.
     */
    default void process(long[] context, int generated, float[] scores) {
        process(context, scores);
    }

    /**
     * The processors {@code options} asks for, in transformers' order (repetition penalty, n-gram ban,
     * forced BOS, forced EOS).
     */
    static List<LogitsProcessor> of(GenerationOptions options) {
        List<LogitsProcessor> list = new ArrayList<>(4);
        if (options.repetitionPenalty() != 1.0) {
            list.add(new RepetitionPenaltyProcessor((float) options.repetitionPenalty()));
        }
        if (options.noRepeatNgramSize() > 0) {
            list.add(new NoRepeatNGramProcessor(options.noRepeatNgramSize()));
        }
        if (options.forcedBosTokenId() >= 0) {
            list.add(ForcedTokenProcessor.bos(options.forcedBosTokenId()));
        }
        if (options.forcedEosTokenId() >= 0) {
            list.add(ForcedTokenProcessor.eos(options.forcedEosTokenId(), options.maxNewTokens()));
        }
        return List.copyOf(list);
    }
}
