package dev.moonbatch.runtime.family;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.Json;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.preprocess.ImagePreprocessor;
import dev.moonbatch.runtime.text.TextTokenizer;

import java.nio.file.Path;

/**
 * moondream2 in the transformers.js layout of its 2024 Phi revision: a 378×378 SigLIP-style
 * {@code vision_encoder} gives a fixed number of feature rows; the prompt is
 * {@code <image>\n\nQuestion: …\n\nAnswer:} with one image position per row, after the BOS token.
 * <p>
 * Its {@code tokenizer.json} gives {@code <image>} the id -200, which the Rust tokenizer refuses
 * (and, stripped naively, crashes on): we load a sanitized copy without that token and without the
 * post-processor, add BOS ourselves and put the image positions in by hand.
 * <p>
 * Images are resized as transformers.js does it in Node (sharp's bicubic affine), the reference
 * this family is checked against token for token.
 */
public final class Moondream2 extends FixedSizeVlm {
    private static final String IMAGE = "<image>";

    private final long imageToken;
    private final long bos;
    private final int featureRows;

    public Moondream2(ModelBundle bundle, RuntimeOptions options) {
        super(bundle, options, TextTokenizer.load(sanitizedTokenizer(bundle)), ImagePreprocessor.Resizer.SHARP);
        this.imageToken = bundle.config().path("image_token_index").asLong(-200);
        this.bos = bundle.generation().bosTokenId();
        try {
            long[] shape = ((TensorInfo) vision.getOutputInfo().values().iterator().next().getInfo()).getShape();
            this.featureRows = (int) shape[1];
        } catch (OrtException e) {
            throw new BundleException("cannot read the outputs of onnx/vision_encoder: " + e.getMessage(), e);
        }
        if (featureRows <= 0) {
            throw new BundleException("onnx/vision_encoder must give a fixed number of feature rows, got " + featureRows);
        }
    }

    /** A copy of the bundle's tokenizer files without the -200 {@code <image>} token and without post-processing. */
    private static Path sanitizedTokenizer(ModelBundle bundle) {
        return TokenizerCopy.of(bundle, tokenizer -> {
            ArrayNode kept = Json.mapper().createArrayNode();
            tokenizer.path("added_tokens").forEach(t -> {
                if (t.path("id").asLong() >= 0) {
                    kept.add(t);
                }
            });
            tokenizer.set("added_tokens", kept);
            tokenizer.putNull("post_processor");
        }, config -> config.remove("added_tokens_decoder"));
    }

    @Override
    public String family() {
        return "moondream2";
    }

    @Override
    protected long[] promptIds(String question, PreparedImage image) {
        long[] text = tokenizer.encode("\n\nQuestion: " + question + "\n\nAnswer:", false);
        long[] ids = new long[1 + featureRows + text.length];
        ids[0] = bos;
        java.util.Arrays.fill(ids, 1, 1 + featureRows, imageToken);
        System.arraycopy(text, 0, ids, 1 + featureRows, text.length);
        return ids;
    }

    @Override
    protected long imageTokenId() {
        return imageToken;
    }

}
