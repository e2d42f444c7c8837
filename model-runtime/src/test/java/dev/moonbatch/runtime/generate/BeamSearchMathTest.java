package dev.moonbatch.runtime.generate;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table-based exp and the log-sum-exp beam search ranks with, against Math.exp in double. */
class BeamSearchMathTest {
    @Test
    void tableExpAgreesWithMathExpToDoublePrecision() {
        Random random = new Random(5);
        double worst = 0;
        for (int i = 0; i < 200_000; i++) {
            double d = -random.nextDouble() * (i % 2 == 0 ? 1.0 : 99.9);
            double relative = Math.abs(BeamSearch.expNonPositive(d) - Math.exp(d)) / Math.exp(d);
            worst = Math.max(worst, relative);
        }
        assertTrue(worst < 1e-14, "worst relative error " + worst);
        assertEquals(1.0, BeamSearch.expNonPositive(0.0));
        assertEquals(0.0, BeamSearch.expNonPositive(-150.0));
        assertEquals(0.0, BeamSearch.expNonPositive(Double.NEGATIVE_INFINITY));
        assertTrue(Double.isNaN(BeamSearch.expNonPositive(Double.NaN)));
    }

    @Test
    void logSumExpMatchesTheDirectSumAndGivesTheSameFloatScores() {
        Random random = new Random(9);
        float[] logits = new float[50_257];
        for (int t = 0; t < logits.length; t++) {
            logits[t] = (float) (random.nextGaussian() * 4 + (t % 97 == 0 ? 15 : 0));
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : logits) {
            sum += Math.exp((double) x - max);
        }
        double direct = max + Math.log(sum);
        double ours = BeamSearch.logSumExp(logits);
        assertEquals(direct, ours, 1e-12);
        int differentScores = 0;
        for (float x : logits) {
            if ((float) (x - direct) != (float) (x - ours)) {
                differentScores++;
            }
        }
        assertEquals(0, differentScores, "float log-softmax scores that differ from the Math.exp ones");
        float[] allMasked = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        assertEquals(Double.NEGATIVE_INFINITY, BeamSearch.logSumExp(allMasked));
    }
}
