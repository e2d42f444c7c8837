package dev.moonbatch.runtime.generate;

import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.Generation.FinishReason;
import dev.moonbatch.runtime.generate.GenerationOptions.EarlyStopping;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-token log-probs and finish reasons of greedy and beam search on fixed tables, checked against
 * hand values and against an independent recomputation in double precision.
 */
class ConfidenceTest {
    private static final long EOS = 0;
    private static final double TOL = 1e-6;

    /** Logits ln(p) keyed by the last generated token (row 0 at the start), as in BeamSearchTest. Tokens: 0 = EOS, 1, 2. */
    private static TableDecodingState.Model probabilities(double[][] byLastToken) {
        return (input, generated) -> {
            double[] p = byLastToken[generated.length == 0 ? 0 : (int) generated[generated.length - 1]];
            float[] logits = new float[p.length];
            for (int t = 0; t < p.length; t++) {
                logits[t] = (float) Math.log(p[t]);
            }
            return logits;
        };
    }

    private static GenerationOptions options(int maxNew, List<Long> eos, int beams) {
        return new GenerationOptions(maxNew, eos, beams, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);
    }

    /** log(sum(exp(x))) in double with Math.exp: independent of the generator's exp table. */
    private static double logSumExp(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    private static double[] toDouble(float[] x) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        return out;
    }

    private static Generation generation(GeneratedSequence s) {
        return new Generation(s.ids(), "", s.logProbs(), s.finishReason());
    }

