package dev.moonbatch.runtime.generate;

import ai.onnxruntime.OrtException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one decoding loop every family uses: prefill, then one token per step for the rows still
 * running. A row that emits EOS leaves the batch at once, so finished sequences stop costing work.
 */
public final class Generator {
    private Generator() {
    }

    /**
     * Greedy search. Returns, per input row, the generated ids (EOS included when it was produced),
     * in the same order as the rows of {@code state}.
     */
    public static List<long[]> greedy(DecodingState state, GenerationOptions options) throws OrtException {
        float[][] logits = state.prefill();
        int rows = logits.length;
        List<List<Long>> out = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            out.add(new ArrayList<>());
        }
        int[] active = new int[rows];
        Arrays.setAll(active, i -> i);
        for (int step = 0; step < options.maxNewTokens() && active.length > 0; step++) {
            long[] next = new long[active.length];
            int running = 0;
            for (int r = 0; r < active.length; r++) {
                next[r] = argmax(logits[r]);
                out.get(active[r]).add(next[r]);
                if (!options.isEos(next[r])) {
                    running++;
                }
            }
            if (step + 1 == options.maxNewTokens() || running == 0) {
                break;
            }
            if (running < active.length) {
                int[] keep = new int[running];
                int[] stillActive = new int[running];
                long[] keptTokens = new long[running];
                for (int r = 0, k = 0; r < active.length; r++) {
                    if (!options.isEos(next[r])) {
                        keep[k] = r;
                        stillActive[k] = active[r];
                        keptTokens[k++] = next[r];
                    }
                }
                state.select(keep);
                active = stillActive;
                next = keptTokens;
            }
            logits = state.step(next);
        }
        return out.stream().map(ids -> ids.stream().mapToLong(Long::longValue).toArray()).toList();
    }

    /** Index of the largest logit; the first one on ties, as torch.argmax and transformers.js do. */
    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
