package dev.moonbatch.runtime.generate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GeneratorTest {
    private static final long EOS = 0;

    /**
     * A toy model over a 5-token vocabulary: each row follows its own script of tokens; the
     * logits put the script's next token first. Records how the generator drives it.
     */
    private static final class ScriptedState implements DecodingState {
        final long[][] scripts;
        int[] rows;
        int step;
        final List<int[]> selections = new ArrayList<>();
        final List<Integer> batchSizes = new ArrayList<>();
        final List<long[]> fed = new ArrayList<>();

        ScriptedState(long[]... scripts) {
            this.scripts = scripts;
            this.rows = new int[scripts.length];
            Arrays.setAll(rows, i -> i);
        }

        private float[][] logits() {
            batchSizes.add(rows.length);
            float[][] out = new float[rows.length][5];
            for (int r = 0; r < rows.length; r++) {
                long[] script = scripts[rows[r]];
                long token = step < script.length ? script[step] : 4;
                out[r][(int) token] = 10f;
                out[r][(int) ((token + 1) % 5)] = 9f;
            }
            return out;
        }

        public float[][] prefill() {
            return logits();
        }

        public float[][] step(long[] tokens) {
            fed.add(tokens.clone());
            step++;
            return logits();
        }

        public void select(int[] keep) {
            selections.add(keep.clone());
            int[] next = new int[keep.length];
            for (int i = 0; i < keep.length; i++) {
                next[i] = rows[keep[i]];
            }
            rows = next;
        }

        public void close() {
        }
    }

    @Test
    void greedyFollowsArgmaxAndFinishedRowsLeaveTheBatch() throws Exception {
        ScriptedState state = new ScriptedState(new long[] {1, EOS}, new long[] {2, 3, 1, EOS}, new long[] {3, 3, 3, 3, 3, 3});
        List<long[]> out = TableDecodingState.ids(Generator.greedy(state, new GenerationOptions(5, List.of(EOS))));

        assertArrayEquals(new long[] {1, EOS}, out.get(0));
        assertArrayEquals(new long[] {2, 3, 1, EOS}, out.get(1));
        assertArrayEquals(new long[] {3, 3, 3, 3, 3}, out.get(2), "stops at max_new_tokens");
        assertEquals(List.of(3, 3, 2, 2, 1), state.batchSizes, "row 0 leaves after its EOS, row 1 after its own");
        assertArrayEquals(new int[] {1, 2}, state.selections.get(0));
        assertArrayEquals(new long[] {3, 3}, state.fed.get(1), "only running rows are fed");
    }

    @Test
    void runsToTheLimitWithoutEos() throws Exception {
        ScriptedState state = new ScriptedState(new long[] {1, EOS, 2});
        List<long[]> out = TableDecodingState.ids(Generator.greedy(state, new GenerationOptions(3, List.of())));
        assertArrayEquals(new long[] {1, EOS, 2}, out.get(0));
    }

    @Test
    void argmaxTakesTheFirstOfEqualLogits() {
        assertEquals(1, Generator.argmax(new float[] {0f, 2f, 2f, -1f}));
    }
}
