package dev.moonbatch.runtime.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A toy model for search tests: each row's next-token logits are a fixed function of (input, the
 * row's generated tokens), so a row fed the wrong token or gathered from the wrong parent gets the
 * wrong logits. Records how the generator drives it.
 */
final class TableDecodingState implements DecodingState {
    /** Next-token logits of input {@code input} after {@code generated}. */
    interface Model {
        float[] logits(int input, long[] generated);
    }

    final Model model;
    /** Per row: its input and its generated tokens. */
    int[] rowInput;
    long[][] rowTokens;
    int prefills;
    int steps;
    final List<int[]> selections = new ArrayList<>();
    final List<Integer> batchSizes = new ArrayList<>();

    /** The generated ids of each sequence, for tests that check only which tokens were chosen. */
    static List<long[]> ids(List<GeneratedSequence> sequences) {
        return sequences.stream().map(GeneratedSequence::ids).toList();
    }

    TableDecodingState(int inputs, Model model) {
        this.model = model;
        this.rowInput = new int[inputs];
        Arrays.setAll(rowInput, i -> i);
        this.rowTokens = new long[inputs][0];
    }

    /**
     * Logits from a random table keyed by (seed, input, last two tokens): different enough across
     * prefixes that greedy and beam search disagree.
     */
    static Model randomTable(long seed, int vocab, double scale) {
        return (input, generated) -> {
            int n = generated.length;
            long prev1 = n >= 1 ? generated[n - 1] : -1;
            long prev2 = n >= 2 ? generated[n - 2] : -1;
            Random random = new Random(seed * 1_000_003L + input * 10_007L + (prev2 + 1) * 101L + (prev1 + 1));
            float[] out = new float[vocab];
            for (int t = 0; t < vocab; t++) {
                out[t] = (float) (random.nextGaussian() * scale);
            }
            return out;
        };
    }

    private float[][] logits() {
        batchSizes.add(rowInput.length);
        float[][] out = new float[rowInput.length][];
        for (int r = 0; r < rowInput.length; r++) {
            out[r] = model.logits(rowInput[r], rowTokens[r]);
        }
        return out;
    }

    @Override
    public float[][] prefill() {
        prefills++;
        if (prefills > 1) {
            throw new AssertionError("prefill ran twice");
        }
        return logits();
    }

    @Override
    public float[][] step(long[] tokens) {
        if (tokens.length != rowInput.length) {
            throw new AssertionError(tokens.length + " tokens for " + rowInput.length + " rows");
        }
        steps++;
        for (int r = 0; r < tokens.length; r++) {
            long[] next = Arrays.copyOf(rowTokens[r], rowTokens[r].length + 1);
            next[next.length - 1] = tokens[r];
            rowTokens[r] = next;
        }
        return logits();
    }

    @Override
    public void select(int[] rows) {
        selections.add(rows.clone());
        int[] input = new int[rows.length];
        long[][] tokens = new long[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            input[i] = rowInput[rows[i]];
            tokens[i] = rowTokens[rows[i]];
        }
        rowInput = input;
        rowTokens = tokens;
    }

    @Override
    public void close() {
    }
}
