package dev.moonbatch.runtime.family;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.generate.Tensors;
import dev.moonbatch.runtime.preprocess.Idefics3Processor;
import dev.moonbatch.runtime.text.ChatTemplate;
import dev.moonbatch.runtime.text.SpecialTokens;
import dev.moonbatch.runtime.text.TextTokenizer;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SmolVLM 256M / 500M / 2.2B (Idefics3, e.g. HuggingFaceTB/SmolVLM-256M-Instruct's ONNX export):
 * the image is split into tiles plus a global view ({@link Idefics3Processor}); the bundle's chat
 * template builds the prompt; {@code vision_encoder} gives {@code image_seq_len} rows per tile, which
 * replace the {@code <image>} tokens. The three sizes differ only in their configs.
 */
public final class SmolVlm extends DecoderOnlyVlm {
    private final Idefics3Processor processor;
    private final ChatTemplate template;
    private final long imageToken;
    /** 64 MB of crop features (a 256M/500M crop is 64 x 576 or 64 x 960 floats; a 2.2B crop 81 x 2048). */
    private final CropFeatureCache cache = new CropFeatureCache(16L << 20);
    private final AtomicLong cropsSeen = new AtomicLong();
    private final AtomicLong cropsEncoded = new AtomicLong();

    /** SmolVLM's prepared image: its tiles and layout. */
    record Tiles(Idefics3Processor.Crops crops) implements PreparedImage {
    }

    /** Several photos of one product for one prompt: one image block each, each split as it would be alone. */
    record Photos(List<Idefics3Processor.Crops> photos) implements PreparedImage {
        Photos {
            photos = List.copyOf(photos);
        }
    }

    public SmolVlm(ModelBundle bundle, RuntimeOptions options) {
        super(bundle, options, TextTokenizer.load(bundle));
        this.processor = new Idefics3Processor(Idefics3Processor.Config.load(bundle.dir()).with(options.image()));
        this.template = ChatTemplate.load(bundle.dir());
        this.imageToken = SpecialTokens.read(bundle.require("tokenizer.json")).require(Idefics3Processor.IMAGE_TOKEN);
    }

    @Override
    public String family() {
        return "smolvlm";
    }

    @Override
    public PreparedImage prepare(BufferedImage image) {
        return new Tiles(processor.process(image));
    }

    /** Idefics3's chat template takes any number of images in one user turn, as transformers.js's processor does. */
    @Override
    public PreparedImage prepare(List<BufferedImage> images) {
        if (images.size() == 1) {
            return prepare(images.get(0));
        }
        return new Photos(images.stream().map(processor::process).toList());
    }

    @Override
    public boolean takesSeveralImages() {
        return true;
    }

    /** The photos' crops in prompt order: one image, or each photo of a product after the other. */
    private static List<Idefics3Processor.Crops> cropsOf(PreparedImage image) {
        return image instanceof Photos p ? p.photos() : List.of(((Tiles) image).crops());
    }

    @Override
    protected float[] encode(PreparedImage image) throws OrtException {
        List<Idefics3Processor.Crops> photos = cropsOf(image);
        if (photos.size() == 1) {
            return encodeTiles(photos.get(0));
        }
        List<float[]> each = new ArrayList<>();
        int total = 0;
        for (Idefics3Processor.Crops crops : photos) {
            float[] f = encodeTiles(crops);
            each.add(f);
            total += f.length;
        }
        float[] out = new float[total];
        int at = 0;
        for (float[] f : each) {
            System.arraycopy(f, 0, out, at, f.length);
            at += f.length;
        }
        return out;
    }

    /**
     * The image's feature rows, crop after crop. Crops whose pixels were encoded before (a flat
     * background tile, here or in an earlier image) come from {@link #cache}; the others are encoded
     * together in one call, each distinct crop once.
     */
    private float[] encodeTiles(Idefics3Processor.Crops crops) throws OrtException {
        int cropFloats = 3 * crops.tile() * crops.tile();
        float[][] features = new float[crops.crops()][];
        Map<String, List<Integer>> missing = new LinkedHashMap<>();
        for (int c = 0; c < crops.crops(); c++) {
            String key = CropFeatureCache.key(crops.pixels(), c * cropFloats, cropFloats);
            features[c] = cache.get(key);
            if (features[c] == null) {
                missing.computeIfAbsent(key, k -> new ArrayList<>()).add(c);
            }
        }
        cropsSeen.addAndGet(crops.crops());
        if (!missing.isEmpty()) {
            float[] pixels = new float[missing.size() * cropFloats];
            int u = 0;
            for (List<Integer> same : missing.values()) {
                System.arraycopy(crops.pixels(), same.get(0) * cropFloats, pixels, u++ * cropFloats, cropFloats);
            }
            float[] encoded = encodeCrops(new Idefics3Processor.Crops(pixels, u, 0, 0, crops.tile()));
            int perCrop = encoded.length / u;
            u = 0;
            for (Map.Entry<String, List<Integer>> e : missing.entrySet()) {
                float[] f = Arrays.copyOfRange(encoded, u * perCrop, ++u * perCrop);
                cache.put(e.getKey(), f);
                e.getValue().forEach(c -> features[c] = f);
            }
            cropsEncoded.addAndGet(u);
        }
        int perCrop = features[0].length;
        float[] out = new float[crops.crops() * perCrop];
        for (int c = 0; c < crops.crops(); c++) {
            System.arraycopy(features[c], 0, out, c * perCrop, perCrop);
        }
        return out;
    }

    /** Every crop through the vision encoder in one call, no cache: rows × hidden, flat. */
    float[] encodeCrops(Idefics3Processor.Crops crops) throws OrtException {
        Idefics3Processor.Batch batch = Idefics3Processor.batch(List.of(crops));
        boolean[] mask = batch.pixelAttentionMask();
        ByteBuffer maskBytes = ByteBuffer.allocateDirect(mask.length).order(ByteOrder.nativeOrder());
        for (boolean m : mask) {
            maskBytes.put((byte) (m ? 1 : 0));
        }
        maskBytes.flip();
        try (OnnxTensor pixels = pixelValues(FloatBuffer.wrap(batch.pixelValues()), batch.pixelValuesShape());
             OnnxTensor attention = OnnxTensor.createTensor(Tensors.env(), maskBytes, batch.pixelAttentionMaskShape(), OnnxJavaType.BOOL)) {
            return visionFeatures(Map.of("pixel_values", pixels, "pixel_attention_mask", attention));
        }
    }

    /** Crops of prepared images that reached {@link #encode} so far. */
    long cropsSeen() {
        return cropsSeen.get();
    }

    /** Crops that went through the vision encoder so far (the rest came from the cache or an equal crop). */
    long cropsEncoded() {
        return cropsEncoded.get();
    }

    @Override
    protected long[] promptIds(String question, PreparedImage image) {
        List<Idefics3Processor.Crops> photos = cropsOf(image);
        String prompt = template.renderUserImagesQuestion(photos.size(), question, true);
        return tokenizer.encode(processor.expandPrompt(prompt, photos), true);
    }

    @Override
    protected long imageTokenId() {
        return imageToken;
    }

}
