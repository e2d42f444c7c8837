package dev.moonbatch.runtime.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.ModelBundle;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bundle's {@code tokenizer.json} through DJL's Rust tokenizers binding. One instance is
 * shared by all tasks of an executor (the native tokenizer is thread-safe).
 */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;

    private TextTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public static TextTokenizer load(ModelBundle bundle) {
        return load(bundle.dir());
    }

    /** The tokenizer of a bundle folder ({@code tokenizer.json}, {@code tokenizer_config.json} when present). */
    public static TextTokenizer load(Path dir) {
        // DJL's first tokenizer in a JVM otherwise phones home; moonbatch never touches the network.
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        Path json = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new BundleException("model bundle lacks tokenizer.json (looked for " + json + ")");
        }
        Path config = dir.resolve("tokenizer_config.json");
        try {
            HuggingFaceTokenizer.Builder builder = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(json)
                    .optAddSpecialTokens(false)
                    // The default truncates at 512 tokens and vit-gpt2's tokenizer.json truncates at 32.
                    .optTruncation(false)
                    .optPadding(false);
            if (Files.isRegularFile(config)) {
                builder.optTokenizerConfigPath(config.toString());
            }
            return new TextTokenizer(builder.build());
        } catch (Exception | UnsatisfiedLinkError e) {
            throw new BundleException("cannot load tokenizer.json of " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Token ids of a text, without special tokens added. */
    public long[] encode(String text) {
        return tokenizer.encode(text, false, false).getIds();
    }

    /**
     * Token ids of a text; with {@code addSpecialTokens} the tokenizer's post-processor adds what
     * it adds (BOS, …), as transformers.js's {@code tokenizer(text)} does by default.
     */
    public long[] encode(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false).getIds();
    }

    /** Text of generated ids, special tokens (EOS, padding) left out. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    /**
     * Text of generated ids, special tokens kept when {@code skipSpecialTokens} is false (a family
     * whose processor strips only some of them itself, as Florence-2's does with {@code <s>}/{@code </s>}).
     */
    public String decode(long[] ids, boolean skipSpecialTokens) {
        return tokenizer.decode(ids, skipSpecialTokens);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
