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
import java.util.List;
import java.util.Map;

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

    /** SmolVLM's prepared image: its tiles and layout. */
    record Tiles(Idefics3Processor.Crops crops) implements PreparedImage {
    }

    public SmolVlm(ModelBundle bundle, RuntimeOptions options) {
        super(bundle, options, TextTokenizer.load(bundle));
        this.processor = Idefics3Processor.load(bundle.dir());
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

    @Override
    protected float[] encode(PreparedImage image) throws OrtException {
        Idefics3Processor.Batch batch = Idefics3Processor.batch(List.of(((Tiles) image).crops()));
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

    @Override
    protected long[] promptIds(String question, PreparedImage image) {
        String prompt = template.renderUserImageQuestion(question, true);
        return tokenizer.encode(processor.expandPrompt(prompt, List.of(((Tiles) image).crops())), true);
    }

    @Override
    protected long imageTokenId() {
        return imageToken;
    }

}
