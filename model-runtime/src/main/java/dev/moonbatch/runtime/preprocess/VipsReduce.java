package dev.moonbatch.runtime.preprocess;

/**
 * libvips 8.18's lanczos3 downsizing of one axis, {@code vips_reducev} / {@code vips_reduceh} with
 * the default reducing gap of 2 (what {@code vips_resize}, hence sharp's
 * {@code resize({fit: 'fill', kernel: 'lanczos3'})}, hence transformers.js's lanczos resize in Node,
 * runs for an axis that shrinks), on 8-bit packed RGB. Ported from {@code resample/reduce[hv].cpp},
 * {@code shrink[hv].c} and their Highway paths, whose 8-bit arithmetic is:
 * <ol>
 *   <li>output size {@code (int) (in / shrink + 0.5)};</li>
 *   <li>when {@code in / out / 2 >= 2}, a box shrink by that integer first ({@code shrink[hv]},
 *       ceil size, edge copied): {@code ((sum + s/2) * floor(2^24 / s)) >> 24};</li>
 *   <li>the residual shrink r: a {@code 2 * rint(3r) + 1}-point lanczos3 mask, tabulated at 65
 *       sub-pixel phases, each coefficient {@code (short) (c * 4096)}; the input is edge-copied
 *       {@code ceil(n/2) - 1} pixels before; output pixel o reads from
 *       {@code X = 0.5r - 0.5 - offset + o*r} (accumulated; {@code offset = (1 + extra) / 2 - 1},
 *       {@code extra = out*shrink - in} in residual units), input pixels from {@code (int) X}, phase
 *       {@code (((int) (128X) & 127) + 1) >> 1}, sum {@code (2048 + Σ p*k) >> 12} clipped to 0..255.</li>
 * </ol>
 * Ported from the 8.18.4 sources; checked byte for byte against the libvips 8.18.7 that sharp 0.35
 * ships with transformers.js 4.3.1 ({@code SharpResizeAgreementTest}). libvips accumulates the
 * sample position per output region; here it runs from the first pixel, which has given the same
 * phases on every case checked.
 */
final class VipsReduce {
    /** {@code vips_resize}'s default reducing gap. */
    private static final double GAP = 2.0;
    /** {@code VIPS_TRANSFORM_SCALE}: sub-pixel phases of the coefficient table. */
    private static final int PHASES = 64;
    /** {@code MAX_POINT}: libvips refuses masks longer than this. */
    private static final int MAX_POINT = 50;

    private VipsReduce() {
    }

    /** Packed RGB pixels and their size. */
    record Image(int[] rgb, int width, int height) {
    }

    /** {@code vips_reducev(in, vshrink, kernel = lanczos3, gap = 2)}. */
    static Image reducev(Image in, double vshrink) {
        return reduce(in, vshrink, true);
    }

    /** {@code vips_reduceh(in, hshrink, kernel = lanczos3, gap = 2)}. */
    static Image reduceh(Image in, double hshrink) {
        return reduce(in, hshrink, false);
    }

