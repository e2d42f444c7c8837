package dev.moonbatch.runtime.ocr;

/** Packed RGB pixels → the BGR planes, scaled to [0, 1], that PP-OCR's models read as ocr-node feeds them. */
final class Planes {
    private Planes() {
    }

    static float[] bgr(int[] rgb, int width, int height) {
        int n = width * height;
        float[] out = new float[3 * n];
        for (int i = 0; i < n; i++) {
            int p = rgb[i];
            out[i] = (p & 0xFF) / 255f;
            out[n + i] = ((p >> 8) & 0xFF) / 255f;
            out[2 * n + i] = ((p >> 16) & 0xFF) / 255f;
        }
        return out;
    }
}
