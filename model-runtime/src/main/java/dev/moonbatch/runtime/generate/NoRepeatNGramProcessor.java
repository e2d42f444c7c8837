package dev.moonbatch.runtime.generate;

/**
 * transformers' {@code NoRepeatNGramLogitsProcessor}: a token that would complete an n-gram already
 * present in the context gets score {@code -inf}, so no n-gram of size {@code n} occurs twice. The
 * context is what the caller passes as prompt ids, then the generated ids (transformers looks at the
 * whole {@code input_ids}: the prompt of a decoder-only model, the decoder start token of an
 * encoder-decoder). Nothing is banned while the context is shorter than {@code n - 1}.
 */
public final class NoRepeatNGramProcessor implements LogitsProcessor {
    private final int n;

    public NoRepeatNGramProcessor(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("--no-repeat-ngram-size: expected a number ≥ 1 but got " + n);
        }
        this.n = n;
    }

    @Override
    public void process(long[] context, float[] scores) {
        int len = context.length;
        if (len + 1 < n) {
            return;
        }
        // Every earlier n-gram context[i .. i+n-1] whose first n-1 tokens equal the last n-1 tokens
        // bans its last token (for n = 1: every token seen so far).
        int tail = len - (n - 1);
        for (int i = 0; i + n <= len; i++) {
            boolean same = true;
            for (int j = 0; j < n - 1; j++) {
                if (context[i + j] != context[tail + j]) {
                    same = false;
                    break;
                }
            }
            if (same) {
                long banned = context[i + n - 1];
                if (banned >= 0 && banned < scores.length) {
                    scores[(int) banned] = Float.NEGATIVE_INFINITY;
                }
            }
        }
    }
}
