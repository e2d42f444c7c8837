package dev.moonbatch.runtime.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.Json;

import java.awt.image.BufferedImage;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The SmolVLM / Idefics3 processor, pre-processing half, exactly as transformers.js 4.3.1's
 * {@code Idefics3ImageProcessor} + {@code Idefics3Processor} do it (read from
 * {@code src/models/idefics3/} and {@code src/image_processors_utils.js}, checked against it by
 * {@code Idefics3ProcessorAgreementTest}). Every number comes from the bundle's configs, so
 * SmolVLM-256M/500M (512-pixel tiles, 64 tokens each) and SmolVLM-2.2B (384, 81) need nothing else.
 *
 * <p>Per image:
 * <ol>
 *   <li>RGB; resize so that the longest edge is {@code size.longest_edge} keeping the aspect ratio
 *       (upscaling small images too), each side {@code floor(Number((side*f).toFixed(2)))} but at
 *       least 1 (see {@link #resizeOutputSize}), with {@code resample} (1 = sharp's lanczos3, see
 *       {@link SharpResize}) on 8-bit pixels;</li>
 *   <li>rescale and normalize to float32 (each step computed in double, stored as float32);</li>
 *   <li>with {@code do_image_splitting}: bilinearly resize the <em>floats</em> (ONNX Resize,
 *       linear, half_pixel, no antialias — {@link #resizeBilinear}) up to multiples of the tile size
 *       {@code max_image_size.longest_edge}, cut rows × cols tiles, and add the whole image resized
 *       to tile × tile as a last "global" crop (only when the image is more than one tile);
 *       without splitting: one crop, the image resized to tile × tile, rows = cols = 0.</li>
 * </ol>
 * The prompt: each {@code <image>} of the rendered chat template is replaced by
 * {@link #imagePromptString(int, int)}. A batch is padded to its largest crop count with zero
 * crops whose {@code pixel_attention_mask} is false ({@link #batch}).
 *
 * <p>Immutable and thread-safe.
 */
public final class Idefics3Processor {
    public static final String IMAGE_TOKEN = "<image>";
    public static final String FAKE_TOKEN_AROUND_IMAGE = "<fake_token_around_image>";
    public static final String GLOBAL_IMAGE_TOKEN = "<global-img>";

    /**
     * What the processor needs from {@code preprocessor_config.json} and {@code processor_config.json}.
     *
     * @param longestEdge    {@code size.longest_edge} (2048 for SmolVLM-256M), or 0 with {@code doResize} false
     * @param shortestEdge   {@code size.shortest_edge}, 0 when absent (SmolVLM has none)
     * @param tileSize       {@code max_image_size.longest_edge} (512, or 384 for SmolVLM-2.2B)
     * @param imageSeqLen    {@code <image>} tokens per crop ({@code processor_config.json image_seq_len})
     */
    public record Config(boolean doConvertRgb, boolean doResize, int longestEdge, int shortestEdge, int resample,
                         boolean doRescale, double rescaleFactor, boolean doNormalize, double[] mean, double[] std,
                         boolean doImageSplitting, int tileSize, int imageSeqLen) {

        /** Reads the configs of a bundle folder. */
        public static Config load(Path dir) {
            JsonNode pre = Json.read(dir.resolve("preprocessor_config.json"));
            Path processorFile = dir.resolve("processor_config.json");
            JsonNode processor = Files.isRegularFile(processorFile) ? Json.read(processorFile) : null;
            Path configFile = dir.resolve("config.json");
            JsonNode config = Files.isRegularFile(configFile) ? Json.read(configFile) : null;
            return from(pre, processor, config);
        }

        /**
         * @param processor {@code processor_config.json} (may be null)
         * @param config    {@code config.json} (may be null), only used when {@code image_seq_len} is absent
         */
        public static Config from(JsonNode pre, JsonNode processor, JsonNode config) {
            JsonNode size = pre.path("size");
            int longest = size.path("longest_edge").asInt(0);
            int shortest = size.path("shortest_edge").asInt(0);
            boolean doResize = pre.path("do_resize").asBoolean(!size.isMissingNode());
            if (doResize && longest <= 0 && shortest <= 0) {
                throw new BundleException("malformed preprocessor_config.json: Idefics3 needs size.longest_edge");
            }
            int tile = pre.path("max_image_size").path("longest_edge").asInt(0);
            if (tile <= 0) {
                throw new BundleException("malformed preprocessor_config.json: Idefics3 needs max_image_size.longest_edge");
            }
            int seqLen = processor == null ? 0 : processor.path("image_seq_len").asInt(0);
            if (seqLen <= 0 && config != null) {
                // Python transformers' fallback: (image_size / patch_size)^2 / scale_factor^2.
                // transformers.js reads processor_config.json only.
                JsonNode vision = config.path("vision_config");
                int imageSize = vision.path("image_size").asInt(0);
                int patch = vision.path("patch_size").asInt(0);
                int scale = config.path("scale_factor").asInt(0);
                if (imageSize > 0 && patch > 0 && scale > 0) {
                    seqLen = (imageSize / patch) * (imageSize / patch) / (scale * scale);
                }
            }
            if (seqLen <= 0) {
                throw new BundleException("malformed processor_config.json: Idefics3 needs image_seq_len");
            }
            return new Config(
                    pre.path("do_convert_rgb").asBoolean(true), doResize, longest, shortest,
                    pre.path("resample").asInt(2),
                    pre.path("do_rescale").asBoolean(true), pre.path("rescale_factor").asDouble(1 / 255.0),
                    pre.path("do_normalize").asBoolean(false),
                    triple(pre.path("image_mean")), triple(pre.path("image_std")),
                    pre.path("do_image_splitting").asBoolean(true), tile, seqLen);
        }

        /**
         * This config with the command line's changes: {@code do_image_splitting} and
         * {@code size.longest_edge} (which must be a multiple of the tile size, as the processor cuts
         * the resized image into whole tiles).
         */
        public Config with(dev.moonbatch.runtime.ImageOptions image) {
            int longest = longestEdge;
            if (image.longestEdge() > 0) {
                if (image.longestEdge() % tileSize != 0) {
                    throw new BundleException("--image-longest-edge: expected a multiple of the model's tile size "
                            + tileSize + " (max_image_size.longest_edge) but got " + image.longestEdge());
                }
                longest = image.longestEdge();
            }
            boolean splitting = image.splitting() != null ? image.splitting() : doImageSplitting;
            return new Config(doConvertRgb, doResize || image.longestEdge() > 0, longest, image.longestEdge() > 0 ? 0 : shortestEdge,
                    resample, doRescale, rescaleFactor, doNormalize, mean, std, splitting, tileSize, imageSeqLen);
        }

        private static double[] triple(JsonNode node) {
            if (node.isNumber()) {
                return new double[] {node.asDouble(), node.asDouble(), node.asDouble()};
            }
            if (node.isArray() && node.size() == 3) {
                return new double[] {node.get(0).asDouble(), node.get(1).asDouble(), node.get(2).asDouble()};
            }
            return new double[] {0.5, 0.5, 0.5};
        }
    }

    /**
     * One image's crops: {@code pixels} is [crops, 3, tile, tile] float32, tiles row-major then the
     * global image last. rows = cols = 0 means a single crop (no splitting, or an image of exactly one tile).
     */
    public record Crops(float[] pixels, int crops, int rows, int cols, int tile) {
    }

    /**
     * A batch ready for the vision encoder: {@code pixelValues} [batch, maxCrops, 3, tile, tile],
     * {@code pixelAttentionMask} [batch, maxCrops, tile, tile] (true on real crops, false on padding).
     */
    public record Batch(float[] pixelValues, boolean[] pixelAttentionMask, int batch, int maxCrops, int tile) {
        public long[] pixelValuesShape() {
            return new long[] {batch, maxCrops, 3, tile, tile};
        }

        public long[] pixelAttentionMaskShape() {
            return new long[] {batch, maxCrops, tile, tile};
        }
    }

    private final Config config;

    public Idefics3Processor(Config config) {
        this.config = config;
    }

    public static Idefics3Processor load(Path bundleDir) {
        return new Idefics3Processor(Config.load(bundleDir));
    }

    public Config config() {
        return config;
    }

    // ---------------------------------------------------------------- image

    /** {width, height} that step 1 resizes a {@code width x height} image to (each at least 1). */
    public int[] resizedSize(int width, int height) {
        return config.doResize()
                ? resizeOutputSize(width, height, config.shortestEdge(), config.longestEdge())
                : new int[] {width, height};
    }

    /** The image's crops; see the class comment for the steps. */
    public Crops process(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        if (config.doResize()) {
            int[] size = resizedSize(w, h);
            if (size[0] != w || size[1] != h) {
                rgb = SharpResize.resize(rgb, w, h, size[0], size[1], config.resample());
                w = size[0];
                h = size[1];
            }
        }
        float[] chw = toFloats(rgb, w, h);
        int tile = config.tileSize();
        if (!config.doImageSplitting()) {
            return new Crops(resizeBilinear(chw, 3, h, w, tile, tile), 1, 0, 0, tile);
        }
        int[] target = resizeForVisionEncoder(h, w, tile);
        int th = target[0];
        int tw = target[1];
        float[] resized = resizeBilinear(chw, 3, h, w, th, tw);
        if (th <= tile && tw <= tile) {
            return new Crops(resized, 1, 0, 0, tile);
        }
        int rows = ceilDiv(th, tile);
        int cols = ceilDiv(tw, tile);
        int optimalH = ceilDiv(th, rows);
        int optimalW = ceilDiv(tw, cols);
        // transformers.js concatenates tiles of optimal_height x optimal_width; they are tile x tile
        // because th, tw are multiples of the tile size.
        if (optimalH != tile || optimalW != tile) {
            throw new IllegalStateException("tile " + optimalW + "x" + optimalH + " is not " + tile);
        }
        int crops = rows * cols + 1;
        int plane = tile * tile;
        float[] out = new float[crops * 3 * plane];
        int k = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int y0 = r == rows - 1 ? th - optimalH : r * optimalH;
                int x0 = c == cols - 1 ? tw - optimalW : c * optimalW;
                for (int ch = 0; ch < 3; ch++) {
                    for (int y = 0; y < tile; y++) {
                        System.arraycopy(resized, (ch * th + y0 + y) * tw + x0, out, (k * 3 + ch) * plane + y * tile, tile);
                    }
                }
                k++;
            }
        }
        float[] global = resizeBilinear(resized, 3, th, tw, tile, tile);
        System.arraycopy(global, 0, out, k * 3 * plane, 3 * plane);
        return new Crops(out, crops, rows, cols, tile);
    }

    /** Pads the images' crops to the largest count (zero crops, mask false) as transformers.js does. */
    public static Batch batch(List<Crops> images) {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images");
        }
        int tile = images.get(0).tile();
        int maxCrops = images.stream().mapToInt(Crops::crops).max().orElseThrow();
        int plane = tile * tile;
        float[] pixels = new float[images.size() * maxCrops * 3 * plane];
        boolean[] mask = new boolean[images.size() * maxCrops * plane];
        for (int i = 0; i < images.size(); i++) {
            Crops c = images.get(i);
            if (c.tile() != tile) {
                throw new IllegalArgumentException("mixed tile sizes in one batch");
            }
            System.arraycopy(c.pixels(), 0, pixels, i * maxCrops * 3 * plane, c.crops() * 3 * plane);
            Arrays.fill(mask, i * maxCrops * plane, (i * maxCrops + c.crops()) * plane, true);
        }
        return new Batch(pixels, mask, images.size(), maxCrops, tile);
    }

    // ---------------------------------------------------------------- prompt

    /** What one {@code <image>} becomes in the prompt, exactly transformers.js's {@code get_image_prompt_string}. */
    public String imagePromptString(int rows, int cols) {
        String images = IMAGE_TOKEN.repeat(config.imageSeqLen());
        StringBuilder s = new StringBuilder();
        if (rows == 0 && cols == 0) {
            return s.append(FAKE_TOKEN_AROUND_IMAGE).append(GLOBAL_IMAGE_TOKEN).append(images)
                    .append(FAKE_TOKEN_AROUND_IMAGE).toString();
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                s.append(FAKE_TOKEN_AROUND_IMAGE).append("<row_").append(r + 1).append("_col_").append(c + 1)
                        .append('>').append(images);
            }
            s.append('\n');
        }
        return s.append('\n').append(FAKE_TOKEN_AROUND_IMAGE).append(GLOBAL_IMAGE_TOKEN).append(images)
                .append(FAKE_TOKEN_AROUND_IMAGE).toString();
    }

    /**
     * Replaces the i-th {@code <image>} of a rendered prompt by the i-th image's prompt string
     * (transformers.js: {@code text.split('<image>')}, then interleave).
     */
    public String expandPrompt(String prompt, List<Crops> images) {
        String[] parts = prompt.split(java.util.regex.Pattern.quote(IMAGE_TOKEN), -1);
        if (parts.length - 1 != images.size()) {
            throw new IllegalArgumentException("prompt has " + (parts.length - 1) + " " + IMAGE_TOKEN
                    + " but " + images.size() + " image(s) were given");
        }
        StringBuilder s = new StringBuilder(parts[0]);
        for (int i = 0; i < images.size(); i++) {
            s.append(imagePromptString(images.get(i).rows(), images.get(i).cols())).append(parts[i + 1]);
        }
        return s.toString();
    }

    // ---------------------------------------------------------------- the steps

    /**
     * {@code ImageProcessor.get_resize_output_image_size} for a {@code {shortest_edge?, longest_edge?}}
     * size: returns {width, height}. Note: it upscales images smaller than {@code longest_edge}.
     * <p>
     * Each side is at least 1. Past about {@code longest_edge}:1 (a 6000x1 strip, 12x6000 with a
     * 128 longest edge) the short side floors to 0: transformers.js 4.3.1 then hands sharp a
     * 0-pixel side and throws ("Expected positive integer ... for height but received 0"); Python
     * transformers' Idefics3 clamps it ({@code _resize_output_size_rescale_to_max_len}, {@code min_len=1}),
     * and so do we.
     */
    static int[] resizeOutputSize(int srcW, int srcH, int shortestEdge, int longestEdge) {
        double shortFactor = shortestEdge <= 0 ? 1 : Math.max((double) shortestEdge / srcW, (double) shortestEdge / srcH);
        double newW = srcW * shortFactor;
        double newH = srcH * shortFactor;
        double longFactor = longestEdge <= 0 ? 1 : Math.min(longestEdge / newW, longestEdge / newH);
        return new int[] {Math.max(1, floorToFixed2(newW * longFactor)), Math.max(1, floorToFixed2(newH * longFactor))};
    }

    /** {@code Math.floor(Number(x.toFixed(2)))} for x ≥ 0 (toFixed rounds the exact binary value half up). */
    static int floorToFixed2(double x) {
        return new BigDecimal(x).setScale(2, RoundingMode.HALF_UP).setScale(0, RoundingMode.FLOOR).intValueExact();
    }

    /**
     * {@code get_resize_for_vision_encoder}: {height, width}, multiples of the tile size, at least one
     * tile each. transformers.js floors the scaled short side before rounding it up to tiles; for a
     * 1-pixel side that floor can land on 0 ({@code 25088 * (1.0 / 25088) < 1} in doubles) and its
     * tiling then divides by zero, so the floor is clamped to 1 (where it is not 0, the same result).
     */
    static int[] resizeForVisionEncoder(int height, int width, int tile) {
        double aspect = (double) width / height;
        int h;
        int w;
        if (width >= height) {
            w = ceilDiv(width, tile) * tile;
            h = Math.max(1, (int) Math.floor(w / aspect));
            h = (int) Math.ceil((double) h / tile) * tile;
        } else {
            h = ceilDiv(height, tile) * tile;
            w = Math.max(1, (int) Math.floor(h * aspect));
            w = (int) Math.ceil((double) w / tile) * tile;
        }
        return new int[] {h, w};
    }

    /** 8-bit RGB → CHW float32: {@code float32(rescale * v)}, then {@code float32((x - mean) / std)}, in double. */
    private float[] toFloats(int[] rgb, int w, int h) {
        int plane = w * h;
        float[] out = new float[3 * plane];
        double[] mean = config.mean();
        double[] std = config.std();
        for (int i = 0; i < plane; i++) {
            int p = rgb[i];
            for (int c = 0; c < 3; c++) {
                float v = (p >> (16 - 8 * c)) & 0xFF;
                if (config.doRescale()) {
                    v = (float) (config.rescaleFactor() * v);
                }
                if (config.doNormalize()) {
                    v = (float) ((v - mean[c]) / std[c]);
                }
                out[c * plane + i] = v;
            }
        }
        return out;
    }

    /**
     * transformers.js {@code interpolate_4d(x, {size, mode: 'bilinear'})}: an ONNX {@code Resize}
     * (mode linear, coordinate_transformation_mode half_pixel, no antialias) run by ONNX Runtime's
     * CPU kernel, reproduced here in float32 arithmetic: scale = float(out)/float(in),
     * src = (dst + 0.5) / scale - 0.5 clamped to [0, in-1], weights |src - i1|, |src - i2|
     * (0.5 each at the border), out = dx2*dy2*x11 + dx1*dy2*x21 + dx2*dy1*x12 + dx1*dy1*x22.
     */
    static float[] resizeBilinear(float[] in, int channels, int inH, int inW, int outH, int outW) {
        int[] y1 = new int[outH];
        int[] y2 = new int[outH];
        float[] dy1 = new float[outH];
        float[] dy2 = new float[outH];
        coordinates(inH, outH, y1, y2, dy1, dy2);
        int[] x1 = new int[outW];
        int[] x2 = new int[outW];
        float[] dx1 = new float[outW];
        float[] dx2 = new float[outW];
        coordinates(inW, outW, x1, x2, dx1, dx2);
        float[] out = new float[channels * outH * outW];
        for (int c = 0; c < channels; c++) {
            int inBase = c * inH * inW;
            int outBase = c * outH * outW;
            for (int y = 0; y < outH; y++) {
                int r1 = inBase + y1[y] * inW;
                int r2 = inBase + y2[y] * inW;
                float a = dy1[y];
                float b = dy2[y];
                int o = outBase + y * outW;
                for (int x = 0; x < outW; x++) {
                    float x11 = in[r1 + x1[x]];
                    float x21 = in[r1 + x2[x]];
                    float x12 = in[r2 + x1[x]];
                    float x22 = in[r2 + x2[x]];
                    out[o + x] = dx2[x] * b * x11 + dx1[x] * b * x21 + dx2[x] * a * x12 + dx1[x] * a * x22;
                }
            }
        }
        return out;
    }

    private static void coordinates(int in, int out, int[] i1, int[] i2, float[] d1, float[] d2) {
        float scale = (float) out / (float) in;
        for (int o = 0; o < out; o++) {
            float src = scale == 1f ? (float) o : ((float) o + 0.5f) / scale - 0.5f;
            src = Math.max(0f, Math.min(src, (float) (in - 1)));
            int a = Math.min((int) src, in - 1);
            int b = Math.min(a + 1, in - 1);
            i1[o] = a;
            i2[o] = b;
            if (a == b) {
                d1[o] = 0.5f;
                d2[o] = 0.5f;
            } else {
                d1[o] = Math.abs(src - a);
                d2[o] = Math.abs(src - b);
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