    private static Image reduce(Image image, double shrink, boolean vertical) {
        if (shrink < 1.0) {
            throw new IllegalArgumentException("reduce factor should be >= 1.0, got " + shrink);
        }
        Axis axis = new Axis(image, vertical);
        int out = (int) (axis.along / shrink + 0.5);
        if (out <= 0) {
            throw new IllegalArgumentException("image has shrunk to nothing");
        }
        double extra = out * shrink - axis.along;
        double residual = shrink;
        int intShrink = Math.max(1, (int) Math.floor((double) axis.along / out / GAP));
        if (intShrink > 1) {
            image = boxShrink(axis, intShrink);
            axis = new Axis(image, vertical);
            residual /= intShrink;
            extra /= intShrink;
        }
        if (residual == 1.0) {
            return image;
        }
        int n = 2 * (int) Math.rint(3 * residual) + 1;
        if (n > MAX_POINT) {
            throw new IllegalArgumentException("reduce factor too large: " + shrink);
        }
        short[][] table = new short[PHASES + 1][];
        for (int t = 0; t <= PHASES; t++) {
            table[t] = mask(n, residual, (float) t / PHASES);
        }
        double offset = (1 + extra) / 2.0 - 1;
        int pad = (int) Math.ceil(n / 2.0) - 1;
        Axis result = axis.resized(out);
        double x = 0.5 * residual - 0.5 - offset;
        for (int o = 0; o < out; o++) {
            int ix = (int) x;
            int phase = ((((int) (x * PHASES * 2)) & (PHASES * 2 - 1)) + 1) >> 1;
            short[] k = table[phase];
            for (int across = 0; across < axis.across; across++) {
                int r = 2048;
                int g = 2048;
                int b = 2048;
                for (int i = 0; i < n; i++) {
                    int p = axis.get(ix + i - pad, across);
                    r += ((p >> 16) & 0xFF) * k[i];
                    g += ((p >> 8) & 0xFF) * k[i];
                    b += (p & 0xFF) * k[i];
                }
                result.set(o, across, clip(r >> 12) << 16 | clip(g >> 12) << 8 | clip(b >> 12));
            }
            x += residual;
        }
        return result.image();
    }

    /** {@code vips_reduce_make_mask} for lanczos3 (templates.h {@code calculate_coefficients}), as shorts. */
    private static short[] mask(int n, double shrink, double x) {
        double half = x + n / 2.0 - 1;
        double[] c = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double xp = (i - half) / shrink;
            c[i] = xp >= -3 && xp <= 3 ? sinc(xp) * sinc(xp / 3) : 0.0;
            sum += c[i];
        }
        short[] s = new short[n];
        for (int i = 0; i < n; i++) {
            s[i] = (short) (c[i] / sum * 4096);
        }
        return s;
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        double px = x * Math.PI;
        return StrictMath.sin(px) / px;
    }

    /** {@code vips_shrinkh} / {@code vips_shrinkv} with {@code ceil}, Highway's 8-bit box average. */
    private static Image boxShrink(Axis axis, int s) {
        int out = (axis.along + s - 1) / s;
        long multiplier = (1L << 32) / (256L * s);
        Axis result = axis.resized(out);
        for (int o = 0; o < out; o++) {
            for (int across = 0; across < axis.across; across++) {
                int r = 0;
                int g = 0;
                int b = 0;
                for (int j = 0; j < s; j++) {
                    int p = axis.get(o * s + j, across);
                    r += (p >> 16) & 0xFF;
                    g += (p >> 8) & 0xFF;
                    b += p & 0xFF;
                }
                result.set(o, across, average(r, s, multiplier) << 16 | average(g, s, multiplier) << 8
                        | average(b, s, multiplier));
            }
        }
        return result.image();
    }

    private static int average(int sum, int s, long multiplier) {
        return (int) ((((sum + s / 2) * multiplier) & 0xFFFFFFFFL) >>> 24);
    }

    private static int clip(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /** An image seen along the reduced axis; reads outside it copy the edge ({@code VIPS_EXTEND_COPY}). */
    private static final class Axis {
        final int[] rgb;
        final int width;
        final int height;
        final boolean vertical;
        final int along;
        final int across;

        Axis(Image image, boolean vertical) {
            this(image.rgb(), image.width(), image.height(), vertical);
        }

        private Axis(int[] rgb, int width, int height, boolean vertical) {
            this.rgb = rgb;
            this.width = width;
            this.height = height;
            this.vertical = vertical;
            this.along = vertical ? height : width;
            this.across = vertical ? width : height;
        }

        Axis resized(int newAlong) {
            int w = vertical ? width : newAlong;
            int h = vertical ? newAlong : height;
            return new Axis(new int[w * h], w, h, vertical);
        }

        int get(int a, int c) {
            int i = a < 0 ? 0 : Math.min(a, along - 1);
            return vertical ? rgb[i * width + c] : rgb[c * width + i];
        }

        void set(int a, int c, int p) {
            if (vertical) {
                rgb[a * width + c] = p;
            } else {
                rgb[c * width + a] = p;
            }
        }

        Image image() {
            return new Image(rgb, width, height);
        }
    }
}
