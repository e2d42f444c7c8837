package dev.moonbatch.runtime.ocr;

import java.util.Arrays;
import java.util.Comparator;

/** Corner orders of a text box, as ocr-common computes them. */
final class Quads {
    private Quads() {
    }

    /**
     * ocr-common's {@code getMiniBoxes} order: the corners sorted by x; of the two leftmost the upper
     * one first and the lower one last, of the two rightmost the upper second and the lower third.
     */
    static double[][] miniBoxOrder(double[][] corners) {
        double[][] p = corners.clone();
        Arrays.sort(p, Comparator.comparingDouble(a -> a[0]));
        double[] first = p[1][1] > p[0][1] ? p[0] : p[1];
        double[] fourth = p[1][1] > p[0][1] ? p[1] : p[0];
        double[] second = p[3][1] > p[2][1] ? p[2] : p[3];
        double[] third = p[3][1] > p[2][1] ? p[3] : p[2];
        return new double[][] {first, second, third, fourth};
    }

    /**
     * ocr-common's {@code orderPointsClockwise}: top-left = smallest x + y, bottom-right = largest;
     * of the other two (a, b in the box's order) it takes {@code [b.x − a.x, b.y − a.y]} and picks
     * the point at the index of its smaller value as top-right, at the index of its larger as
     * bottom-left (the same one when the two are equal), as the JavaScript does.
     */
    static double[][] clockwise(float[] box) {
        double[][] pts = new double[4][];
        double[] s = new double[4];
        for (int k = 0; k < 4; k++) {
            pts[k] = new double[] {box[2 * k], box[2 * k + 1]};
            s[k] = pts[k][0] + pts[k][1];
        }
        int min = 0;
        int max = 0;
        for (int k = 1; k < 4; k++) {
            if (s[k] < s[min]) {
                min = k;
            }
            if (s[k] > s[max]) {
                max = k;
            }
        }
        int[] rest = new int[2];
        int r = 0;
        for (int k = 0; k < 4 && r < 2; k++) {
            if (k != min && k != max) {
                rest[r++] = k;
            }
        }
        if (r < 2) { // degenerate: equal sums
            rest[1] = rest[0];
        }
        double[] a = pts[rest[0]];
        double[] b = pts[rest[1]];
        double dx = b[0] - a[0];
        double dy = b[1] - a[1];
        return new double[][] {pts[min], dx <= dy ? a : b, pts[max], dx >= dy ? a : b};
    }

    static double distance(double[] a, double[] b) {
        return Math.hypot(a[0] - b[0], a[1] - b[1]);
    }
}
