package dev.moonbatch.runtime.generate;

import dev.moonbatch.runtime.generate.GenerationOptions.EarlyStopping;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BeamSearchTest {
    private static final long EOS = 0;

    private static GenerationOptions options(int maxNew, List<Long> eos, int beams, double lengthPenalty,
                                             EarlyStopping early, int ngram, double repetition) {
        return new GenerationOptions(maxNew, eos, beams, lengthPenalty, early, ngram, repetition);
    }

    // ---- (a) one beam is greedy ------------------------------------------------------------------

    @Test
    void oneBeamEqualsGreedyOnRandomTables() throws Exception {
        int differ = 0;
        for (int seed = 0; seed < 300; seed++) {
            int inputs = 1 + seed % 3;
            int vocab = 5 + seed % 3;
            EarlyStopping early = seed % 2 == 0 ? EarlyStopping.HEURISTIC : EarlyStopping.WHEN_FULL;
            double lengthPenalty = new double[] {1.0, 0.0, 2.0, -1.0}[seed % 4];
            int ngram = seed % 5 == 0 ? 2 : 0;
            GenerationOptions one = options(6, List.of(EOS), 1, lengthPenalty, early, ngram, 1.0);
            TableDecodingState.Model model = TableDecodingState.randomTable(seed, vocab, 2.0);

            List<long[]> greedy = TableDecodingState.ids(Generator.greedy(new TableDecodingState(inputs, model), one));
            List<long[]> viaBeamCode = TableDecodingState.ids(new BeamSearch(one, null).run(new TableDecodingState(inputs, model)));
            List<long[]> viaGenerate = TableDecodingState.ids(Generator.generate(new TableDecodingState(inputs, model), one));
            for (int i = 0; i < inputs; i++) {
                assertArrayEquals(greedy.get(i), viaBeamCode.get(i), "seed " + seed + " input " + i);
                assertArrayEquals(greedy.get(i), viaGenerate.get(i), "seed " + seed + " input " + i);
            }
            List<long[]> wide = TableDecodingState.ids(Generator.generate(new TableDecodingState(inputs, model), one.withNumBeams(3)));
            for (int i = 0; i < inputs; i++) {
                if (!Arrays.equals(greedy.get(i), wide.get(i))) {
                    differ++;
                }
            }
        }
        assertTrue(differ > 30, "the tables must be hard enough that 3 beams often beat greedy; differed " + differ);
    }

    // ---- (b) a beam that holds every candidate finds the exhaustive optimum ------------------------

    @Test
    void wideBeamFindsTheExhaustiveOptimum() throws Exception {
        int checked = 0;
        int notGreedy = 0;
        for (int seed = 0; seed < 60; seed++) {
            for (double lengthPenalty : new double[] {1.0, 0.0, 0.5, 2.0, -1.0}) {
                EarlyStopping early = EarlyStopping.values()[Math.floorMod(seed + (int) (lengthPenalty * 2), 3)];
                // 5 tokens, 3 steps: 5^3 = 125 beams hold every prefix and every finished sequence.
                GenerationOptions options = options(3, List.of(EOS), 125, lengthPenalty, early, 0, 1.0);
                checked += checkOptimum(seed, 5, 3, options, null);
                notGreedy += differsFromGreedy(seed, 5, 3, options);
            }
        }
        assertTrue(checked > 250, "most cases have a unique optimum; checked " + checked);
        assertTrue(notGreedy > 30, "the optimum is often not greedy's answer; was in " + notGreedy);
    }

    @Test
    void wideBeamFindsTheExhaustiveOptimumWithProcessorsAndPrompts() throws Exception {
        int checked = 0;
        for (int seed = 0; seed < 40; seed++) {
            // 4 tokens, 4 steps: 4^4 = 256 beams. Prompt ids count for the processors, as in transformers.
            long[][] prompts = {{1, 2}, {3}, {}};
            GenerationOptions penalty = options(4, List.of(EOS), 256, 1.0, EarlyStopping.HEURISTIC, 0, 1.7);
            GenerationOptions ngram = options(4, List.of(EOS), 256, 0.5, EarlyStopping.NEVER, 2, 1.0);
            GenerationOptions both = options(4, List.of(EOS), 256, 1.5, EarlyStopping.WHEN_FULL, 2, 1.3);
            checked += checkOptimum(seed, 4, 3, penalty, prompts);
            checked += checkOptimum(seed, 4, 3, ngram, prompts);
            checked += checkOptimum(seed, 4, 3, both, prompts);
        }
        assertTrue(checked > 300, "checked " + checked);
    }

    @Test
    void wideBeamWithoutEosRunsToTheLimit() throws Exception {
        for (int seed = 0; seed < 30; seed++) {
            GenerationOptions options = options(3, List.of(), 64, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);
            checkOptimum(seed, 4, 2, options, null);
        }
    }

    /** Runs beam search over {@code inputs} rows and compares each with brute force; returns how many had a unique optimum. */
    private static int checkOptimum(int seed, int vocab, int inputs, GenerationOptions options, long[][] prompts)
            throws Exception {
        TableDecodingState.Model model = TableDecodingState.randomTable(seed, vocab, 2.0);
        List<long[]> beam = TableDecodingState.ids(Generator.beam(new TableDecodingState(inputs, model), options, prompts));
        int unique = 0;
        for (int i = 0; i < inputs; i++) {
            long[] prompt = prompts == null ? null : prompts[i];
            ExhaustiveSearch.Result reference = ExhaustiveSearch.search(model, i, prompt, options);
            double got = ExhaustiveSearch.score(model, i, prompt, options, beam.get(i));
            String what = "seed " + seed + " input " + i + " " + options + ": got " + Arrays.toString(beam.get(i))
                    + " = " + got + ", optimum " + Arrays.toString(reference.best()) + " = " + reference.bestScore();
            assertEquals(reference.bestScore(), got, 1e-5, what);
            if (reference.bestScore() - reference.secondScore() > 1e-4) {
                assertArrayEquals(reference.best(), beam.get(i), what);
                unique++;
            }
        }
        return unique;
    }

    private static int differsFromGreedy(int seed, int vocab, int inputs, GenerationOptions options) throws Exception {
        TableDecodingState.Model model = TableDecodingState.randomTable(seed, vocab, 2.0);
        List<long[]> greedy = TableDecodingState.ids(Generator.greedy(new TableDecodingState(inputs, model), options));
        List<long[]> beam = TableDecodingState.ids(Generator.beam(new TableDecodingState(inputs, model), options));
        int differ = 0;
        for (int i = 0; i < inputs; i++) {
            differ += Arrays.equals(greedy.get(i), beam.get(i)) ? 0 : 1;
        }
        return differ;
    }

    // ---- (c) no_repeat_ngram_size never repeats an n-gram ------------------------------------------

    @Test
    void noRepeatNgramNeverRepeatsAnNgram() throws Exception {
        Random random = new Random(7);
        for (int seed = 0; seed < 400; seed++) {
            int n = 2 + seed % 2;
            int beams = new int[] {1, 2, 3, 5}[seed % 4];
            int inputs = 1 + seed % 3;
            List<Long> eos = seed % 3 == 0 ? List.of() : List.of(EOS);
            // Low-entropy tables with few tokens: without the ban these repeat themselves constantly.
            TableDecodingState.Model model = TableDecodingState.randomTable(seed, 6, 4.0);
            long[][] prompts = new long[inputs][];
            for (int i = 0; i < inputs; i++) {
                prompts[i] = random.ints(random.nextInt(3), 1, 6).asLongStream().toArray();
            }
            GenerationOptions options = options(8, eos, beams, 1.0, EarlyStopping.HEURISTIC, n, 1.0);
            List<long[]> out = TableDecodingState.ids(Generator.generate(new TableDecodingState(inputs, model), options, prompts));
            for (int i = 0; i < inputs; i++) {
                long[] sequence = concat(prompts[i], out.get(i));
                assertFalse(repeatsNgram(sequence, n), "seed " + seed + " n=" + n + " beams " + beams + ": "
                        + Arrays.toString(sequence));
            }
        }
    }

    @Test
    void withoutTheBanTheSameTablesDoRepeat() throws Exception {
        int repeated = 0;
        for (int seed = 0; seed < 100; seed++) {
            TableDecodingState.Model model = TableDecodingState.randomTable(seed, 6, 4.0);
            GenerationOptions options = options(8, List.of(), 1 + seed % 3, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);
            long[] out = Generator.generate(new TableDecodingState(1, model), options).get(0).ids();
            repeated += repeatsNgram(out, 2) ? 1 : 0;
        }
        assertTrue(repeated > 50, "the property test must not be vacuous; repeated in " + repeated);
    }

    private static boolean repeatsNgram(long[] sequence, int n) {
        Set<List<Long>> seen = new HashSet<>();
        for (int i = 0; i + n <= sequence.length; i++) {
            List<Long> gram = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                gram.add(sequence[i + j]);
            }
            if (!seen.add(gram)) {
                return true;
            }
        }
        return false;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    // ---- (d) hand-computed cases ------------------------------------------------------------------

    /**
     * Logits ln(p) from a table keyed by the last generated token: row 0 at the start (nothing follows
     * EOS), row t after token t; log_softmax gives back ln(p). Tokens: 0 = EOS, 1, 2.
     */
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

    /**
     * 2 beams, 2 new tokens at most, length penalty 1. Probabilities (EOS, 1, 2):
     * <pre>
     *   start     .10  .50  .40
     *   after 1   .25  .40  .35
     *   after 2   .90  .05  .05
     * </pre>
     * Greedy: 1 (.5), then 1 (.4) → [1, 1], p = .20.
     * <p>Beam, step 1: candidates 1 (ln .5 = -0.693), 2 (ln .4 = -0.916), EOS (ln .1 = -2.303, rank 2,
     * not among the first 2, so not a hypothesis). Beams: [1], [2], both from the one prefill row:
     * select([0, 0]).
     * <p>Step 2 reaches the limit, so every continuation finishes; K = 4 candidates by sum:
     * [2,EOS] ln .36 = -1.022, [1,1] ln .20 = -1.609, [1,2] ln .175 = -1.743, [1,EOS] ln .125 = -2.079.
     * The first 2 become hypotheses with len 2: [2,EOS] -1.022/2 = -0.511, [1,1] -1.609/2 = -0.805.
     * Answer: [2, EOS].
     */
    @Test
    void handComputedBeamBeatsGreedy() throws Exception {
        TableDecodingState.Model model = probabilities(new double[][] {
                {.10, .50, .40}, {.25, .40, .35}, {.90, .05, .05}});
        GenerationOptions options = options(2, List.of(EOS), 2, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);

        assertArrayEquals(new long[] {1, 1}, Generator.greedy(new TableDecodingState(1, model), options).get(0).ids());
        TableDecodingState state = new TableDecodingState(1, model);
        assertArrayEquals(new long[] {2, EOS}, Generator.generate(state, options).get(0).ids());
        assertEquals(1, state.steps);
        assertEquals(1, state.selections.size());
        assertArrayEquals(new int[] {0, 0}, state.selections.get(0), "both beams gathered from the prefill row");
    }

    /**
     * What "len" is: the generated tokens including the EOS. 2 beams, at most 3 new tokens.
     * Probabilities (EOS, 1, 2):
     * <pre>
     *   start     .30  .50  .20
     *   after 1   .70  .20  .10
     *   after 2   .60  .30  .10
     * </pre>
     * Step 1: 1 (-0.693, beam), EOS (ln .3 = -1.204, rank 1 → hypothesis [EOS], len 1), 2 (-1.609, beam).
     * <br>Step 2, K = 4: [1,EOS] ln .35 = -1.050 (rank 0, hypothesis, len 2), [2,EOS] ln .12 = -2.120
     * (rank 1, hypothesis, len 2), [1,1] ln .10 = -2.303 (beam), [2,1] ln .06 = -2.813 (beam).
     * <ul>
     *   <li>length_penalty 1: [EOS] -1.204/1 = -1.204, [1,EOS] -1.050/2 = -0.525, [2,EOS] -2.120/2 = -1.060;
     *       the heap (2) keeps [1,EOS], [2,EOS]. early_stopping=false: best beam [1,1] at its length 2 scores
     *       -2.303/2 = -1.151 ≤ worst -1.060, so the input is done after step 2 → [1, EOS], 1 step() call.</li>
     *   <li>length_penalty -1 (score × len): [EOS] -1.204, [1,EOS] -2.100, [2,EOS] -4.241 → [EOS]. (Had len
     *       left the EOS out, [EOS] would have len 0 and [1,EOS] would win with -1.050.) The heuristic
     *       -2.303 × 2 = -4.605 ≤ -2.100 stops it after step 2 as well.</li>
     *   <li>early_stopping="never", length_penalty 1: the beam is judged at max length 3: -2.303/3 = -0.768
     *       > -1.060, so step 3 runs: [1,1,EOS] ln .07 = -2.659, /3 = -0.886 enters the heap; [2,1,EOS]
     *       ln .042 = -3.170, /3 = -1.057 does not (worse than the new worst -0.886). Answer still [1, EOS],
     *       2 step() calls.</li>
     *   <li>early_stopping=true: done as soon as the heap holds 2 (after step 2) → [1, EOS].</li>
     * </ul>
     */
    @Test
    void handComputedLengthPenaltyAndEarlyStopping() throws Exception {
        TableDecodingState.Model model = probabilities(new double[][] {
                {.30, .50, .20}, {.70, .20, .10}, {.60, .30, .10}});

        TableDecodingState state = new TableDecodingState(1, model);
        GenerationOptions base = options(3, List.of(EOS), 2, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);
        assertArrayEquals(new long[] {1, EOS}, Generator.beam(state, base).get(0).ids());
        assertEquals(1, state.steps, "done after step 2 by the heuristic");

        state = new TableDecodingState(1, model);
        assertArrayEquals(new long[] {EOS}, Generator.beam(state, base.withLengthPenalty(-1.0)).get(0).ids());
        assertEquals(1, state.steps);

        state = new TableDecodingState(1, model);
        assertArrayEquals(new long[] {1, EOS}, Generator.beam(state, base.withEarlyStopping(EarlyStopping.NEVER)).get(0).ids());
        assertEquals(2, state.steps, "never: the beam judged at max length could still win, so step 3 runs");

        state = new TableDecodingState(1, model);
        assertArrayEquals(new long[] {1, EOS}, Generator.beam(state, base.withEarlyStopping(EarlyStopping.WHEN_FULL)).get(0).ids());
        assertEquals(1, state.steps);
    }

    /**
     * early_stopping=true stops at a full heap; false goes on while the best beam could still win.
     * 2 beams, at most 3 new tokens, length penalty 1. Probabilities (EOS, 1, 2), after 2 as after 1:
     * <pre>
     *   start     .40  .35  .25
     *   after 1   .40  .55  .05
     * </pre>
     * Step 1: EOS ln .4 = -0.916 (rank 0 → hypothesis [EOS], -0.916/1), beams [1] -1.050, [2] -1.386.
     * <br>Step 2, K = 4: [1,1] ln .1925 = -1.648 (beam), [1,EOS] ln .14 = -1.966 (rank 1 → hypothesis,
     * -1.966/2 = -0.983), [2,1] ln .1375 = -1.984 (beam), [2,EOS] ln .1 = -2.303 (rank 3, dropped).
     * The heap is full: [EOS] -0.916, [1,EOS] -0.983.
     * <ul>
     *   <li>true: done → [EOS].</li>
     *   <li>false: best beam [1,1] at length 2: -1.648/2 = -0.824 > -0.983, so step 3 runs (the limit):
     *       [1,1,1] ln .105875 = -2.245 → -0.748, [1,1,EOS] ln .077 = -2.564 → -0.855 (ranks 0, 1;
     *       [2,1,1] -2.582 and [2,1,EOS] -2.900 rank 2, 3). Heap: [1,1,1] -0.748, [1,1,EOS] -0.855 →
     *       [1, 1, 1].</li>
     * </ul>
     */
    @Test
    void handComputedEarlyStoppingTrueStopsWhereTheHeuristicGoesOn() throws Exception {
        TableDecodingState.Model model = probabilities(new double[][] {
                {.40, .35, .25}, {.40, .55, .05}, {.40, .55, .05}});
        GenerationOptions heuristic = options(3, List.of(EOS), 2, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);

        TableDecodingState state = new TableDecodingState(1, model);
        assertArrayEquals(new long[] {EOS}, Generator.beam(state, heuristic.withEarlyStopping(EarlyStopping.WHEN_FULL)).get(0).ids());
        assertEquals(1, state.steps);

        state = new TableDecodingState(1, model);
        assertArrayEquals(new long[] {1, 1, 1}, Generator.beam(state, heuristic).get(0).ids());
        assertEquals(2, state.steps);
    }

    // ---- (e) beams are gathered, never recomputed; finished inputs leave the batch ----------------

    @Test
    void beamsAreGatheredAndFinishedInputsLeaveTheBatch() throws Exception {
        // Input 0: the table of the hand case above (done after step 2). Input 1: EOS is never likely,
        // so it runs to the limit.
        TableDecodingState.Model first = probabilities(new double[][] {
                {.30, .50, .20}, {.70, .20, .10}, {.60, .30, .10}});
        TableDecodingState.Model second = probabilities(new double[][] {
                {.001, .600, .399}, {.001, .300, .699}, {.001, .599, .400}});
        TableDecodingState.Model model = (input, generated) -> (input == 0 ? first : second).logits(input, generated);
        TableDecodingState state = new TableDecodingState(2, model);
        GenerationOptions options = options(5, List.of(EOS), 2, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);

        List<long[]> out = TableDecodingState.ids(Generator.generate(state, options));

        assertArrayEquals(new long[] {1, EOS}, out.get(0));
        assertEquals(5, out.get(1).length, "input 1 runs to max_new_tokens");
        assertEquals(1, state.prefills, "the prompt runs once");
        assertEquals(4, state.steps, "one step per token after the first, none after the limit");
        assertEquals(List.of(2, 4, 2, 2, 2), state.batchSizes,
                "prefill: 1 row per input; then 2 beams per input; input 0 leaves after step 2");
        assertArrayEquals(new int[] {0, 0, 1, 1}, state.selections.get(0),
                "each input's prefill row is gathered into its 2 beams");
        // After step 2 only input 1's rows (2, 3) survive, in beam order.
        for (int row : state.selections.get(1)) {
            assertTrue(row == 2 || row == 3, "row " + row + " of input 0 left the batch: " + Arrays.toString(state.selections.get(1)));
        }
        for (int[] selection : state.selections.subList(1, state.selections.size())) {
            assertEquals(2, selection.length);
        }
        // Rows of the state hold exactly the beams' tokens (a wrong gather would feed wrong contexts and
        // change the answer): input 1's answer is the exhaustive optimum.
        GenerationOptions wide = options.withNumBeams(2);
        ExhaustiveSearch.Result reference = ExhaustiveSearch.search(model, 1, null, wide.withNumBeams(64));
        assertArrayEquals(reference.best(), Generator.beam(new TableDecodingState(2, model), wide.withNumBeams(64)).get(1).ids());
    }

    @Test
    void aBeamWithSeveralChildrenIsDuplicatedAndAnEndedBeamIsDropped() throws Exception {
        // Step 1: beams [1] (.50) and [2] (.49). Step 2: [2,EOS] (.49 × .98) finishes; the running
        // beams are [1,1] (.25) and [1,2] (.245), both children of row 0, so row 0 is gathered twice
        // and row 1 is left out: select([0, 0]).
        TableDecodingState.Model model = probabilities(new double[][] {
                {.01, .50, .49}, {.01, .50, .49}, {.98, .01, .01}});
        TableDecodingState state = new TableDecodingState(1, model);
        GenerationOptions options = options(3, List.of(EOS), 2, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);
        Generator.beam(state, options);
        assertArrayEquals(new int[] {0, 0}, state.selections.get(0));
        assertArrayEquals(new int[] {0, 0}, state.selections.get(1), "both children of [1]");
        assertArrayEquals(new long[] {1, 1}, state.rowTokens[0]);
        assertArrayEquals(new long[] {1, 2}, state.rowTokens[1], "each gathered row holds [1] + the token fed to it");
    }
}
