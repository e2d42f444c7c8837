package dev.moonbatch.runtime.ocr;

import org.locationtech.jts.algorithm.MinimumAreaRectangle;
import org.locationtech.jts.geom.Coordinate;
import org.locationtech.jts.geom.Geometry;
import org.locationtech.jts.geom.GeometryFactory;
import org.locationtech.jts.geom.Polygon;
import org.locationtech.jts.operation.buffer.BufferParameters;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * DBNet post-processing as @gutenye/ocr-common 1.4.8 does it ({@code splitIntoLineImages}): the
 * probability map thresholded at {@value #THRESHOLD}, every contour OpenCV's {@code findContours}
 * ({@code RETR_LIST}) would list — the outer border of each 8-connected text blob and the border of
 * each hole in one — its minimum-area rectangle (dropped below {@value #MIN_SIDE} px on the short
 * side), grown by the unclip distance {@code area × }{@value #UNCLIP_RATIO}{@code  / perimeter} with
 * round joins, the grown outline's corners rounded to whole pixels as Clipper returns them, its
 * minimum-area rectangle again (dropped below {@value #MIN_SIDE} + 2), corners rounded and clipped
 * to the map, and boxes whose ordered sides are 3 px or less dropped. ocr-common applies no box
 * score, so neither do we. Geometry by JTS.
 */
public final class TextBoxes {
    static final float THRESHOLD = 0.03f;
    static final double UNCLIP_RATIO = 1.5;
    static final int MIN_SIDE = 3;
    private static final GeometryFactory GEOMETRY = new GeometryFactory();

    private TextBoxes() {
    }

    /**
     * The text boxes of a {@code width × height} probability map, in its pixels: 8 values each,
     * corners in ocr-common's order (left-top, right-top, right-bottom, left-bottom of the
     * rectangle as its points sort), in the order the contours start in a raster scan.
     */
    public static List<float[]> find(float[] probability, int width, int height) {
        boolean[] text = new boolean[width * height];
        for (int i = 0; i < text.length; i++) {
            text[i] = probability[i] > THRESHOLD;
        }
        List<float[]> boxes = new ArrayList<>();
        for (Contour contour : contours(text, width, height)) {
            float[] box = box(contour.points(), width, height);
            if (box != null) {
                boxes.add(box);
            }
        }
        return boxes;
    }

    /** One contour: where a raster scan meets it first, and its pixels (x, y pairs). */
    record Contour(int start, int[] points) {
    }

    /**
     * The point sets of the contours {@code findContours(RETR_LIST)} returns, whose minimum-area
     * rectangles are all that is used of them: an 8-connected blob's border pixels (those with a
     * 4-neighbour outside it) and, for each 4-connected hole, the blob pixels 4-adjacent to it.
     * Sorted by where the border following would start.
     */
    static List<Contour> contours(boolean[] text, int width, int height) {
        int n = width * height;
        int[] blob = new int[n];
        Arrays.fill(blob, -1);
        List<Contour> out = new ArrayList<>();
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        int[] points = new int[64];
        for (int start = 0; start < n; start++) {
            if (!text[start] || blob[start] >= 0) {
                continue;
            }
            blob[start] = start;
            queue.add(start);
            int count = 0;
            while (!queue.isEmpty()) {
                int p = queue.poll();
                int x = p % width;
                int y = p / width;
                if (isBorder(text, width, height, x, y)) {
                    if (2 * count + 2 > points.length) {
                        points = Arrays.copyOf(points, points.length * 2);
                    }
                    points[2 * count] = x;
                    points[2 * count + 1] = y;
                    count++;
                }
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int nx = x + dx;
                        int ny = y + dy;
                        if (nx >= 0 && ny >= 0 && nx < width && ny < height) {
                            int q = ny * width + nx;
                            if (text[q] && blob[q] < 0) {
                                blob[q] = start;
                                queue.add(q);
                            }
                        }
                    }
                }
            }
            out.add(new Contour(start, Arrays.copyOf(points, 2 * count)));
        }
        out.addAll(holes(text, width, height));
        out.sort(Comparator.comparingInt(Contour::start));
        return out;
    }

    private static boolean isBorder(boolean[] text, int width, int height, int x, int y) {
        return x == 0 || y == 0 || x == width - 1 || y == height - 1 || !text[y * width + x - 1] || !text[y * width + x + 1]
                || !text[(y - 1) * width + x] || !text[(y + 1) * width + x];
    }

    /** Each enclosed 4-connected background region: the text pixels 4-adjacent to it. */
    private static List<Contour> holes(boolean[] text, int width, int height) {
        int n = width * height;
        boolean[] seen = new boolean[n];
        List<Contour> out = new ArrayList<>();
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int start = 0; start < n; start++) {
            if (text[start] || seen[start]) {
                continue;
            }
            seen[start] = true;
            queue.add(start);
            boolean enclosed = true;
            List<Integer> region = new ArrayList<>();
            while (!queue.isEmpty()) {
                int p = queue.poll();
                region.add(p);
                int x = p % width;
                int y = p / width;
                if (x == 0 || y == 0 || x == width - 1 || y == height - 1) {
                    enclosed = false;
                }
                int[][] steps = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
                for (int[] s : steps) {
                    int nx = x + s[0];
                    int ny = y + s[1];
                    if (nx >= 0 && ny >= 0 && nx < width && ny < height) {
                        int q = ny * width + nx;
                        if (!text[q] && !seen[q]) {
                            seen[q] = true;
                            queue.add(q);
                        }
                    }
                }
            }
            if (!enclosed) {
                continue;
            }
            // the first hole pixel in raster order is `start`; the border is found from the pixel left of it
            java.util.Set<Integer> border = new java.util.TreeSet<>();
            for (int p : region) {
                int x = p % width;
                int y = p / width;
                int[] around = {p - 1, p + 1, p - width, p + width};
                boolean[] inside = {x > 0, x < width - 1, y > 0, y < height - 1};
                for (int k = 0; k < 4; k++) {
                    if (inside[k] && text[around[k]]) {
                        border.add(around[k]);
                    }
                }
            }
            int[] points = new int[2 * border.size()];
            int i = 0;
            for (int p : border) {
                points[i++] = p % width;
                points[i++] = p / width;
            }
            out.add(new Contour(start - 1, points));
        }
        return out;
    }

    /** One contour's box, or null where ocr-common drops it. */
    static float[] box(int[] points, int width, int height) {
        Rect first = Rect.of(coordinates(points));
        if (first == null || first.shortSide() < MIN_SIDE) {
            return null;
        }
        Rect grown = Rect.of(unclip(first.corners()));
        if (grown == null || grown.shortSide() < MIN_SIDE + 2) {
            return null;
        }
        double[][] c = grown.corners();
        float[] box = new float[8];
        for (int k = 0; k < 4; k++) {
            box[2 * k] = (float) Math.max(0, Math.min(Math.round(c[k][0]), width));
            box[2 * k + 1] = (float) Math.max(0, Math.min(Math.round(c[k][1]), height));
        }
        double[][] ordered = Quads.clockwise(box);
        if ((int) Quads.distance(ordered[0], ordered[1]) <= 3 || (int) Quads.distance(ordered[0], ordered[3]) <= 3) {
            return null;
        }
        return box;
    }

    private static Coordinate[] coordinates(int[] points) {
        Coordinate[] out = new Coordinate[points.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = new Coordinate(points[2 * i], points[2 * i + 1]);
        }
        return out;
    }

    /** The rectangle grown by the unclip distance with round joins, vertices rounded to whole pixels (Clipper's integer output). */
    static Coordinate[] unclip(double[][] corners) {
        Coordinate[] ring = new Coordinate[5];
        double area = 0;
        double perimeter = 0;
        for (int k = 0; k < 4; k++) {
            double[] a = corners[k];
            double[] b = corners[(k + 1) % 4];
            ring[k] = new Coordinate(a[0], a[1]);
            area += a[0] * b[1] - b[0] * a[1];
            perimeter += Math.hypot(a[0] - b[0], a[1] - b[1]);
        }
        ring[4] = ring[0].copy();
        double distance = Math.abs(area / 2) * UNCLIP_RATIO / perimeter;
        Polygon rect = GEOMETRY.createPolygon(ring);
        Geometry grown = rect.buffer(distance, BufferParameters.DEFAULT_QUADRANT_SEGMENTS, BufferParameters.CAP_ROUND);
        Coordinate[] out = grown.getCoordinates();
        for (Coordinate c : out) {
            c.x = Math.round(c.x);
            c.y = Math.round(c.y);
        }
        return out;
    }

    /** A minimum-area rectangle: its corners in ocr-common's order and its sides. */
    record Rect(double[][] corners, double side1, double side2) {
        double shortSide() {
            return Math.min(side1, side2);
        }

        /** OpenCV's {@code minAreaRect} + ocr-common's {@code getMiniBoxes}: null for an empty set. */
        static Rect of(Coordinate[] points) {
            if (points.length == 0) {
                return null;
            }
            Geometry rect = MinimumAreaRectangle.getMinimumRectangle(GEOMETRY.createMultiPointFromCoords(points));
            Coordinate[] c = rect.getCoordinates();
            double[][] pts = new double[4][];
            double side1;
            double side2;
            if (rect instanceof Polygon) {
                for (int k = 0; k < 4; k++) {
                    pts[k] = new double[] {c[k].x, c[k].y};
                }
                side1 = c[0].distance(c[1]);
                side2 = c[1].distance(c[2]);
            } else { // a line or a point: a rectangle of width 0
                Coordinate a = c[0];
                Coordinate b = c[c.length - 1];
                pts = new double[][] {{a.x, a.y}, {b.x, b.y}, {b.x, b.y}, {a.x, a.y}};
                side1 = a.distance(b);
                side2 = 0;
            }
            return new Rect(Quads.miniBoxOrder(pts), side1, side2);
        }
    }
}
