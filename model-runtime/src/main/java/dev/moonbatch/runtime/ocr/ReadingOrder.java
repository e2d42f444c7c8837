package dev.moonbatch.runtime.ocr;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * ocr-common's last step: lines under {@value #MIN_CONFIDENCE} mean probability dropped, the rest
 * grouped into rows — a box joins the first row whose first box's vertical midline (from its first
 * and third corners) is less than half the average box height away — each row's boxes sorted left
 * to right and joined with a space into one line, whose box runs from its first box's left corners
 * to its last box's right corners, rows sorted top to bottom by their first box's first corner.
 */
public final class ReadingOrder {
    static final double MIN_CONFIDENCE = 0.5;

    private ReadingOrder() {
    }

    /** A recognized line: text, mean probability, box (8 values, ocr-common's corner order) and what it decoded from. */
    public record Line(String text, double confidence, double[] box, long[] classIds, float[] probs) {
    }

    /** Lines in the order the detector found them → the lines read, top to bottom. */
    public static List<Line> arrange(List<Line> found) {
        List<Line> kept = found.stream().filter(l -> l.confidence() >= MIN_CONFIDENCE).toList();
        if (kept.isEmpty()) {
            return List.of();
        }
        double averageHeight = kept.stream().mapToDouble(l -> l.box()[5] - l.box()[1]).sum() / kept.size();
        List<List<Line>> rows = new ArrayList<>();
        for (Line line : kept) {
            double mid = (line.box()[1] + line.box()[5]) / 2;
            List<Line> row = rows.stream()
                    .filter(r -> Math.abs((r.get(0).box()[1] + r.get(0).box()[5]) / 2 - mid) < averageHeight / 2)
                    .findFirst().orElse(null);
            if (row == null) {
                row = new ArrayList<>();
                rows.add(row);
            }
            row.add(line);
        }
        for (List<Line> row : rows) {
            row.sort(Comparator.comparingDouble(l -> l.box()[0]));
        }
        rows.sort(Comparator.comparingDouble(r -> r.get(0).box()[1]));
        List<Line> out = new ArrayList<>();
        for (List<Line> row : rows) {
            out.add(merge(row));
        }
        return out;
    }

    private static Line merge(List<Line> row) {
        if (row.size() == 1) {
            return row.get(0);
        }
        Line first = row.get(0);
        Line last = row.get(row.size() - 1);
        double[] box = {first.box()[0], first.box()[1], last.box()[2], last.box()[3], last.box()[4], last.box()[5],
                first.box()[6], first.box()[7]};
        StringBuilder text = new StringBuilder();
        double confidence = 0;
        int ids = 0;
        for (Line l : row) {
            text.append(text.length() > 0 ? " " : "").append(l.text());
            confidence += l.confidence();
            ids += l.classIds().length;
        }
        long[] classIds = new long[ids];
        float[] probs = new float[ids];
        int at = 0;
        for (Line l : row) {
            System.arraycopy(l.classIds(), 0, classIds, at, l.classIds().length);
            System.arraycopy(l.probs(), 0, probs, at, l.probs().length);
            at += l.classIds().length;
        }
        return new Line(text.toString(), confidence / row.size(), box, classIds, probs);
    }
}
