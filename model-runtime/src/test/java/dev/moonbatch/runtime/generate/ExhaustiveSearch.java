package dev.moonbatch.runtime.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The reference beam search is checked against: every sequence of up to {@code maxNewTokens}
 * tokens, ending at its first EOS or at the limit, scored by brute force in double precision as
 * {@code sum of processed log-probs / generatedLength ** lengthPenalty} (length counting the EOS).
 * Written independently of {@link BeamSearch}: its own log-softmax, repetition penalty and n-gram ban.
 */
final class ExhaustiveSearch {
    record Result(long[] best, double bestScore, double secondScore, int sequences) {
    }

    private final TableDecodingState.Model model;
    private final int input;
    private final long[] prompt;
    private final GenerationOptions options;
    private long[] best;
    private double bestScore = Double.NEGATIVE_INFINITY;
    private double secondScore = Double.NEGATIVE_INFINITY;
    private int sequences;

    private ExhaustiveSearch(TableDecodingState.Model model, int input, long[] prompt, GenerationOptions options) {
        this.model = model;
        this.input = input;
        this.prompt = prompt == null ? new long[0] : prompt;
        this.options = options;
    }

    static Result search(TableDecodingState.Model model, int input, long[] prompt, GenerationOptions options) {
        ExhaustiveSearch search = new ExhaustiveSearch(model, input, prompt, options);
        search.extend(new long[0], 0.0);
        return new Result(search.best, search.bestScore, search.secondScore, search.sequences);
    }

    /** The reference score of one finished sequence (generated ids, EOS included if it ended on one). */
    static double score(TableDecodingState.Model model, int input, long[] prompt, GenerationOptions options,
                        long[] generated) {
        ExhaustiveSearch search = new ExhaustiveSearch(model, input, prompt, options);
        double sum = 0;
        for (int i = 0; i < generated.length; i++) {
            long[] prefix = Arrays.copyOf(generated, i);
            sum += search.scores(prefix)[(int) generated[i]];
        }
        return sum / Math.pow(generated.length, options.lengthPenalty());
    }

    /** The reference step scores of one sequence: log_softmax, then the processors, at each generated token. */
    static double[] stepScores(TableDecodingState.Model model, int input, long[] prompt, GenerationOptions options,
                               long[] generated) {
        ExhaustiveSearch search = new ExhaustiveSearch(model, input, prompt, options);
        double[] out = new double[generated.length];
        for (int i = 0; i < generated.length; i++) {
            out[i] = search.scores(Arrays.copyOf(generated, i))[(int) generated[i]];
        }
        return out;
    }

    private void extend(long[] generated, double sum) {
        double[] scores = scores(generated);
        for (int t = 0; t < scores.length; t++) {
            if (scores[t] == Double.NEGATIVE_INFINITY) {
                continue;
            }
            long[] next = Arrays.copyOf(generated, generated.length + 1);
            next[generated.length] = t;
            double total = sum + scores[t];
            if (options.eosTokenIds().contains((long) t) || next.length == options.maxNewTokens()) {
                sequences++;
                double score = total / Math.pow(next.length, options.lengthPenalty());
                if (score > bestScore) {
                    secondScore = bestScore;
                    bestScore = score;
                    best = next;
                } else if (score > secondScore) {
                    secondScore = score;
                }
            } else {
                extend(next, total);
            }
        }
    }

    /** log_softmax of the model's logits, then the repetition penalty, then the n-gram ban. */
    private double[] scores(long[] generated) {
        float[] logits = model.logits(input, generated);
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : logits) {
            sum += Math.exp(x - max);
        }
        double[] scores = new double[logits.length];
        for (int t = 0; t < logits.length; t++) {
            scores[t] = logits[t] - max - Math.log(sum);
        }
        List<Long> context = new ArrayList<>();
        for (long id : prompt) {
            context.add(id);
        }
        for (long id : generated) {
            context.add(id);
        }
        double penalty = options.repetitionPenalty();
        for (long token : new HashSet<>(context)) {
            double s = scores[(int) token];
            scores[(int) token] = s < 0 ? s * penalty : s / penalty;
        }
        int n = options.noRepeatNgramSize();
        if (n > 0 && context.size() >= n - 1) {
            Set<List<Long>> seen = new HashSet<>();
            for (int i = 0; i + n <= context.size(); i++) {
                seen.add(List.copyOf(context.subList(i, i + n)));
            }
            for (int t = 0; t < scores.length; t++) {
                List<Long> gram = new ArrayList<>(context.subList(context.size() - (n - 1), context.size()));
                gram.add((long) t);
                if (seen.contains(gram)) {
                    scores[t] = Double.NEGATIVE_INFINITY;
                }
            }
        }
        return scores;
    }
}
