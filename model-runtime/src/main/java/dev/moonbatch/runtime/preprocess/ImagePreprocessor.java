package dev.moonbatch.runtime.preprocess;

import dev.moonbatch.runtime.bundle.PreprocessorConfig;

import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Image → pixel values as the bundle's {@code preprocessor_config.json} asks: RGB, resize with the
 * configured filter, rescale, normalize; channels first. Stateless and thread-safe.
 */
public final class ImagePreprocessor {
    /**
     * Whose resize to reproduce: Pillow's (Python transformers; antialiased) or sharp's
     * (transformers.js in Node; corner-aligned, no antialiasing). They differ by many levels on
     * downscales, enough to flip a small model's near-tie; each family picks the reference it is
     * checked against.
     */
    public enum Resizer {
        PILLOW, SHARP
    }

    private final PreprocessorConfig config;
    private final Resizer resizer;

    public ImagePreprocessor(PreprocessorConfig config) {
        this(config, Resizer.PILLOW);
    }

    public ImagePreprocessor(PreprocessorConfig config, Resizer resizer) {
        this.config = config;
        this.resizer = resizer;
    }

    public int width() {
        return config.width();
    }

    public int height() {
        return config.height();
    }

    /** Floats per image: 3 × height × width. */
    public int imageSize() {
        return 3 * config.width() * config.height();
    }

    /** One image as CHW floats. */
    public float[] pixelValues(BufferedImage image) {
        float[] out = new float[imageSize()];
        write(image, out, 0);
        return out;
    }

    /** A batch as one NCHW buffer, ready for an {@code OnnxTensor} of shape [n, 3, h, w]. */
    public FloatBuffer batch(List<float[]> images) {
        FloatBuffer buffer = FloatBuffer.allocate(images.size() * imageSize());
        images.forEach(buffer::put);
        return buffer.flip();
    }

    private void write(BufferedImage image, float[] out, int offset) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        int outW = w;
        int outH = h;
        if (config.doResize()) {
            outW = config.width();
            outH = config.height();
            rgb = resizer == Resizer.SHARP
                    ? SharpResize.resize(rgb, w, h, outW, outH, config.resample())
                    : PilResize.resize(rgb, w, h, outW, outH, config.resample());
        }
        if (outW != config.width() || outH != config.height()) {
            throw new IllegalStateException("preprocessor_config.json has do_resize=false but the image is "
                    + w + "x" + h + ", not " + config.width() + "x" + config.height());
        }
        int plane = outW * outH;
        float scale = config.doRescale() ? (float) config.rescaleFactor() : 1f;
        float[] mean = config.mean();
        float[] std = config.std();
        for (int i = 0; i < plane; i++) {
            int p = rgb[i];
            int[] channels = {(p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF};
            for (int c = 0; c < 3; c++) {
                float v = channels[c] * scale;
                if (config.doNormalize()) {
                    v = (v - mean[c]) / std[c];
                }
                out[offset + c * plane + i] = v;
            }
        }
    }
}
