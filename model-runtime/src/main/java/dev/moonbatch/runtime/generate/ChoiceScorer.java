package dev.moonbatch.runtime.generate;

import ai.onnxruntime.OrtException;

/**
 * Teacher-forced scores of closed choices, for every family whose decoding goes through a
 * {@link DecodingState}: each prompt is run once; its KV cache is copied to one row per choice
 * ({@link DecodingState#select}, rows repeated, nothing recomputed); then one decoder call feeds
 * every choice's tokens at once, right-padded to the longest ({@link DecodingState#extend}; padding
 * sits after a row's own tokens, so the causal mask keeps it out of what they see). A choice's score
 * is the sum, in double precision, of the log-softmax of the logits at each of its tokens: the first
 * from the prompt's last position, the others from the position of the token before.
 */
public final class ChoiceScorer {
    private ChoiceScorer() {
    }

    /**
     * @param state   a fresh state over the prompts (one row each); it is prefilled and extended here
     * @param choices per prompt row, each choice's token ids (its text, then EOS), none empty
     * @return per prompt row, each choice's summed log-probability
     */
    public static double[][] score(DecodingState state, long[][][] choices) throws OrtException {
        float[][] first = state.prefill();
        if (first.length != choices.length) {
            throw new IllegalArgumentException(choices.length + " choice lists for " + first.length + " prompts");
        }
        int rows = 0;
        int longest = 0;
        for (long[][] list : choices) {
            rows += list.length;
            for (long[] c : list) {
                if (c.length == 0) {
                    throw new IllegalArgumentException("a choice without tokens");
                }
                longest = Math.max(longest, c.length);
            }
        }
        double[][] out = new double[choices.length][];
        double[] firstLogSum = new double[choices.length];
        for (int p = 0; p < choices.length; p++) {
            out[p] = new double[choices[p].length];
            firstLogSum[p] = BeamSearch.logSumExp(first[p]);
            for (int c = 0; c < choices[p].length; c++) {
                out[p][c] = first[p][(int) choices[p][c][0]] - firstLogSum[p];
            }
        }
        if (longest == 1) {
            return out;
        }
        int[] rowOf = new int[rows];
        long[][] fed = new long[rows][longest - 1];
        for (int p = 0, r = 0; p < choices.length; p++) {
            for (long[] c : choices[p]) {
                rowOf[r] = p;
                for (int k = 0; k < longest - 1; k++) {
                    fed[r][k] = c[Math.min(k, c.length - 1)]; // past its end: repeats its last token, never read
                }
                r++;
            }
        }
        state.select(rowOf);
        float[][][] logits = state.extend(fed);
        for (int p = 0, r = 0; p < choices.length; p++) {
            for (int c = 0; c < choices[p].length; c++, r++) {
                long[] ids = choices[p][c];
                for (int k = 1; k < ids.length; k++) {
                    float[] at = logits[r][k - 1];
                    out[p][c] += at[(int) ids[k]] - BeamSearch.logSumExp(at);
                }
            }
        }
        return out;
    }
}
