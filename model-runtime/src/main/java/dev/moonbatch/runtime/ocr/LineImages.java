package dev.moonbatch.runtime.ocr;

import dev.moonbatch.runtime.preprocess.SharpResize;

/**
 * Recognizer and direction-classifier inputs of line crops. The recognizer reads a line as
 * ocr-common feeds it: resized with sharp to {@value #HEIGHT} px high (width in proportion,
 * lanczos3), BGR / 255. Lines are batched by width bucket, a bucket being one exact width: PP-OCRv4's
 * SVTR neck mixes the whole line, so padding changes what it reads (padded to multiples of 32 px,
 * 7 of the agreement test's 45 lines read differently, spaces and letters; unpadded, none).
 */
public final class LineImages {
    public static final int HEIGHT = 48;
    /** PaddleOCR's classifier input: 48 × 192, (x / 255 − 0.5) / 0.5, zero-padded on the right. */
    static final int CLS_WIDTH = 192;

    private LineImages() {
    }

    /** A line resized for the recognizer: packed RGB, {@link #HEIGHT} high. */
    public record Resized(int[] rgb, int width) {
        /** The width bucket: lines of this width share a batch. */
        public int bucket() {
            return width;
        }
    }

    /** sharp {@code resize({height: 48})} of a crop: both axes scaled by 48 / h, the width as libvips rounds it. */
    public static Resized forRecognizer(LineCrop crop) {
        double scale = (double) HEIGHT / crop.height();
        if (crop.height() == HEIGHT) {
            return new Resized(crop.rgb().clone(), crop.width());
        }
        SharpResize.Sized sized = SharpResize.lanczos3(crop.rgb(), crop.width(), crop.height(),
                Math.max(scale, 1.0 / crop.width()), scale);
        if (sized.height() != HEIGHT) {
            throw new IllegalStateException("line resized to " + sized.height() + " px high, not " + HEIGHT);
        }
        return new Resized(sized.rgb(), sized.width());
    }

    /** Writes a line into row {@code row} of a [n, 3, 48, width] batch ({@code width} at least the line's; its last column repeats beyond). */
    public static void writeRecognizerRow(Resized line, int width, float[] batch, int row) {
        int plane = HEIGHT * width;
        int base = row * 3 * plane;
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < width; x++) {
                int p = line.rgb()[y * line.width() + Math.min(x, line.width() - 1)];
                int i = base + y * width + x;
                batch[i] = (p & 0xFF) / 255f;
                batch[i + plane] = ((p >> 8) & 0xFF) / 255f;
                batch[i + 2 * plane] = ((p >> 16) & 0xFF) / 255f;
            }
        }
    }

    /**
     * Writes a crop into row {@code row} of a [n, 3, 48, 192] classifier batch, as PaddleOCR's
     * {@code resize_norm_img} for the classifier: height 48, width in proportion up to 192
     * (ceil), bilinear, (x / 255 − 0.5) / 0.5, zeros beyond.
     */
    public static void writeClassifierRow(LineCrop crop, float[] batch, int row) {
        int w = (int) Math.min(CLS_WIDTH, Math.ceil(HEIGHT * (double) crop.width() / crop.height()));
        w = Math.max(1, w);
        int[] resized = SharpResize.resize(crop.rgb(), crop.width(), crop.height(), w, HEIGHT, 2);
        int plane = HEIGHT * CLS_WIDTH;
        int base = row * 3 * plane;
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < w; x++) {
                int p = resized[y * w + x];
                int i = base + y * CLS_WIDTH + x;
                batch[i] = ((p & 0xFF) / 255f - 0.5f) / 0.5f;
                batch[i + plane] = (((p >> 8) & 0xFF) / 255f - 0.5f) / 0.5f;
                batch[i + 2 * plane] = (((p >> 16) & 0xFF) / 255f - 0.5f) / 0.5f;
            }
        }
    }
}