    private static void assertLogProbs(double[] expected, float[] got, String what) {
        assertEquals(expected.length, got.length, what + ": " + Arrays.toString(got));
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], TOL, what + " token " + i + ": " + Arrays.toString(got));
        }
    }

    // ---- Generation's own arithmetic ---------------------------------------------------------------

    @Test
    void confidenceIsTheGeometricMeanAndMinTheWorstToken() {
        Generation g = new Generation(new long[] {5, 6, 7}, "x",
                new float[] {(float) Math.log(.5), (float) Math.log(.8), (float) Math.log(.2)}, FinishReason.EOS);
        assertEquals(Math.cbrt(.5 * .8 * .2), g.confidence(), 1e-7);
        assertEquals(.2, g.minTokenProb(), 1e-7);
        assertEquals("eos", g.finishReason().label());
        assertEquals("length", FinishReason.LENGTH.label());

        Generation empty = new Generation(new long[0], "", new float[0], FinishReason.LENGTH);
        assertTrue(Double.isNaN(empty.confidence()));
        assertTrue(Double.isNaN(empty.minTokenProb()));
        assertThrows(IllegalArgumentException.class,
                () -> new Generation(new long[] {1, 2}, "", new float[1], FinishReason.EOS));
    }

    // ---- greedy -------------------------------------------------------------------------------------

    /**
     * Probabilities (EOS, 1, 2): start (and after EOS) .30 .50 .20; after 1 .70 .20 .10; after 2 .60 .30 .10.
     * Greedy: 1 (ln .5), EOS (ln .7), finish EOS.
     * With max_new_tokens 1 it stops after 1: finish LENGTH.
     */
    @Test
    void greedyLogProbsAndFinishReasonByHand() throws Exception {
        TableDecodingState.Model model = probabilities(new double[][] {{.30, .50, .20}, {.70, .20, .10}, {.60, .30, .10}});
        GeneratedSequence eos = Generator.greedy(new TableDecodingState(1, model), options(5, List.of(EOS), 1)).get(0);
        assertArrayEquals(new long[] {1, EOS}, eos.ids());
        assertLogProbs(new double[] {Math.log(.5), Math.log(.7)}, eos.logProbs(), "ended on EOS");
        assertEquals(FinishReason.EOS, eos.finishReason());
        Generation g = generation(eos);
        assertEquals(Math.sqrt(.5 * .7), g.confidence(), 1e-6);
        assertEquals(.5, g.minTokenProb(), 1e-6);

        GeneratedSequence cut = Generator.greedy(new TableDecodingState(1, model), options(1, List.of(EOS), 1)).get(0);
        assertArrayEquals(new long[] {1}, cut.ids());
        assertLogProbs(new double[] {Math.log(.5)}, cut.logProbs(), "cut at max_new_tokens");
        assertEquals(FinishReason.LENGTH, cut.finishReason());

        // No EOS configured: EOS-the-token is just a token, the run goes to the limit.
        GeneratedSequence noEos = Generator.greedy(new TableDecodingState(1, model), options(3, List.of(), 1)).get(0);
        assertArrayEquals(new long[] {1, 0, 1}, noEos.ids());
        assertLogProbs(new double[] {Math.log(.5), Math.log(.7), Math.log(.5)}, noEos.logProbs(), "no EOS configured");
        assertEquals(FinishReason.LENGTH, noEos.finishReason());
    }

    /**
     * Logits (-5, 2, 1.5), repetition penalty 2: greedy picks 1, 2, 1 (see LogitsProcessorTest), and each
     * log-prob is the log-softmax of the <em>penalised</em> logits: (-5, 2, 1.5) at 1, (-5, 1, 1.5) at 2,
     * (-5, 1, 0.75) at 1.
     */
    @Test
    void greedyLogProbsAreTakenAfterTheProcessors() throws Exception {
        TableDecodingState.Model model = (input, generated) -> new float[] {-5f, 2f, 1.5f};
        GenerationOptions penalised = new GenerationOptions(3, List.of(EOS)).withRepetitionPenalty(2.0);
        GeneratedSequence s = Generator.greedy(new TableDecodingState(1, model), penalised).get(0);
        assertArrayEquals(new long[] {1, 2, 1}, s.ids());
        assertLogProbs(new double[] {
                2 - logSumExp(new double[] {-5, 2, 1.5}),
                1.5 - logSumExp(new double[] {-5, 1, 1.5}),
                1 - logSumExp(new double[] {-5, 1, 0.75})}, s.logProbs(), "penalised");
        assertEquals(FinishReason.LENGTH, s.finishReason());

        // Forced BOS (0) and forced EOS (2) at the 4th of 4: a forced step leaves one finite logit, 0 → log-prob 0.
        TableDecodingState.Model prefers3 = (input, generated) -> new float[] {-9f, -1f, -3f, 4f, 1f};
        GenerationOptions forced = new GenerationOptions(4, List.of(2L)).withForcedTokens(0, 2);
        double free = 4 - logSumExp(new double[] {-9, -1, -3, 4, 1});
        for (GeneratedSequence f : List.of(
                Generator.greedy(new TableDecodingState(1, prefers3), forced, new long[][] {{2}}).get(0),
                Generator.beam(new TableDecodingState(1, prefers3), forced.withNumBeams(3), new long[][] {{2}}).get(0))) {
            assertArrayEquals(new long[] {0, 3, 3, 2}, f.ids());
            assertLogProbs(new double[] {0, free, free, 0}, f.logProbs(), "forced tokens");
            assertEquals(FinishReason.EOS, f.finishReason(), "the forced EOS is an EOS");
            assertEquals(Math.exp(free / 2), generation(f).confidence(), 1e-6);
            assertEquals(Math.exp(free), generation(f).minTokenProb(), 1e-6);
        }
    }

    /** A batch where rows finish at different steps: each row keeps its own log-probs as others leave. */
    @Test
    void greedyLogProbsMatchAnIndependentRecomputationOnRandomTables() throws Exception {
        int sawEos = 0;
        int sawLength = 0;
        for (int seed = 0; seed < 100; seed++) {
            int inputs = 1 + seed % 3;
            TableDecodingState.Model model = TableDecodingState.randomTable(seed, 6, 2.0);
            GenerationOptions options = options(6, List.of(EOS), 1);
            if (seed % 3 == 1) {
                options = options.withRepetitionPenalty(1.5);
            } else if (seed % 3 == 2) {
                options = options.withNoRepeatNgramSize(2);
            }
            long[][] prompts = Arrays.copyOf(new long[][] {{3}, {4, 5}, {}}, inputs);
            List<GeneratedSequence> out = Generator.greedy(new TableDecodingState(inputs, model), options, prompts);
            for (int i = 0; i < inputs; i++) {
                GeneratedSequence s = out.get(i);
                double[] expected = new double[s.ids().length];
                for (int k = 0; k < s.ids().length; k++) {
                    long[] generated = Arrays.copyOf(s.ids(), k);
                    float[] logits = model.logits(i, generated);
                    long[] context = concat(prompts[i], generated);
                    for (LogitsProcessor p : LogitsProcessor.of(options)) {
                        p.process(context, k, logits);
                    }
                    double[] x = toDouble(logits);
                    expected[k] = x[(int) s.ids()[k]] - logSumExp(x);
                }
                String what = "seed " + seed + " input " + i + " " + Arrays.toString(s.ids());
                assertLogProbs(expected, s.logProbs(), what);
                boolean endsOnEos = s.ids()[s.ids().length - 1] == EOS;
                assertEquals(endsOnEos ? FinishReason.EOS : FinishReason.LENGTH, s.finishReason(), what);
                if (!endsOnEos) {
                    assertEquals(6, s.ids().length, what);
                    sawLength++;
                } else {
                    sawEos++;
                }
            }
        }
        assertTrue(sawEos > 20 && sawLength > 20, "both endings occur: eos " + sawEos + ", length " + sawLength);
    }

    // ---- beam search --------------------------------------------------------------------------------

    /**
     * The tables of BeamSearchTest's hand cases: the best hypothesis's log-probs are its own path's
     * step scores, not greedy's.
     */
    @Test
    void beamLogProbsAreTheChosenHypothesisOwnStepScores() throws Exception {
        // [2, EOS] beats greedy's [1, 1]: ln .4, ln .9.
        TableDecodingState.Model beatsGreedy = probabilities(new double[][] {
                {.10, .50, .40}, {.25, .40, .35}, {.90, .05, .05}});
        GeneratedSequence s = Generator.beam(new TableDecodingState(1, beatsGreedy), options(2, List.of(EOS), 2)).get(0);
        assertArrayEquals(new long[] {2, EOS}, s.ids());
        assertLogProbs(new double[] {Math.log(.4), Math.log(.9)}, s.logProbs(), "[2, EOS]");
        assertEquals(FinishReason.EOS, s.finishReason());

        // Cut at max_new_tokens 3 without EOS: [1, 1, 1] with ln .35, ln .55, ln .55, finish LENGTH.
        TableDecodingState.Model goesOn = probabilities(new double[][] {{.40, .35, .25}, {.40, .55, .05}, {.40, .55, .05}});
        s = Generator.beam(new TableDecodingState(1, goesOn), options(3, List.of(EOS), 2)).get(0);
        assertArrayEquals(new long[] {1, 1, 1}, s.ids());
        assertLogProbs(new double[] {Math.log(.35), Math.log(.55), Math.log(.55)}, s.logProbs(), "[1, 1, 1]");
        assertEquals(FinishReason.LENGTH, s.finishReason());
        assertEquals(Math.cbrt(.35 * .55 * .55), generation(s).confidence(), 1e-6);
        assertEquals(.35, generation(s).minTokenProb(), 1e-6);
    }

    /**
     * On random tables with and without processors, length penalties and prompts: each step score is
     * log_softmax(logits) then the processors at the chosen token (ExhaustiveSearch's own
     * implementation), the sum over the length penalty is the hypothesis score, and the finish reason
     * follows the last token.
     */
    @Test
    void beamLogProbsMatchTheReferenceStepScoresOnRandomTables() throws Exception {
        int sawEos = 0;
        int sawLength = 0;
        for (int seed = 0; seed < 80; seed++) {
            int inputs = 1 + seed % 3;
            double lengthPenalty = new double[] {1.0, 0.0, 2.0, -1.0}[seed % 4];
            int ngram = seed % 3 == 1 ? 2 : 0;
            double repetition = seed % 3 == 2 ? 1.4 : 1.0;
            GenerationOptions options = new GenerationOptions(5, List.of(EOS), 3, lengthPenalty,
                    EarlyStopping.values()[seed % 3], ngram, repetition);
            long[][] prompts = Arrays.copyOf(new long[][] {{1}, {2, 3}, {}}, inputs);
            TableDecodingState.Model model = TableDecodingState.randomTable(seed, 5, 2.0);
            List<GeneratedSequence> out = Generator.beam(new TableDecodingState(inputs, model), options, prompts);
            for (int i = 0; i < inputs; i++) {
                GeneratedSequence s = out.get(i);
                String what = "seed " + seed + " input " + i + " " + Arrays.toString(s.ids());
                double[] expected = ExhaustiveSearch.stepScores(model, i, prompts[i], options, s.ids());
                assertLogProbs(expected, s.logProbs(), what);
                double sum = 0;
                for (float lp : s.logProbs()) {
                    sum += lp;
                }
                assertEquals(ExhaustiveSearch.score(model, i, prompts[i], options, s.ids()),
                        sum / Math.pow(s.ids().length, lengthPenalty), 1e-5, what);
                boolean endsOnEos = s.ids()[s.ids().length - 1] == EOS;
                assertEquals(endsOnEos ? FinishReason.EOS : FinishReason.LENGTH, s.finishReason(), what);
                if (endsOnEos) {
                    sawEos++;
                } else {
                    assertEquals(5, s.ids().length, what);
                    sawLength++;
                }
            }
        }
        assertTrue(sawEos > 20 && sawLength > 20, "both endings occur: eos " + sawEos + ", length " + sawLength);
    }

    /**
     * No EOS and no repeated token (no_repeat_ngram_size 1) over 3 tokens with max_new_tokens 5: after 3
     * tokens every continuation is banned and the beams end as they are, short of the limit. That end
     * counts as EOS (documented in Generation): the sequence did not run out of room.
     */
    @Test
    void beamEndedByBannedContinuationsCountsAsEos() throws Exception {
        TableDecodingState.Model model = TableDecodingState.randomTable(7, 3, 1.0);
        GenerationOptions options = new GenerationOptions(5, List.of(), 2, 1.0, EarlyStopping.HEURISTIC, 1, 1.0);
        GeneratedSequence s = Generator.beam(new TableDecodingState(1, model), options).get(0);
        assertEquals(3, s.ids().length, Arrays.toString(s.ids()));
        assertEquals(FinishReason.EOS, s.finishReason());
        assertLogProbs(ExhaustiveSearch.stepScores(model, 0, null, options, s.ids()), s.logProbs(), "banned end");
        // The same run with max_new_tokens 3 reaches the limit on its last token: LENGTH.
        GeneratedSequence atLimit = Generator.beam(new TableDecodingState(1, model), options.withMaxNewTokens(3)).get(0);
        assertEquals(3, atLimit.ids().length);
        assertEquals(FinishReason.LENGTH, atLimit.finishReason());
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
