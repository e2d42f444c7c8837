package dev.moonbatch.runtime.ocr;

/**
 * Character error rate: Levenshtein distance over code points divided by the truth's length,
 * after each line is trimmed and its runs of spaces made one (layout, not reading, decides those).
 */
public final class CharacterErrorRate {
    private CharacterErrorRate() {
    }

    public static String normalize(String text) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n")) {
            String l = line.strip().replaceAll("\\s+", " ");
            if (!l.isEmpty()) {
                out.append(out.length() > 0 ? "\n" : "").append(l);
            }
        }
        return out.toString();
    }

    /** Edits from {@code truth} to {@code read}, both normalized. */
    public static int distance(String truth, String read) {
        int[] a = normalize(truth).codePoints().toArray();
        int[] b = normalize(read).codePoints().toArray();
        int[] prev = new int[b.length + 1];
        int[] cur = new int[b.length + 1];
        for (int j = 0; j <= b.length; j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length; i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length; j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length];
    }

    public static int length(String truth) {
        return (int) normalize(truth).codePoints().count();
    }
}
