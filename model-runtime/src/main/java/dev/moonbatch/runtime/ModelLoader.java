package dev.moonbatch.runtime;

import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.family.VitGpt2;

import java.nio.file.Path;

/** Opens a bundle and picks its family from {@code config.json}'s {@code model_type}. */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static VisionLanguageModel load(Path dir, RuntimeOptions options) {
        ModelBundle bundle = ModelBundle.open(dir);
        return switch (bundle.modelType()) {
            case "vision-encoder-decoder" -> new VitGpt2(bundle, options);
            default -> throw new BundleException("--model: config.json has model_type '" + bundle.modelType()
                    + "', which moonbatch does not support; supported: vision-encoder-decoder (vit-gpt2)");
        };
    }
}
