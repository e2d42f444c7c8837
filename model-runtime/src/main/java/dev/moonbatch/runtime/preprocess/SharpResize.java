package dev.moonbatch.runtime.preprocess;

/**
 * transformers.js's {@code RawImage.resize(w, h, {resample})} in Node, which resizes with sharp
 * (libvips 8.18), not Pillow: resample 2 (bilinear) and 3 (bicubic) are {@code sharp.affine},
 * resample 1 (lanczos) is {@code sharp.resize({fit: 'fill', kernel: 'lanczos3'})}.
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
            // TODO(libvips): lanczos3 vips_resize is approximated by Pillow's LANCZOS for now.
            default -> PilResize.resize(rgb, inW, inH, outW, outH, resample);
        };
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
