package dev.moonbatch.runtime.bundle;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The parts of {@code preprocessor_config.json} that turn an image into pixel values, with the
 * defaults the Hugging Face image processors use when a key is absent.
 *
 * @param resample PIL resample code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic
 */
public record PreprocessorConfig(boolean doResize, int width, int height, int resample,
                                 boolean doRescale, double rescaleFactor,
                                 boolean doNormalize, float[] mean, float[] std,
                                 boolean doConvertRgb) {

    public static PreprocessorConfig from(JsonNode json, String fileName) {
        JsonNode size = json.path("size");
        int width;
        int height;
        if (size.has("width") && size.has("height")) {
            width = size.get("width").asInt();
            height = size.get("height").asInt();
        } else if (size.has("shortest_edge")) {
            width = height = size.get("shortest_edge").asInt();
        } else if (size.has("longest_edge")) {
            // Idefics3 / SmolVLM: the family's own processor reads the real resizing rules;
            // here it only stands for the square the longest edge fits in.
            width = height = size.get("longest_edge").asInt();
        } else if (size.isInt()) {
            width = height = size.asInt();
        } else {
            throw new BundleException("malformed " + fileName + ": 'size' must give width and height");
        }
        if (width <= 0 || height <= 0) {
            throw new BundleException("malformed " + fileName + ": 'size' must be positive, got " + width + "x" + height);
        }
        return new PreprocessorConfig(
                json.path("do_resize").asBoolean(true), width, height,
                json.path("resample").asInt(2),
                json.path("do_rescale").asBoolean(true), json.path("rescale_factor").asDouble(1 / 255.0),
                json.path("do_normalize").asBoolean(true),
                triple(json.path("image_mean"), 0.5f, fileName, "image_mean"),
                triple(json.path("image_std"), 0.5f, fileName, "image_std"),
                json.path("do_convert_rgb").asBoolean(true));
    }

    private static float[] triple(JsonNode node, float fallback, String fileName, String key) {
        if (node.isMissingNode() || node.isNull()) {
            return new float[] {fallback, fallback, fallback};
        }
        if (node.isNumber()) {
            float v = (float) node.asDouble();
            return new float[] {v, v, v};
        }
        if (!node.isArray() || node.size() != 3) {
            throw new BundleException("malformed " + fileName + ": '" + key + "' must be 3 numbers");
        }
        return new float[] {(float) node.get(0).asDouble(), (float) node.get(1).asDouble(), (float) node.get(2).asDouble()};
    }
}
