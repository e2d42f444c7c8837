package dev.moonbatch.runtime.family;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.preprocess.ImagePreprocessor;
import dev.moonbatch.runtime.text.TextTokenizer;

import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A decoder-only family whose vision encoder takes one fixed-size image ({@code pixel_values}
 * [1, 3, h, w] from the bundle's preprocessor config) and nothing else: moondream2 and BLIP-2.
 * SmolVLM, with its tiles and pixel mask, prepares images its own way.
 */
abstract class FixedSizeVlm extends DecoderOnlyVlm {
    private final ImagePreprocessor preprocessor;

    /** The prepared image: CHW pixel values. */
    record Pixels(float[] values) implements PreparedImage {
    }

    /** Whether {@code pixel_values}' first dimension is free, so a batch of images is one encoder call. */
    private final boolean batchable;

    FixedSizeVlm(ModelBundle bundle, RuntimeOptions options, TextTokenizer tokenizer, ImagePreprocessor.Resizer resizer) {
        super(bundle, options, tokenizer);
        this.preprocessor = new ImagePreprocessor(bundle.preprocessor(), resizer);
        this.batchable = firstDimensionFree(vision, "pixel_values");
    }

    private static boolean firstDimensionFree(ai.onnxruntime.OrtSession session, String input) {
        try {
            var info = session.getInputInfo().get(input);
            return info != null && info.getInfo() instanceof ai.onnxruntime.TensorInfo t
                    && t.getShape().length > 0 && t.getShape()[0] < 0;
        } catch (OrtException e) {
            return false;
        }
    }

    @Override
    public PreparedImage prepare(BufferedImage image) {
        return new Pixels(preprocessor.pixelValues(image));
    }

    @Override
    protected float[] encode(PreparedImage image) throws OrtException {
        try (OnnxTensor pixels = pixelValues(FloatBuffer.wrap(((Pixels) image).values()), 1, 3,
                preprocessor.height(), preprocessor.width())) {
            return visionFeatures(Map.of("pixel_values", pixels));
        }
    }

    /** The images stacked into one {@code pixel_values} [n, 3, h, w]: one encoder call for a batch. */
    @Override
    protected List<float[]> encodeBatch(List<PreparedImage> images) throws OrtException {
        if (images.size() == 1 || !batchable) {
            return super.encodeBatch(images);
        }
        int plane = 3 * preprocessor.height() * preprocessor.width();
        FloatBuffer stacked = FloatBuffer.allocate(plane * images.size());
        for (PreparedImage image : images) {
            stacked.put(((Pixels) image).values());
        }
        stacked.flip();
        float[] all;
        try (OnnxTensor pixels = pixelValues(stacked, images.size(), 3, preprocessor.height(), preprocessor.width())) {
            all = visionFeatures(Map.of("pixel_values", pixels));
        }
        int each = all.length / images.size();
        List<float[]> out = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            out.add(Arrays.copyOfRange(all, i * each, (i + 1) * each));
        }
        return out;
    }
}
