package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.preprocess.ImagePreprocessor;
import dev.moonbatch.runtime.text.SpecialTokens;
import dev.moonbatch.runtime.text.TextTokenizer;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * BLIP-2 OPT (e.g. Salesforce/blip2-opt-2.7b) in the three-file layout that
 * {@code tools/export/blip2_opt_to_onnx.py} writes (no public ONNX export exists): a 224×224
 * {@code vision_encoder} (ViT + Q-Former + projection) gives {@code num_query_tokens} rows, which
 * replace as many {@code <image>} tokens at the very start of the prompt, before the BOS token —
 * transformers' Blip2Processor puts them there. Questions are asked as
 * {@code Question: … Answer:}; a caption prompt ({@code a photo of}, or empty) is used as is.
 * <p>
 * Its {@code tokenizer_config.json} has {@code model_max_length} 1e30, which DJL cannot parse: the
 * tokenizer is loaded from a copy with that value clamped.
 */
public final class Blip2 extends FixedSizeVlm {
    private static final String IMAGE = "<image>";

    private final long imageToken;
    private final int queryTokens;

    public Blip2(ModelBundle bundle, RuntimeOptions options) {
        super(bundle, options, TextTokenizer.load(tokenizerCopy(bundle)), ImagePreprocessor.Resizer.PILLOW);
        this.queryTokens = bundle.config().path("num_query_tokens").asInt(32);
        long fromTokenizer = SpecialTokens.read(bundle.require("tokenizer.json")).require(IMAGE);
        this.imageToken = bundle.config().path("image_token_index").asLong(fromTokenizer);
        if (imageToken != fromTokenizer) {
            throw new BundleException("config.json has image_token_index " + imageToken + " but tokenizer.json has "
                    + IMAGE + " = " + fromTokenizer);
        }
        if (bundle.generation().bosTokenId() < 0) {
            throw new BundleException("generation_config.json lacks bos_token_id (BLIP-2 OPT prompts start with it)");
        }
    }

    /** The bundle's tokenizer files with {@code model_max_length} (1e30 in OPT's) clamped to what a Java long holds. */
    private static Path tokenizerCopy(ModelBundle bundle) {
        return TokenizerCopy.of(bundle, tokenizer -> { }, config -> {
            if (config.has("model_max_length") && !config.get("model_max_length").canConvertToLong()) {
                config.put("model_max_length", Integer.MAX_VALUE);
            }
        });
    }

    @Override
    public String family() {
        return "blip2";
    }

    /** The text after the image tokens: questions in BLIP-2's VQA form, caption prompts as they are. */
    static String promptText(Task task) {
        return Task.QUERY.equals(task.name()) ? "Question: " + task.prompt().strip() + " Answer:" : task.prompt();
    }

    @Override
    protected long[] promptIds(Task task, PreparedImage image) {
        return promptIds(promptText(task), image);
    }

    /** {@code <image>} × num_query_tokens, then the text with the tokenizer's BOS, as Blip2Processor builds it. */
    @Override
    protected long[] promptIds(String text, PreparedImage image) {
        long[] tokens = tokenizer.encode(text, true);
        if (tokens.length == 0 || tokens[0] != bundle.generation().bosTokenId()) {
            long[] withBos = new long[tokens.length + 1];
            withBos[0] = bundle.generation().bosTokenId();
            System.arraycopy(tokens, 0, withBos, 1, tokens.length);
            tokens = withBos;
        }
        long[] ids = new long[queryTokens + tokens.length];
        Arrays.fill(ids, 0, queryTokens, imageToken);
        System.arraycopy(tokens, 0, ids, queryTokens, tokens.length);
        return ids;
    }

    @Override
    protected long imageTokenId() {
        return imageToken;
    }
}
