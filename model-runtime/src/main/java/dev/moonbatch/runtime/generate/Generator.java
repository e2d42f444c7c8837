package dev.moonbatch.runtime.generate;

import ai.onnxruntime.OrtException;
import dev.moonbatch.runtime.Generation.FinishReason;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one decoding loop every family uses: prefill, then one token per step for the rows still
 * running. A row that emits EOS leaves the batch at once, so finished sequences stop costing work.
 * {@link #generate} picks greedy or beam search from {@link GenerationOptions#numBeams()}; both go
 * through the same {@link DecodingState}, so every family gets both.
 */
public final class Generator {
    private Generator() {
    }

    /**
     * Greedy search ({@code options.numBeams()} = 1) or beam search (more): see {@link #greedy} and
     * {@link #beam}. As in transformers, one beam means greedy search, whatever the beam options say.
     */
    public static List<GeneratedSequence> generate(DecodingState state, GenerationOptions options) throws OrtException {
        return generate(state, options, null);
    }

    /**
     * {@link #generate(DecodingState, GenerationOptions)} with each row's prompt ids, which the
     * logits processors ({@code repetition_penalty}, {@code no_repeat_ngram_size}) count as part of
     * the sequence, as transformers does with {@code input_ids}. {@code null} means none.
     */
    public static List<GeneratedSequence> generate(DecodingState state, GenerationOptions options, long[][] promptIds)
            throws OrtException {
        return options.numBeams() > 1 ? beam(state, options, promptIds) : greedy(state, options, promptIds);
    }

    /**
     * Beam search over every input row of {@code state}; see {@link BeamSearch}. Returns, per input
     * row, the best hypothesis's generated ids (EOS included when it was produced), in input order,
     * with its per-step scores (the values its running sum added up) as the log-probs.
     */
    public static List<GeneratedSequence> beam(DecodingState state, GenerationOptions options) throws OrtException {
        return beam(state, options, null);
    }

    /** {@link #beam(DecodingState, GenerationOptions)} with each row's prompt ids for the logits processors. */
    public static List<GeneratedSequence> beam(DecodingState state, GenerationOptions options, long[][] promptIds)
            throws OrtException {
        return new BeamSearch(options, promptIds).run(state);
    }

    /**
     * Greedy search. Returns, per input row, the generated ids (EOS included when it was produced),
     * in the same order as the rows of {@code state}. The options' logits processors, if any, adjust
     * the raw logits before the argmax (transformers' greedy path); the beam options are ignored.
     * Each token's log-prob is the log-softmax of those processed logits at the chosen token (one
     * log-sum-exp pass over the row per step).
     */
    public static List<GeneratedSequence> greedy(DecodingState state, GenerationOptions options) throws OrtException {
        return greedy(state, options, null);
    }

    /** {@link #greedy(DecodingState, GenerationOptions)} with each row's prompt ids for the logits processors. */
    public static List<GeneratedSequence> greedy(DecodingState state, GenerationOptions options, long[][] promptIds)
            throws OrtException {
        List<LogitsProcessor> processors = LogitsProcessor.of(options);
        float[][] logits = state.prefill();
        int rows = logits.length;
        List<List<Long>> out = new ArrayList<>(rows);
        float[][] logProbs = new float[rows][Math.max(0, options.maxNewTokens())];
        for (int i = 0; i < rows; i++) {
            out.add(new ArrayList<>());
        }
        int[] active = new int[rows];
        Arrays.setAll(active, i -> i);
        for (int step = 0; step < options.maxNewTokens() && active.length > 0; step++) {
            long[] next = new long[active.length];
            int running = 0;
            for (int r = 0; r < active.length; r++) {
                if (!processors.isEmpty()) {
                    long[] context = context(promptIds, active[r], out.get(active[r]));
                    for (LogitsProcessor processor : processors) {
                        processor.process(context, out.get(active[r]).size(), logits[r]);
                    }
                }
                int best = argmax(logits[r]);
                next[r] = best;
                float chosen = logits[r][best];
                // A row whose every token is banned (-inf) still yields token 0, as torch.argmax does; its log-prob is -inf.
                logProbs[active[r]][out.get(active[r]).size()] = chosen == Float.NEGATIVE_INFINITY
                        ? Float.NEGATIVE_INFINITY : (float) (chosen - BeamSearch.logSumExp(logits[r]));
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
        List<GeneratedSequence> result = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            long[] ids = out.get(i).stream().mapToLong(Long::longValue).toArray();
            boolean eos = ids.length > 0 && options.isEos(ids[ids.length - 1]);
            result.add(new GeneratedSequence(ids, Arrays.copyOf(logProbs[i], ids.length),
                    eos ? FinishReason.EOS : FinishReason.LENGTH));
        }
        return result;
    }

    /** The prompt ids of input {@code input} (if given), then its generated ids. */
    static long[] context(long[][] promptIds, int input, List<Long> generated) {
        long[] prompt = promptIds == null ? new long[0] : promptIds[input];
        long[] context = Arrays.copyOf(prompt, prompt.length + generated.size());
        for (int i = 0; i < generated.size(); i++) {
            context[prompt.length + i] = generated.get(i);
        }
        return context;
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
