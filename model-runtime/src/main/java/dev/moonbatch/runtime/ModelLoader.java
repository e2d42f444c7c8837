package dev.moonbatch.runtime;

import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.family.VitGpt2;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/** Opens a bundle and picks its family from {@code config.json}'s {@code model_type}. */
public final class ModelLoader {
    /** A family: the ONNX components its bundle must have and how to build it. */
    private record Family(String label, List<String> components,
                          BiFunction<ModelBundle, RuntimeOptions, VisionLanguageModel> factory) {
    }

    private static final Map<String, Family> FAMILIES = Map.of(
            "vision-encoder-decoder", new Family("vit-gpt2", VitGpt2.COMPONENTS, VitGpt2::new));

    private ModelLoader() {
    }

    /**
     * Checks, without loading weights, that the folder is a bundle of a known family with every
     * file that family needs in the wanted precision. Cheap enough for the driver to run up front.
     */
    public static ModelBundle validate(Path dir, RuntimeOptions options) {
        ModelBundle bundle = ModelBundle.open(dir);
        family(bundle).components().forEach(c -> bundle.onnx(c, options.precision()));
        return bundle;
    }

    public static VisionLanguageModel load(Path dir, RuntimeOptions options) {
        ModelBundle bundle = validate(dir, options);
        return family(bundle).factory().apply(bundle, options);
    }

    private static Family family(ModelBundle bundle) {
        Family family = FAMILIES.get(bundle.modelType());
        if (family == null) {
            throw new BundleException("--model: config.json has model_type '" + bundle.modelType()
                    + "', which moonbatch does not support; supported: " + FAMILIES.keySet());
        }
        return family;
    }
}
