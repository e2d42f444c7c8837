package dev.moonbatch.runtime.generate;

import ai.onnxruntime.OrtException;
import dev.moonbatch.runtime.Generation.FinishReason;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search over a {@link DecodingState}, with the semantics of transformers' vectorised
 * {@code GenerationMixin._beam_search} (4.5x; the reference read was 4.57):
 *
 * <ul>
 *   <li>Each row's scores are {@code log_softmax(logits)}, then the logits processors (transformers
 *       applies them after the log-softmax and does not renormalise); a beam's score is the sum of
 *       its tokens' scores.</li>
 *   <li>Each step, per input, the top {@code K = max(2, 1 + #eos) × numBeams} continuations over
 *       (beam, token) are ranked by that sum. A continuation <em>finishes</em> when its token is an
 *       EOS or it reaches {@code maxNewTokens}; only finishing continuations ranked among the first
 *       {@code numBeams} become hypotheses. The best {@code numBeams} non-finishing ones are the next
 *       step's beams.</li>
 *   <li>A hypothesis scores {@code sum_logprobs / len ** lengthPenalty}, where {@code len} is the
 *       number of <em>generated</em> tokens including the EOS that ended it (prompt and decoder start
 *       token not counted; a hypothesis cut at the limit has {@code len = maxNewTokens}). This is
 *       transformers' {@code cur_len + 1 - decoder_prompt_len}. Each input keeps its best
 *       {@code numBeams} hypotheses.</li>
 *   <li>An input is done when it has {@code numBeams} hypotheses and: {@code early_stopping=true} –
 *       at once; {@code false} – its best running beam's sum over (tokens generated so far)
 *       {@code ** lengthPenalty} is no better than the worst hypothesis; {@code "never"} – the same,
 *       but over {@code maxNewTokens ** lengthPenalty} when {@code lengthPenalty > 0}. Also when it
 *       has no running beam left, and everything is done at {@code maxNewTokens}.</li>
 *   <li>The answer per input is its best hypothesis: the generated ids, EOS included if produced,
 *       with its per-step scores (each the value added to its running sum: the log-softmax after the
 *       processors) as log-probs, and {@link FinishReason#EOS} when it ended on an EOS token or with
 *       every continuation banned before {@code maxNewTokens}, {@link FinishReason#LENGTH} when it
 *       was cut at {@code maxNewTokens}.</li>
 * </ul>
 *
 * <p>Batch rows are the running beams of the inputs not yet done, grouped by input in input order
 * and, within an input, best first. After prefill (one row per input) the first step draws its
 * candidates from that single row, which is what transformers' {@code -1e9} start scores for beams
 * 1.. amount to. Rows are then gathered with {@link DecodingState#select} (repeated for a beam with
 * several surviving children, left out for beams and inputs that ended), so KV caches are reordered
 * and never recomputed, and finished inputs cost nothing.
 *
 * <p>Deliberate differences, none visible in the best hypothesis except on exact ties: ties between
 * candidates go to the lower beam rank, then the lower token id (torch.topk leaves that unspecified);
 * candidates with score {@code -inf} (banned by a processor) are never taken, where transformers may
 * carry them as dead beams when fewer than {@code K} finite candidates exist; sums are kept in double.
 */
final class BeamSearch {
    private final GenerationOptions options;
    private final long[][] promptIds;
    private final List<LogitsProcessor> processors;
    private final int numBeams;
    private final int candidates;

    BeamSearch(GenerationOptions options, long[][] promptIds) {
        this.options = options;
        this.promptIds = promptIds;
        this.processors = LogitsProcessor.of(options);
        this.numBeams = options.numBeams();
        this.candidates = Math.max(2, 1 + options.eosTokenIds().size()) * numBeams;
    }

    /** A running beam: its generated ids, each one's step score, and the sum of those scores. */
    private record Beam(long[] tokens, float[] steps, double score) {
    }

    /**
     * A finished hypothesis: generated ids (EOS included if it ended on one), their step scores, why it
     * ended and its length-penalised score.
     */
    private record Hypothesis(long[] tokens, float[] steps, FinishReason reason, double score) {
    }

    /** One input's best {@code numBeams} hypotheses, best first (transformers' BeamHypotheses). */
    private static final class Hypotheses {
        private final int capacity;
        private final List<Hypothesis> best = new ArrayList<>();

        Hypotheses(int capacity) {
            this.capacity = capacity;
        }

        void add(long[] tokens, float[] steps, FinishReason reason, double score) {
            if (best.size() == capacity && !(score > worst())) {
                return;
            }
            int at = best.size();
            while (at > 0 && best.get(at - 1).score() < score) {
                at--;
            }
            best.add(at, new Hypothesis(tokens, steps, reason, score));
            if (best.size() > capacity) {
                best.remove(best.size() - 1);
            }
        }

        boolean full() {
            return best.size() >= capacity;
        }

        double worst() {
            return best.get(best.size() - 1).score();
        }

        GeneratedSequence bestSequence() {
            if (best.isEmpty()) {
                return new GeneratedSequence(new long[0], new float[0], FinishReason.LENGTH);
            }
            Hypothesis h = best.get(0);
            return new GeneratedSequence(h.tokens(), h.steps(), h.reason());
        }
    }

    List<GeneratedSequence> run(DecodingState state) throws OrtException {
        float[][] logits = state.prefill();
        int inputs = logits.length;
        if (promptIds != null && promptIds.length != inputs) {
            throw new IllegalArgumentException("prompt ids for " + promptIds.length + " rows but the batch has " + inputs);
        }
        Hypotheses[] hypotheses = new Hypotheses[inputs];
        // The batch: row r holds beam rowBeam[r] of input rowInput[r]; an input's rows are contiguous.
        int[] rowInput = new int[inputs];
        Beam[] rowBeam = new Beam[inputs];
        for (int i = 0; i < inputs; i++) {
            hypotheses[i] = new Hypotheses(numBeams);
            rowInput[i] = i;
            rowBeam[i] = new Beam(new long[0], new float[0], 0.0);
        }
        int maxNew = options.maxNewTokens();
        double lengthPenalty = options.lengthPenalty();
        int[] topRow = new int[candidates];
        int[] topToken = new int[candidates];
        double[] topScore = new double[candidates];
        float[] topStep = new float[candidates];

        for (int step = 0; ; step++) {
            int generated = step + 1; // tokens each continuation of this step has
            boolean atLimit = generated == maxNew;
            // A row's scores are log_softmax(logits), then the processors. Without processors they are
            // never materialised: score(t) = (float) (logits[t] - logSum), computed only for the few
            // tokens that pass the top-K prefilter below (the vocabulary-wide work is one exp pass).
            float[][] scores = new float[rowInput.length][];
            double[] logSums = new double[rowInput.length];
            for (int r = 0; r < rowInput.length; r++) {
                if (processors.isEmpty()) {
                    scores[r] = logits[r];
                    logSums[r] = logSumExp(logits[r]);
                } else {
                    scores[r] = logSoftmax(logits[r]);
                    long[] context = context(rowInput[r], rowBeam[r].tokens());
                    for (LogitsProcessor processor : processors) {
                        processor.process(context, rowBeam[r].tokens().length, scores[r]);
                    }
                }
            }

            List<Integer> parents = new ArrayList<>();
            List<Long> nextTokens = new ArrayList<>();
            List<Integer> nextInput = new ArrayList<>();
            List<Beam> nextBeams = new ArrayList<>();
            for (int first = 0; first < rowInput.length; ) {
                int input = rowInput[first];
                int end = first;
                while (end < rowInput.length && rowInput[end] == input) {
                    end++;
                }
                // Top K continuations over (beam, token): best sum first, ties to the lower row, then token.
                int count = 0;
                for (int r = first; r < end; r++) {
                    double base = rowBeam[r].score();
                    float[] row = scores[r];
                    double logSum = logSums[r];
                    // Prefilter in the row's own units: a token whose value is below `cutoff` cannot beat
                    // the current K-th candidate (the margin covers the float rounding of its score).
                    float cutoff = Float.NEGATIVE_INFINITY;
                    if (count == candidates) {
                        double need = topScore[count - 1] - base + logSum;
                        cutoff = (float) (need - 1e-4 * (1 + Math.abs(need) + Math.abs(logSum)));
                    }
                    for (int t = 0; t < row.length; t++) {
                        if (row[t] < cutoff) {
                            continue;
                        }
                        float score = (float) (row[t] - logSum);
                        if (score == Float.NEGATIVE_INFINITY || Float.isNaN(score)) {
                            continue;
                        }
                        double total = base + score;
                        if (count == candidates && !(total > topScore[count - 1])) {
                            continue;
                        }
                        int at = count == candidates ? count - 1 : count++;
                        while (at > 0 && topScore[at - 1] < total) {
                            topScore[at] = topScore[at - 1];
                            topRow[at] = topRow[at - 1];
                            topToken[at] = topToken[at - 1];
                            topStep[at] = topStep[at - 1];
                            at--;
                        }
                        topScore[at] = total;
                        topStep[at] = score;
                        topRow[at] = r;
                        topToken[at] = t;
                        if (count == candidates) {
                            double need = topScore[count - 1] - base + logSum;
                            cutoff = (float) (need - 1e-4 * (1 + Math.abs(need) + Math.abs(logSum)));
                        }
                    }
                }
                Hypotheses hyps = hypotheses[input];
                if (count == 0) {
                    // Every continuation is banned: the running beams end here as they are.
                    for (int r = first; r < end; r++) {
                        Beam beam = rowBeam[r];
                        int len = beam.tokens().length;
                        hyps.add(beam.tokens(), beam.steps(), len >= maxNew ? FinishReason.LENGTH : FinishReason.EOS,
                                len == 0 ? beam.score() : beam.score() / Math.pow(len, lengthPenalty));
                    }
                    first = end;
                    continue;
                }
                double penalty = Math.pow(generated, lengthPenalty);
                int running = 0;
                double bestRunning = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < count; c++) {
                    long token = topToken[c];
                    long[] tokens = Arrays.copyOf(rowBeam[topRow[c]].tokens(), generated);
                    tokens[generated - 1] = token;
                    float[] steps = Arrays.copyOf(rowBeam[topRow[c]].steps(), generated);
                    steps[generated - 1] = topStep[c];
                    if (atLimit || options.isEos(token)) {
                        if (c < numBeams) {
                            hyps.add(tokens, steps, options.isEos(token) ? FinishReason.EOS : FinishReason.LENGTH,
                                    topScore[c] / penalty);
                        }
                    } else if (running < numBeams) {
                        if (running == 0) {
                            bestRunning = topScore[c];
                        }
                        running++;
                        parents.add(topRow[c]);
                        nextTokens.add(token);
                        nextInput.add(input);
                        nextBeams.add(new Beam(tokens, steps, topScore[c]));
                    }
                }
                if (running > 0 && hyps.full() && isDone(bestRunning, generated, hyps.worst())) {
                    for (int k = 0; k < running; k++) {
                        int last = parents.size() - 1;
                        parents.remove(last);
                        nextTokens.remove(last);
                        nextInput.remove(last);
                        nextBeams.remove(last);
                    }
                }
                first = end;
            }

            if (atLimit || parents.isEmpty()) {
                break;
            }
            int[] keep = parents.stream().mapToInt(Integer::intValue).toArray();
            if (!isIdentity(keep, rowInput.length)) {
                state.select(keep);
            }
            rowInput = nextInput.stream().mapToInt(Integer::intValue).toArray();
            rowBeam = nextBeams.toArray(new Beam[0]);
            logits = state.step(nextTokens.stream().mapToLong(Long::longValue).toArray());
        }

        List<GeneratedSequence> out = new ArrayList<>(inputs);
        for (Hypotheses hyps : hypotheses) {
            out.add(hyps.bestSequence());
        }
        return out;
    }

    /** Whether an input with a full heap stops: transformers' early-stopping rule, see the class comment. */
    private boolean isDone(double bestRunningSum, int generated, double worstFinished) {
        return switch (options.earlyStopping()) {
            case WHEN_FULL -> true;
            case HEURISTIC -> bestRunningSum / Math.pow(generated, options.lengthPenalty()) <= worstFinished;
            case NEVER -> {
                int len = options.lengthPenalty() > 0 ? options.maxNewTokens() : generated;
                yield bestRunningSum / Math.pow(len, options.lengthPenalty()) <= worstFinished;
            }
        };
    }

    private long[] context(int input, long[] generated) {
        long[] prompt = promptIds == null ? new long[0] : promptIds[input];
        long[] context = Arrays.copyOf(prompt, prompt.length + generated.length);
        System.arraycopy(generated, 0, context, prompt.length, generated.length);
        return context;
    }

    private static boolean isIdentity(int[] rows, int batch) {
        if (rows.length != batch) {
            return false;
        }
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != i) {
                return false;
            }
        }
        return true;
    }

    /** exp(-i / EXP_STEPS) for i < EXP_RANGE * EXP_STEPS: the coarse part of {@link #expNonPositive}. */
    private static final int EXP_STEPS = 256;
    private static final int EXP_RANGE = 100;
    private static final double[] EXP_TABLE = new double[EXP_RANGE * EXP_STEPS + 1];

    static {
        for (int i = 0; i < EXP_TABLE.length; i++) {
            EXP_TABLE[i] = Math.exp(-(double) i / EXP_STEPS);
        }
    }

    /**
     * exp(d) for d ≤ 0 to double precision, about three times faster than {@link Math#exp}: a table
     * entry exp(-i/256) times exp(-b) for the remainder b &lt; 1/256 by its Taylor series to b^5 (the next
     * term is below 1e-17). d below -100 gives 0: exp(-100) × the vocabulary is far under a double ulp
     * of a softmax sum, which is ≥ 1. The vocabulary-wide exp pass is most of beam search's own cost
     * on small models, where it would otherwise outweigh the decoder.
     */
    static double expNonPositive(double d) {
        double u = -d * EXP_STEPS;
        if (!(u < EXP_RANGE * EXP_STEPS)) {
            return u >= 0 ? 0.0 : Math.exp(d);
        }
        int i = (int) u;
        double b = (u - i) / EXP_STEPS;
        double tail = 1 - b * (1 - b / 2 * (1 - b / 3 * (1 - b / 4 * (1 - b / 5))));
        return EXP_TABLE[i] * tail;
    }

    /** log(sum(exp(logits))) through the row's maximum, accumulated in double. */
    static double logSumExp(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) {
            if (x > max) {
                max = x;
            }
        }
        if (max == Float.NEGATIVE_INFINITY || Float.isNaN(max)) {
            return max;
        }
        double sum = 0;
        for (float x : logits) {
            sum += expNonPositive((double) x - max);
        }
        return max + Math.log(sum);
    }

    /** log_softmax of one row, through the row's maximum, accumulated in double. */
    static float[] logSoftmax(float[] logits) {
        double logSum = logSumExp(logits);
        float[] out = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
            out[i] = (float) (logits[i] - logSum);
        }
        return out;
    }
}
