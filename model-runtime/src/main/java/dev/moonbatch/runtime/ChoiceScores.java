package dev.moonbatch.runtime;

import java.util.List;

/**
 * The scores of a closed question's choices: {@code logProbs[i]} is the sum of the log-probabilities
 * of choice i's tokens, EOS included (the sequence the model would have to generate to answer
 * exactly that), teacher-forced after the question's prompt. The answer is the best-scoring choice;
 * its confidence is the softmax of the scores over the choices.
 */
public record ChoiceScores(List<String> choices, double[] logProbs) {
    public ChoiceScores {
        choices = List.copyOf(choices);
        if (logProbs.length != choices.size() || choices.isEmpty()) {
            throw new IllegalArgumentException(logProbs.length + " scores for " + choices.size() + " choices");
        }
    }

    /** Index of the best score; the first one on ties. */
    public int bestIndex() {
        int best = 0;
        for (int i = 1; i < logProbs.length; i++) {
            if (logProbs[i] > logProbs[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The answer: the best-scoring choice. */
    public String value() {
        return choices.get(bestIndex());
    }

    /** softmax(logProbs) over the choices. */
    public double[] probabilities() {
        double max = logProbs[bestIndex()];
        double[] p = new double[logProbs.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = max == Double.NEGATIVE_INFINITY ? 1 : Math.exp(logProbs[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** The answer's share of the softmax over the choices (1 / choices when every score is -inf). */
    public double confidence() {
        return probabilities()[bestIndex()];
    }
}
