package dev.moonbatch.runtime.preprocess;

/**
 * Resizes 8-bit RGB pixels exactly as Pillow's {@code Image.resize} does (separable convolution,
 * antialiased when shrinking, 22-bit fixed-point coefficients, horizontal pass then vertical).
 * The Hugging Face image processors resize with Pillow, so matching it bit for bit keeps our
 * pixel values — and hence generated tokens — equal to the reference implementation's.
 */
public final class PilResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PilResize() {
    }

    /**
     * @param rgb      packed 0xRRGGBB pixels, row-major, {@code inW * inH} long
     * @param resample PIL code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming
     * @return packed pixels of {@code outW * outH}
     */
    public static int[] resize(int[] rgb, int inW, int inH, int outW, int outH, int resample) {
        if (inW == outW && inH == outH) {
            return rgb.clone();
        }
        if (resample == 0) {
            return nearest(rgb, inW, inH, outW, outH);
        }
        Filter filter = Filter.of(resample);
        int[] pixels = rgb;
        int w = inW;
        if (outW != inW) {
            pixels = horizontal(pixels, inW, inH, outW, coefficients(inW, outW, filter));
            w = outW;
        }
        if (outH != inH) {
            pixels = vertical(pixels, w, inH, outH, coefficients(inH, outH, filter));
        }
        return pixels;
    }

    private record Coefficients(int[] start, int[] count, int[][] weights) {
    }

    private static Coefficients coefficients(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int[] start = new int[outSize];
        int[] count = new int[outSize];
        int[][] weights = new int[outSize][];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double[] k = new double[Math.max(xmax, 0)];
            double sum = 0;
            for (int x = 0; x < k.length; x++) {
                k[x] = filter.weight((x + xmin - center + 0.5) * ss);
                sum += k[x];
            }
            int[] fixed = new int[k.length];
            for (int x = 0; x < k.length; x++) {
                double w = sum != 0 ? k[x] / sum : k[x];
                fixed[x] = (int) (w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
            }
            start[xx] = xmin;
            count[xx] = k.length;
            weights[xx] = fixed;
        }
        return new Coefficients(start, count, weights);
    }

    private static int[] horizontal(int[] in, int inW, int h, int outW, Coefficients c) {
        int[] out = new int[outW * h];
        for (int y = 0; y < h; y++) {
            int row = y * inW;
            for (int x = 0; x < outW; x++) {
                int r = 1 << (PRECISION_BITS - 1);
                int g = r;
                int b = r;
                int[] k = c.weights[x];
                int base = row + c.start[x];
                for (int i = 0; i < c.count[x]; i++) {
                    int p = in[base + i];
                    r += ((p >> 16) & 0xFF) * k[i];
                    g += ((p >> 8) & 0xFF) * k[i];
                    b += (p & 0xFF) * k[i];
                }
                out[y * outW + x] = pack(r, g, b);
            }
        }
        return out;
    }

    private static int[] vertical(int[] in, int w, int inH, int outH, Coefficients c) {
        int[] out = new int[w * outH];
        for (int y = 0; y < outH; y++) {
            int[] k = c.weights[y];
            int first = c.start[y];
            for (int x = 0; x < w; x++) {
                int r = 1 << (PRECISION_BITS - 1);
                int g = r;
                int b = r;
                for (int i = 0; i < c.count[y]; i++) {
                    int p = in[(first + i) * w + x];
                    r += ((p >> 16) & 0xFF) * k[i];
                    g += ((p >> 8) & 0xFF) * k[i];
                    b += (p & 0xFF) * k[i];
                }
                out[y * w + x] = pack(r, g, b);
            }
        }
        return out;
    }

    private static int pack(int r, int g, int b) {
        return clip8(r) << 16 | clip8(g) << 8 | clip8(b);
    }

    private static int clip8(int v) {
        int s = v >> PRECISION_BITS;
        return s < 0 ? 0 : Math.min(s, 255);
    }

    /** Pillow's NEAREST: the source pixel under each output pixel's centre. */
    private static int[] nearest(int[] in, int inW, int inH, int outW, int outH) {
        int[] out = new int[outW * outH];
        double sx = (double) inW / outW;
        double sy = (double) inH / outH;
        for (int y = 0; y < outH; y++) {
            int srcY = Math.min((int) ((y + 0.5) * sy), inH - 1);
            for (int x = 0; x < outW; x++) {
                int srcX = Math.min((int) ((x + 0.5) * sx), inW - 1);
                out[y * outW + x] = in[srcY * inW + srcX];
            }
        }
        return out;
    }

    private enum Filter {
        BOX(0.5), BILINEAR(1.0), HAMMING(1.0), BICUBIC(2.0), LANCZOS(3.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        static Filter of(int resample) {
            return switch (resample) {
                case 1 -> LANCZOS;
                case 2 -> BILINEAR;
                case 3 -> BICUBIC;
                case 4 -> BOX;
                case 5 -> HAMMING;
                default -> throw new IllegalArgumentException("resample: unknown PIL filter code " + resample);
            };
        }

        double weight(double x) {
            return switch (this) {
                case BOX -> (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
                case BILINEAR -> Math.abs(x) < 1.0 ? 1.0 - Math.abs(x) : 0.0;
                case HAMMING -> {
                    double ax = Math.abs(x);
                    if (ax == 0.0) {
                        yield 1.0;
                    }
                    if (ax >= 1.0) {
                        yield 0.0;
                    }
                    double px = x * Math.PI;
                    yield Math.sin(px) / px * (0.54 + 0.46 * Math.cos(px));
                }
                case BICUBIC -> {
                    double a = -0.5;
                    double ax = Math.abs(x);
                    if (ax < 1.0) {
                        yield ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1;
                    }
                    if (ax < 2.0) {
                        yield (((ax - 5) * ax + 8) * ax - 4) * a;
                    }
                    yield 0.0;
                }
                case LANCZOS -> {
                    double ax = Math.abs(x);
                    yield ax < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
                }
            };
        }

        private static double sinc(double x) {
            if (x == 0.0) {
                return 1.0;
            }
            double px = x * Math.PI;
            return Math.sin(px) / px;
        }
    }
}
