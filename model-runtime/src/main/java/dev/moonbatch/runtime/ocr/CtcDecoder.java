package dev.moonbatch.runtime.ocr;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CTC greedy decoding of the recognizer's softmax output with PaddleOCR's character dictionary:
 * class 0 is the blank, class i the dictionary's line i − 1, and the class after the last line a
 * space (ocr-common appends {@code ' '} to the file's lines, as PaddleOCR's
 * {@code use_space_char}). Repeats of the same class are one character; a line's confidence is
 * the mean probability of the characters it kept, 0 for an empty line.
 */
public final class CtcDecoder {
    private final String[] characters;

    CtcDecoder(String[] characters) {
        this.characters = characters;
    }

    /** The dictionary file split on {@code \n} as ocr-common splits it, plus the space. */
    public static CtcDecoder load(Path dictionary) throws IOException {
        String text = Files.readString(dictionary, StandardCharsets.UTF_8);
        List<String> chars = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        chars.add(" ");
        return new CtcDecoder(chars.toArray(String[]::new));
    }

    /** Classes the recognizer must output: blank + the characters. */
    public int classes() {
        return characters.length + 1;
    }

    /** One decoded line: text, mean character probability, and each kept character's class and probability. */
    public record Line(String text, double confidence, long[] classIds, float[] probs) {
    }

    /**
     * Row {@code row} of a [n, steps, classes] output, its first {@code used} steps: those that saw
     * the line rather than the padding of its width bucket.
     */
    public Line decode(float[] output, int row, int steps, int classes, int used) {
        StringBuilder text = new StringBuilder();
        List<Long> ids = new ArrayList<>();
        List<Float> probs = new ArrayList<>();
        int previous = -1;
        double sum = 0;
        for (int t = 0; t < Math.min(used, steps); t++) {
            int base = (row * steps + t) * classes;
            int best = 0;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                if (output[base + c] > max) {
                    max = output[base + c];
                    best = c;
                }
            }
            boolean repeat = best == previous;
            previous = best;
            if (best == 0 || repeat) {
                continue;
            }
            text.append(best - 1 < characters.length ? characters[best - 1] : "");
            ids.add((long) best);
            probs.add(max);
            sum += max;
        }
        long[] idArray = ids.stream().mapToLong(Long::longValue).toArray();
        float[] probArray = new float[probs.size()];
        for (int i = 0; i < probArray.length; i++) {
            probArray[i] = probs.get(i);
        }
        return new Line(text.toString(), probs.isEmpty() ? 0 : sum / probs.size(), idArray, probArray);
    }
}
