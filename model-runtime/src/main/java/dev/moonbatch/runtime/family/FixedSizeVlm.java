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

    FixedSizeVlm(ModelBundle bundle, RuntimeOptions options, TextTokenizer tokenizer, ImagePreprocessor.Resizer resizer) {
        super(bundle, options, tokenizer);
        this.preprocessor = new ImagePreprocessor(bundle.preprocessor(), resizer);
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
}
