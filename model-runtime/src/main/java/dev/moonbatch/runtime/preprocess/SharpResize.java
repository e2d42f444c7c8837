package dev.moonbatch.runtime.preprocess;

/**
 * transformers.js's {@code RawImage.resize(w, h, {resample})} in Node, which resizes with sharp
 * (libvips 8.18), not Pillow: resample 2 (bilinear) and 3 (bicubic) are {@code sharp.affine},
 * resample 1 (lanczos) is {@code sharp.resize({fit: 'fill', kernel: 'lanczos3'})}. All three are
 * bit-exact to it (checked on random images up- and downscaled, extreme aspect ratios included).
 */
public final class SharpResize {
    private SharpResize() {
    }

    /** Packed 0xRRGGBB pixels resized; a no-op copy when the size is unchanged. */
    public static int[] resize(int[] rgb, int inW, int inH, int outW, int outH, int resample) {
        if (inW == outW && inH == outH) {
            return rgb.clone();
        }
        return switch (resample) {
            case 2 -> bilinearAffine(rgb, inW, inH, outW, outH);
            case 3 -> bicubicAffine(rgb, inW, inH, outW, outH);
            case 1 -> lanczos3(rgb, inW, inH, outW, outH);
            default -> PilResize.resize(rgb, inW, inH, outW, outH, resample);
        };
    }

    /**
     * sharp {@code resize({width, height, fit: 'fill', kernel: 'lanczos3'})} = libvips 8.18
     * {@code vips_resize(scale = 1 / (W/w), vscale = 1 / (H/h), kernel = lanczos3)}, both exact:
     * <ul>
     *   <li>each scale is kept at or above one pixel ({@code max(scale, 1 / size)});</li>
     *   <li>an axis that shrinks goes through {@code vips_reducev}, then {@code vips_reduceh}
     *       ({@link VipsReduce});</li>
     *   <li>then, if an axis grows, {@code vips_affine} with libvips's <em>bicubic</em>
     *       (Catmull-Rom) interpolator, input displacement 0.5, edges copied ({@link #bicubicAffine}).</li>
     * </ul>
     */
    static int[] lanczos3(int[] rgb, int inW, int inH, int outW, int outH) {
        double hscale = Math.max(1.0 / ((double) inW / outW), 1.0 / inW);
        double vscale = Math.max(1.0 / ((double) inH / outH), 1.0 / inH);
        return lanczos3(rgb, inW, inH, hscale, vscale).rgb();
    }

    /** Packed RGB pixels and their size. */
    public record Sized(int[] rgb, int width, int height) {
    }

    /**
     * {@code vips_resize(hscale, vscale, kernel = lanczos3)} with the scales given, as sharp calls it
     * when it keeps the aspect ratio ({@code fit: contain}, or one side given): both scales are the
     * one shrink factor sharp resolved, so the other side's size is whatever libvips rounds it to.
     */
    public static Sized lanczos3(int[] rgb, int inW, int inH, double hscale, double vscale) {
        VipsReduce.Image image = new VipsReduce.Image(rgb, inW, inH);
        if (vscale < 1.0) {
            image = VipsReduce.reducev(image, 1.0 / vscale);
        }
        if (hscale < 1.0) {
            image = VipsReduce.reduceh(image, 1.0 / hscale);
        }
        if (hscale > 1.0 || vscale > 1.0) {
            double a = hscale > 1.0 ? hscale : 1.0;
            double d = vscale > 1.0 ? vscale : 1.0;
            int[] pixels = bicubicAffine(image.rgb(), image.width(), image.height(), a, d);
            return new Sized(pixels, (int) Math.round(image.width() * a), (int) Math.round(image.height() * d));
        }
        return new Sized(image.rgb(), image.width(), image.height());
    }

    /** libvips bicubic interpolator's fixed-point Catmull-Rom table: 65 entries of 4 coefficients, scale 4096. */
    private static final int[][] BICUBIC = new int[65][4];

    static {
        for (int x = 0; x <= 64; x++) {
            double t = (float) x / 64;
            double cr1 = 1. - t;
            double cr2 = -.5 * t;
            double cr3 = cr1 * cr2;
            double cone = cr1 * cr3;
            double cfou = t * cr3;
            double cr4 = cfou - cone;
            double ctwo = cr1 - cone + cr4;
            double cthr = t - cfou - cr4;
            BICUBIC[x][0] = (int) (cone * 4096);
            BICUBIC[x][1] = (int) (ctwo * 4096);
            BICUBIC[x][2] = (int) (cthr * 4096);
            BICUBIC[x][3] = (int) (cfou * 4096);
        }
    }

