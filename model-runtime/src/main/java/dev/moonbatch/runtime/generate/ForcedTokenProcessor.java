package dev.moonbatch.runtime.generate;

/**
 * transformers' {@code ForcedBOSTokenLogitsProcessor} and {@code ForcedEOSTokenLogitsProcessor}: at the
 * step they apply to, every score becomes {@code -inf} but the forced token's, which becomes 0. BART-style
 * encoder-decoders (Florence-2) ask for both in their generation config: BOS right after the decoder
 * start token, EOS as the last token when generation would otherwise be cut at {@code max_new_tokens}.
 */
public final class ForcedTokenProcessor implements LogitsProcessor {
    private final long token;
    /** For forced EOS: the generated count at which it applies; -1 for forced BOS. */
    private final int atGenerated;

    private ForcedTokenProcessor(long token, int atGenerated) {
        this.token = token;
        this.atGenerated = atGenerated;
    }

    /** Forces {@code token} when the context is one token long (transformers: {@code cur_len == 1}). */
    public static ForcedTokenProcessor bos(long token) {
        return new ForcedTokenProcessor(token, -1);
    }

    /**
     * Forces {@code token} as the {@code maxNewTokens}-th generated token (transformers:
     * {@code cur_len == max_length - 1} with {@code max_length = prompt length + max_new_tokens}).
     */
    public static ForcedTokenProcessor eos(long token, int maxNewTokens) {
        return new ForcedTokenProcessor(token, maxNewTokens - 1);
    }

    @Override
    public void process(long[] context, float[] scores) {
        if (atGenerated >= 0) {
            throw new IllegalStateException("forced EOS depends on the generated count: call process(context, generated, scores)");
        }
        process(context, context.length, scores);
    }

    @Override
    public void process(long[] context, int generated, float[] scores) {
        boolean applies = atGenerated < 0 ? context.length == 1 : generated == atGenerated;
        if (applies && token >= 0 && token < scores.length) {
            java.util.Arrays.fill(scores, Float.NEGATIVE_INFINITY);
            scores[(int) token] = 0f;
        }
    }
}
