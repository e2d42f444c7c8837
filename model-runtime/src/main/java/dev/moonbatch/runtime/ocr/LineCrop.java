package dev.moonbatch.runtime.ocr;

/**
 * One text line cut out of the image as ocr-common's {@code getRotateCropImage} does: the box's
 * quadrilateral warped onto an upright rectangle as wide as its longer top/bottom side and as high
 * as its longer left/right side (OpenCV {@code warpPerspective}, bicubic, edges replicated), then
 * turned a quarter counter-clockwise if it came out at least 1.5 times higher than wide (vertical
 * text).
 *
 * @param rgb packed 0xRRGGBB pixels, {@code width × height}
 */
public record LineCrop(int[] rgb, int width, int height) {
    /** OpenCV's bicubic kernel parameter. */
    private static final double A = -0.75;

    /** The crop of {@code box} (4 corners, 8 values, in ocr-common's order) from a packed RGB image. */
    public static LineCrop of(int[] image, int imageWidth, int imageHeight, double[] box) {
        double[][] p = new double[4][];
        for (int k = 0; k < 4; k++) {
            p[k] = new double[] {box[2 * k], box[2 * k + 1]};
        }
        int w = (int) Math.max(Quads.distance(p[0], p[1]), Quads.distance(p[2], p[3]));
        int h = (int) Math.max(Quads.distance(p[0], p[3]), Quads.distance(p[1], p[2]));
        w = Math.max(w, 1);
        h = Math.max(h, 1);
        double[] m = Homography.between(new double[][] {{0, 0}, {w, 0}, {w, h}, {0, h}}, p);
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double d = m[6] * x + m[7] * y + m[8];
                double sx = (m[0] * x + m[1] * y + m[2]) / d;
                double sy = (m[3] * x + m[4] * y + m[5]) / d;
                out[y * w + x] = bicubic(image, imageWidth, imageHeight, sx, sy);
            }
        }
        LineCrop crop = new LineCrop(out, w, h);
        return (double) h / w >= 1.5 ? crop.turnedCounterClockwise() : crop;
    }

    /**
     * OpenCV's {@code warpAffine} with {@code getRotationMatrix2D((w/2, w/2), 90, 1)} into h × w: pixel
     * (x, y) of the result is (w − y, x) of the crop, the column past the edge replicated.
     */
    LineCrop turnedCounterClockwise() {
        int[] out = new int[width * height];
        for (int y = 0; y < width; y++) {
            int sx = Math.min(width - y, width - 1);
            for (int x = 0; x < height; x++) {
                out[y * height + x] = rgb[x * width + sx];
            }
        }
        return new LineCrop(out, height, width);
    }

    /** The crop turned half a turn (the direction classifier read it upside down). */
    public LineCrop turnedHalf() {
        int[] out = new int[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            out[i] = rgb[rgb.length - 1 - i];
        }
        return new LineCrop(out, width, height);
    }

    /** OpenCV's INTER_CUBIC at (x, y) with BORDER_REPLICATE; the offset quantized to 1/32 pixel as OpenCV's tables are. */
    private static int bicubic(int[] image, int w, int h, double x, double y) {
        int ix = (int) Math.floor(x);
        int iy = (int) Math.floor(y);
        double fx = Math.round((x - ix) * 32) / 32.0;
        double fy = Math.round((y - iy) * 32) / 32.0;
        if (fx >= 1) {
            ix++;
            fx = 0;
        }
        if (fy >= 1) {
            iy++;
            fy = 0;
        }
        double[] wx = weights(fx);
        double[] wy = weights(fy);
        double r = 0;
        double g = 0;
        double b = 0;
        for (int j = 0; j < 4; j++) {
            int yy = Math.max(0, Math.min(h - 1, iy - 1 + j));
            double rr = 0;
            double gg = 0;
            double bb = 0;
            for (int i = 0; i < 4; i++) {
                int xx = Math.max(0, Math.min(w - 1, ix - 1 + i));
                int px = image[yy * w + xx];
                rr += wx[i] * ((px >> 16) & 0xFF);
                gg += wx[i] * ((px >> 8) & 0xFF);
                bb += wx[i] * (px & 0xFF);
            }
            r += wy[j] * rr;
            g += wy[j] * gg;
            b += wy[j] * bb;
        }
        return (clamp(r) << 16) | (clamp(g) << 8) | clamp(b);
    }

    private static double[] weights(double t) {
        double w0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
        double w1 = ((A + 2) * t - (A + 3)) * t * t + 1;
        double w2 = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
        return new double[] {w0, w1, w2, 1 - w0 - w1 - w2};
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
