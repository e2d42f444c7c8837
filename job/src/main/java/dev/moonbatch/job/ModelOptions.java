package dev.moonbatch.job;

import dev.moonbatch.runtime.Device;
import dev.moonbatch.runtime.ImageOptions;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.OrtSessions;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.bundle.PrecisionChoice;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Which model to load and how (a picocli mixin of the job and {@code ask}): declared and checked
 * once, so both commands load the same weights the same way, with the same defaults.
 */
final class ModelOptions {
    @Option(names = "--model", description = "Model bundle folder (Hugging Face / transformers.js export). Default: the demo model in sample-data.")
    String model;

    @Option(names = "--precision", defaultValue = "fp32", description = "Weight variant by file suffix: fp32, fp16, int8, uint8, "
            + "quantized, q4, q4f16, bnb4 for every file (a missing one falls back to the nearest the bundle has, with a "
            + "warning), or per file: vision=fp16,decoder=q4f16 (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--device", defaultValue = "cpu", description = "Where ONNX Runtime runs: cpu (default) or cuda[:N] (needs the "
            + "-Pcuda build and CUDA 12 + cuDNN 9).")
    String device;

    @Option(names = "--device-fallback", defaultValue = "false", negatable = true, fallbackValue = "true",
            description = "With --device cuda: a machine where CUDA cannot start runs the model on the CPU (with a warning) "
                    + "instead of failing; on a cluster each executor decides for itself, and summary.json's devices says "
                    + "what each used (default ${DEFAULT-VALUE}).")
    boolean deviceFallback;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime threads per inference; 0 = the cores shared "
            + "between the inferences that run at once (default).")
    int threads;

    @Option(names = "--max-megapixels", defaultValue = "50", description = "Refuse images larger than this, read from the "
            + "header (default ${DEFAULT-VALUE}).")
    double maxMegapixels;

    @Option(names = "--image-splitting", paramLabel = "on|off", description = "SmolVLM: cut each image into 512-px crops "
            + "plus a global view (on: the bundle's do_image_splitting, up to 17 crops) or encode one 512-px view (off: "
            + "about 1/17 of the vision work, less detail). Default: the bundle's setting. docs/performance.md has the "
            + "speed and agreement figures.")
    String imageSplitting;

    @Option(names = "--image-longest-edge", defaultValue = "0", paramLabel = "PIXELS", description = "SmolVLM: resize images "
            + "to this longest edge before splitting (the bundle's size.longest_edge, 2048 for SmolVLM-256M: 4 x 4 crops; "
            + "1024: 2 x 2), a multiple of 512. 0 = the bundle's (default).")
    int imageLongestEdge;

    /** Every value checked, each failure one message naming the option. */
    void validate() {
        MoonbatchCli.requireAtLeast("--threads", threads, 0);
        MoonbatchCli.requireAtLeast("--image-longest-edge", imageLongestEdge, 0);
        image();
        if (!(maxMegapixels > 0)) {
            throw new IllegalArgumentException("--max-megapixels: expected a number > 0 but got " + maxMegapixels);
        }
    }

    /** The image preprocessing asked for: the bundle's, or SmolVLM's splitting changed. */
    ImageOptions image() {
        Boolean splitting = null;
        if (imageSplitting != null) {
            splitting = switch (imageSplitting.toLowerCase(java.util.Locale.ROOT)) {
                case "on" -> true;
                case "off" -> false;
                default -> throw new IllegalArgumentException("--image-splitting: expected on or off but got " + imageSplitting);
            };
        }
        return new ImageOptions(splitting, imageLongestEdge);
    }

    /** The most pixels an image may have. */
    long maxPixels() {
        return MoonbatchCli.maxPixels(maxMegapixels);
    }

    /**
     * The bundle and runtime settings, checked without loading weights.
     *
     * @param runsHere whether the model runs on this machine (local mode, ask): only then can this
     *                 machine's CUDA be probed up front (a GPU it cannot drive is a configuration error,
     *                 or a warning with --device-fallback); on a cluster each executor probes where it
     *                 loads the model
     * @param err      where warnings go (a CUDA fallback, a precision variant the bundle lacks)
     * @throws IllegalArgumentException or {@link dev.moonbatch.runtime.bundle.BundleException}, naming the option
     */
    ModelSelection select(boolean runsHere, String home, PrintStream err) {
        Consumer<String> warn = w -> err.println("moonbatch: warning: " + w);
        Device wanted = Device.parse(device, deviceFallback);
        if (runsHere) {
            OrtSessions.place(wanted, warn); // the device stays as asked: where the model loads, it decides again
        }
        RuntimeOptions asked = new RuntimeOptions(PrecisionChoice.parse(precision), threads).withDevice(wanted).withImage(image());
        ModelBundle bundle = ModelLoader.validate(Path.of(model != null ? model : demoModel(home)), asked);
        // a single --precision falls back per file to the nearest variant the bundle has (a warning each)
        return new ModelSelection(bundle, ModelLoader.resolve(bundle, asked, warn));
    }

    private static String demoModel(String home) {
        if (home == null) {
            throw new IllegalArgumentException("--model: no model folder given (and MOONBATCH_HOME is not set to find the demo model)");
        }
        return Path.of(home, "sample-data", "models", "vit-gpt2-tiny").toString();
    }
}
