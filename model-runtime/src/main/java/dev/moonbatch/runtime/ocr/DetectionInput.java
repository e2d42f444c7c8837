package dev.moonbatch.runtime.ocr;

import dev.moonbatch.runtime.preprocess.SharpResize;

/**
 * The DBNet detector's input for one image, as @gutenye/ocr-node builds it: the image resized with
 * sharp's {@code fit: contain} (lanczos3, aspect kept) into the next multiples of 32 of its size,
 * centred on black, channels in PaddleOCR's BGR order scaled to [0, 1] (ocr-node applies no mean or
 * std). Unlike ocr-node, the longer side is first brought down to {@link #MAX_SIDE}: without a limit
 * a 12,000-pixel scan would need a probability map of that size.
 *
 * @param canvas packed 0xRRGGBB pixels of the {@code width × height} detector input
 * @param resizedWidth  width of the image inside the canvas (it sits at {@code left, top})
 * @param resizedHeight height of the image inside the canvas
 */
public record DetectionInput(int[] canvas, int width, int height, int left, int top, int resizedWidth,
                             int resizedHeight, int imageWidth, int imageHeight) {
    /** The detector sees at most this many pixels along the longer side. */
    public static final int MAX_SIDE = 2048;
    private static final int BASE = 32;

    /** The input for a packed RGB image of {@code w × h}. */
    public static DetectionInput of(int[] rgb, int w, int h) {
        double sw = w;
        double sh = h;
        if (Math.max(w, h) > MAX_SIDE) {
            double ratio = (double) MAX_SIDE / Math.max(w, h);
            sw = w * ratio;
            sh = h * ratio;
        }
        int width = Math.max((int) Math.ceil(sw / BASE) * BASE, BASE);
        int height = Math.max((int) Math.ceil(sh / BASE) * BASE, BASE);
        // sharp's contain: one shrink factor for both axes, the larger of the two
        double shrink = Math.max((double) w / width, (double) h / height);
        SharpResize.Sized sized = shrink == 1.0 ? new SharpResize.Sized(rgb, w, h)
                : SharpResize.lanczos3(rgb, w, h, Math.max(1 / shrink, 1.0 / w), Math.max(1 / shrink, 1.0 / h));
        int[] resized = sized.rgb();
        int sw0 = sized.width();
        int rw = Math.min(width, sw0);
        int rh = Math.min(height, sized.height());
        int left = (width - rw) / 2;
        int top = (height - rh) / 2;
        int[] canvas = new int[width * height];
        for (int y = 0; y < rh; y++) {
            System.arraycopy(resized, y * sw0, canvas, (y + top) * width + left, rw);
        }
        return new DetectionInput(canvas, width, height, left, top, rw, rh, w, h);
    }

    /** Whether the image was shrunk to fit {@link #MAX_SIDE} (its text has fewer pixels on the canvas than in the image). */
    public boolean downscaled() {
        return Math.max(imageWidth, imageHeight) > MAX_SIDE;
    }

    /** The canvas as a [3, height, width] tensor body: B, G, R planes, values / 255. */
    public float[] chw() {
        return Planes.bgr(canvas, width, height);
    }

    /** x in the canvas → x in pixels of the original image. */
    public double imageX(double x) {
        return (x - left) * imageWidth / resizedWidth;
    }

    /** y in the canvas → y in pixels of the original image. */
    public double imageY(double y) {
        return (y - top) * imageHeight / resizedHeight;
    }
}