    /**
     * libvips 8.18 {@code vips_affine(in, a, 0, 0, d, idx = 0.5, idy = 0.5, extend = copy,
     * interpolate = bicubic)} on 8-bit RGB, as {@code vips_resize} calls it to upsize. Output size
     * round(W*a) x round(H*d). In the input's own pixel coordinates the sample for output (x, y) is
     * at (ia*x - 0.5, id*y - 0.5), ix accumulated column by column; edges replicated; the
     * fraction is snapped to 1/64 (round to nearest); rows first, each rounded from 12-bit fixed point.
     */
    static int[] bicubicAffine(int[] src, int W, int H, double a, double d) {
        int w = (int) Math.round(W * a);   // VIPS_ROUND_INT of the forward-mapped corners
        int h = (int) Math.round(H * d);
        double tmp = 1.0 / (a * d);
        double ia = tmp * d;
        double id = tmp * a;
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++) {
            // space 2 (input embedded with a 2-pixel border): iy = id*y - (0.5 - 1) + window_offset 1
            double iy = id * y - (0.5 - 1) + 1;
            double ix = ia * 0 - (0.5 - 1) + 1;
            int[] cy = BICUBIC[(((int) (iy * 128) & 127) + 1) >> 1];
            for (int x = 0; x < w; x++) {
                int[] cx = BICUBIC[(((int) (ix * 128) & 127) + 1) >> 1];
                out[y * w + x] = bicubicPixel(src, W, H, (int) ix - 3, (int) iy - 3, cx, cy, true);
                ix += ia;
            }
        }
        return out;
    }

    /**
     * sharp {@code .affine([w/W,0,0,h/H], {interpolator: 'bicubic'})}: the interpolator of
     * {@link #bicubicAffine(int[], int, int, double, double)} with no input displacement
     * (corner-aligned: output (x, y) samples input (ia*x, id*y)), no antialiasing, black outside.
     */
    static int[] bicubicAffine(int[] src, int W, int H, int w, int h) {
        double a = (double) w / W;
        double d = (double) h / H;
        double tmp = 1.0 / (a * d);
        double ia = tmp * d;
        double id = tmp * a;
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++) {
            double iy = id * y + 2;   // space 2: the input embedded in a 2-pixel black border
            double ix = 2;
            int[] cy = BICUBIC[(((int) (iy * 128) & 127) + 1) >> 1];
            for (int x = 0; x < w; x++) {
                int[] cx = BICUBIC[(((int) (ix * 128) & 127) + 1) >> 1];
                out[y * w + x] = bicubicPixel(src, W, H, (int) ix - 3, (int) iy - 3, cx, cy, false);
                ix += ia;
            }
        }
        return out;
    }

    /**
     * One pixel of libvips's bicubic interpolator: the 4×4 input pixels from (x0, y0), each row
     * rounded from 12-bit fixed point, then the column; outside the image the edge pixel
     * ({@code clampEdges}) or black.
     */
    private static int bicubicPixel(int[] src, int W, int H, int x0, int y0, int[] cx, int[] cy, boolean clampEdges) {
        int p = 0;
        for (int c = 0; c < 3; c++) {
            int shift = 16 - 8 * c;
            int acc = 0;
            for (int j = 0; j < 4; j++) {
                int r = 0;
                for (int i = 0; i < 4; i++) {
                    int x = x0 + i;
                    int y = y0 + j;
                    r += cx[i] * (clampEdges ? (src[clamp(y, H) * W + clamp(x, W)] >> shift) & 0xFF
                            : px(src, W, H, x, y, shift));
                }
                acc += cy[j] * ((r + 2048) >> 12);
            }
            p |= Math.max(0, Math.min(255, (acc + 2048) >> 12)) << shift;
        }
        return p;
    }

    private static int clamp(int i, int n) {
        return i < 0 ? 0 : (i >= n ? n - 1 : i);
    }

    /**
     * sharp {@code .affine([w/W,0,0,h/H], {interpolator: 'bilinear'})}: corner-aligned, no
     * antialiasing, 12-bit fixed point, black outside (tools/reference/check-resize.mjs).
     */
    static int[] bilinearAffine(int[] src, int W, int H, int w, int h) {
        double a = (double) w / W;
        double d = (double) h / H;
        double tmp = 1.0 / (a * d);
        double ia = tmp * d;
        double id = tmp * a;
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++) {
            double iy = id * y + 1;
            double ix = 1;
            for (int x = 0; x < w; x++) {
                int fx = (int) Math.floor(ix);
                int fy = (int) Math.floor(iy);
                int X = (int) ((ix - fx) * 4096);
                int Y = (int) ((iy - fy) * 4096);
                int Yd = 4096 - Y;
                int c4 = (Y * X) >> 12;
                int c2 = (Yd * X) >> 12;
                int c3 = Y - c4;
                int c1 = Yd - c2;
                int p = 0;
                for (int c = 0; c < 3; c++) {
                    int shift = 16 - 8 * c;
                    int v = (c1 * px(src, W, H, fx - 1, fy - 1, shift) + c2 * px(src, W, H, fx, fy - 1, shift)
                            + c3 * px(src, W, H, fx - 1, fy, shift) + c4 * px(src, W, H, fx, fy, shift) + 2048) >> 12;
                    p |= v << shift;
                }
                out[y * w + x] = p;
                ix += ia;
            }
        }
        return out;
    }

    private static int px(int[] src, int W, int H, int x, int y, int shift) {
        return x < 0 || y < 0 || x >= W || y >= H ? 0 : (src[y * W + x] >> shift) & 0xFF;
    }
}
