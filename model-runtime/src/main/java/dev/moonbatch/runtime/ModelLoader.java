package dev.moonbatch.runtime;

import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.bundle.PrecisionChoice;
import dev.moonbatch.runtime.family.Blip2;
import dev.moonbatch.runtime.family.DecoderOnlyVlms;
import dev.moonbatch.runtime.family.Florence2;
import dev.moonbatch.runtime.family.Moondream2;
import dev.moonbatch.runtime.family.PpOcr;
import dev.moonbatch.runtime.family.SmolVlm;
import dev.moonbatch.runtime.family.VitGpt2;
import dev.moonbatch.runtime.preprocess.Idefics3Processor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Opens a bundle and picks its family from {@code config.json}'s {@code model_type} (a PP-OCR
 * folder's {@code ppocr.json} manifest says {@code ppocr}).
 */
public final class ModelLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);
    /** A family: the ONNX components its bundle must have and how to build it. */
    private record Family(String label, boolean takesPrompts, List<String> components,
                          BiFunction<ModelBundle, RuntimeOptions, VisionLanguageModel> factory) {
    }

    private static final Map<String, Family> FAMILIES = Map.of(
            "vision-encoder-decoder", new Family("vit-gpt2", false, VitGpt2.COMPONENTS, VitGpt2::new),
            "idefics3", new Family("smolvlm", true, DecoderOnlyVlms.COMPONENTS, SmolVlm::new),
            "moondream1", new Family("moondream2", true, DecoderOnlyVlms.COMPONENTS, Moondream2::new),
            "blip-2", new Family("blip2", true, DecoderOnlyVlms.COMPONENTS, Blip2::new),
            "florence2", new Family("florence2", true, Florence2.COMPONENTS, Florence2::new),
            "ppocr", new Family("ppocr", false, PpOcr.COMPONENTS, PpOcr::new));

    /** Tasks beyond caption and query, by family label: only these families take them. */
    private static final Map<String, Set<String>> EXTRA_TASKS = Map.of("florence2", Set.of(Task.OCR), "ppocr", Set.of(Task.OCR));

    /** Families that do one task and nothing else (no captions): PP-OCR only reads text. */
    private static final Map<String, String> ONLY_TASK = Map.of("ppocr", Task.OCR);

    /** The family whose image preprocessing {@link ImageOptions} changes. */
    private static final String SPLITS_IMAGES = "smolvlm";

    /** Families that score closed choices ({@link VisionLanguageModel#score}): the decoder-only ones. */
    private static final Set<String> SCORE_CHOICES = Set.of("smolvlm", "moondream2", "blip2");
    /** Families whose exports have a prompt that shows several images ({@link VisionLanguageModel#prepare(List)}). */
    private static final Set<String> SEVERAL_IMAGES = Set.of("smolvlm");

    static final long LOAD_STACK_BYTES = 64L << 20;

    private ModelLoader() {
    }

    /**
     * Checks, without loading weights, that the folder is a bundle of a known family with every
     * file that family needs in the wanted precision. Cheap enough for the driver to run up front.
     */
    public static ModelBundle validate(Path dir, RuntimeOptions options) {
        ModelBundle bundle = ModelBundle.open(dir);
        resolve(bundle, options, warning -> { });
        if (!options.image().isBundle()) {
            if (!SPLITS_IMAGES.equals(familyOf(bundle))) {
                throw new BundleException("--image-splitting / --image-longest-edge: only " + SPLITS_IMAGES
                        + " models split images into crops; this model is " + familyOf(bundle));
            }
            Idefics3Processor.Config.load(bundle.dir()).with(options.image()); // throws on a bad longest edge
        }
        return bundle;
    }

    /**
     * The options with the precision resolved to one file per component of this bundle's family
     * ({@link ModelBundle#resolve}); {@code warn} gets one line per file that falls back. The driver
     * resolves once, so executors load exactly those files and warn about nothing.
     */
    public static RuntimeOptions resolve(ModelBundle bundle, RuntimeOptions options, Consumer<String> warn) {
        return options.withPrecision(bundle.resolve(family(bundle).components(), options.precision(), warn));
    }

    /**
     * Bytes of ONNX weights the model loads in this precision: each component's graph file and its
     * external data. The job sizes its thread budget by it.
     */
    public static long weightBytes(ModelBundle bundle, RuntimeOptions options) {
        return onnxFiles(bundle, options).stream().mapToLong(f -> f.toFile().length()).sum();
    }

    /**
     * The ONNX files a load opens with these options, sorted: each component's graph file in the
     * resolved precision ({@link #resolve}) and its external data ({@code X.onnx_data}, {@code X.onnx_data_1}, …), and
     * nothing else of the folder (other variants, {@code .git/}, READMEs are not read).
     */
    public static List<Path> onnxFiles(ModelBundle bundle, RuntimeOptions options) {
        PrecisionChoice chosen = resolve(bundle, options, warning -> { }).precision();
        List<Path> out = new ArrayList<>();
        for (String component : family(bundle).components()) {
            Path graph = bundle.onnx(component, chosen);
            String name = graph.getFileName().toString();
            try (Stream<Path> files = Files.list(graph.getParent())) {
                files.filter(f -> f.getFileName().toString().equals(name) || f.getFileName().toString().startsWith(name + "_data"))
                        .forEach(out::add);
            } catch (IOException e) {
                throw new BundleException("cannot list " + graph.getParent() + ": " + e.getMessage(), e);
            }
        }
        return out.stream().sorted().distinct().toList();
    }

    /** The family label of a bundle ({@code vit-gpt2}, {@code smolvlm}, {@code moondream2}). */
    public static String familyOf(ModelBundle bundle) {
        return family(bundle).label();
    }

    /** Whether the family reads a prompt: only those answer questions or take caption prompts (vit-gpt2 does not). */
    public static boolean takesPrompts(ModelBundle bundle) {
        return family(bundle).takesPrompts();
    }

    /** Whether the family takes a task beyond caption and query ({@code ocr}: Florence-2). */
    public static boolean supportsTask(ModelBundle bundle, String task) {
        return EXTRA_TASKS.getOrDefault(familyOf(bundle), Set.of()).contains(task);
    }

    /** The one task a family does, where it does only one ({@code ocr} for ppocr); empty for the others. */
    public static java.util.Optional<String> onlyTask(ModelBundle bundle) {
        return java.util.Optional.ofNullable(ONLY_TASK.get(familyOf(bundle)));
    }

    /** The families that take a task beyond caption and query, for error messages. */
    public static List<String> familiesWithTask(String task) {
        return EXTRA_TASKS.entrySet().stream().filter(e -> e.getValue().contains(task)).map(Map.Entry::getKey)
                .sorted().toList();
    }

    /** Whether the family scores closed choices. */
    public static boolean scoresChoices(ModelBundle bundle) {
        return SCORE_CHOICES.contains(familyOf(bundle));
    }

    /** The families that score closed choices, for error messages. */
    public static List<String> familiesThatScoreChoices() {
        return SCORE_CHOICES.stream().sorted().toList();
    }

    /** Whether the family takes several images in one prompt (a product's photos). */
    public static boolean takesSeveralImages(ModelBundle bundle) {
        return SEVERAL_IMAGES.contains(familyOf(bundle));
    }

    /** The families that take several images in one prompt, for error messages. */
    public static List<String> familiesWithSeveralImages() {
        return SEVERAL_IMAGES.stream().sorted().toList();
    }

    /**
     * Loads the model on the device {@link OrtSessions#place} picks on this machine for
     * {@code options.device()} (the CPU after a permitted fallback), with the precision resolved
     * ({@link #resolve}; fallbacks logged as warnings).
     * <p>
     * Loads on a thread of its own with a large stack. The first tokenizer in a JVM makes DJL probe
     * for CUDA, which loads {@code libcudart} where one is installed; on a thread with the JVM's
     * default 1 MB stack (a Spark task thread, say) that native code overflows the stack and kills
     * the JVM without a trace. Session creation and graph rewriting get the same headroom.
     */
    public static VisionLanguageModel load(Path dir, RuntimeOptions options) {
        RuntimeOptions placed = options.withDevice(OrtSessions.place(options.device()).device());
        ModelBundle bundle = ModelBundle.open(dir);
        RuntimeOptions resolved = resolve(bundle, placed, LOG::warn);
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread loader = new Thread(null, () -> {
            try {
                outcome.set(family(bundle).factory().apply(bundle, resolved));
            } catch (RuntimeException | Error e) {
                outcome.set(e);
            }
        }, "moonbatch-model-load", LOAD_STACK_BYTES);
        loader.start();
        try {
            loader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading " + dir, e);
        }
        Object result = outcome.get();
        if (result instanceof RuntimeException e) {
            throw e;
        }
        if (result instanceof Error e) {
            throw e;
        }
        return (VisionLanguageModel) result;
    }

    private static Family family(ModelBundle bundle) {
        Family family = FAMILIES.get(bundle.modelType());
        if (family == null) {
            throw new BundleException("--model: " + (bundle.dir().resolve("config.json").toFile().isFile() ? "config.json" : ModelBundle.MANIFEST)
                    + " has model_type '" + bundle.modelType()
                    + "', which moonbatch does not support; supported: " + FAMILIES.keySet());
        }
        return family;
    }
}
