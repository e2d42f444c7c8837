package dev.moonbatch.runtime.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.generate.GenerationOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One model export folder as downloaded from the Hugging Face hub (Optimum / transformers.js
 * layout): parsed configs and the ONNX file chosen for each component. It knows nothing about
 * generation; the family adapters read what they need from it.
 * <p>
 * A folder without {@code config.json} but with a {@value #MANIFEST} manifest (PP-OCR, as
 * {@code tools/models/fetch-ppocr.sh} unpacks it) is a bundle too: the manifest stands in for the
 * config ({@code model_type}) and names each component's file, which keeps the package's own file
 * name at the top of the folder; it has no preprocessor, generation or tokenizer files.
 */
public final class ModelBundle {
    /**
     * The metadata files that can change what the runtime does with the weights: configs, the
     * tokenizer in every form the exports ship it, chat templates. Anything else at the top of a
     * downloaded folder (READMEs, {@code .gitattributes}, training indexes) is not read.
     */
    public static final List<String> METADATA_FILES = List.of("config.json", "preprocessor_config.json",
            "processor_config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "added_tokens.json", "chat_template.json", "chat_template.jinja", "vocab.json",
            "merges.txt", "vocab.txt", "ppocr.json");

    /** The manifest of a bundle whose files are not in the hub layout: {@code model_type} and one file per component. */
    public static final String MANIFEST = "ppocr.json";

    private final Path dir;
    private final JsonNode config;
    private final PreprocessorConfig preprocessor;
    private final GenerationConfig generation;
    private final JsonNode generationJson;
    /** Component → file name, from the manifest; empty for a hub-layout bundle (files under onnx/). */
    private final Map<String, String> manifestFiles;

    private ModelBundle(Path dir, JsonNode config, PreprocessorConfig preprocessor, GenerationConfig generation,
                        JsonNode generationJson, Map<String, String> manifestFiles) {
        this.dir = dir;
        this.manifestFiles = manifestFiles;
        this.config = config;
        this.preprocessor = preprocessor;
        this.generation = generation;
        this.generationJson = generationJson;
    }

    /** Opens and validates a bundle folder; every problem is one {@link BundleException} naming the file. */
    public static ModelBundle open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new BundleException("--model: no such model folder: " + dir);
        }
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isRegularFile(abs.resolve("config.json")) && Files.isRegularFile(abs.resolve(MANIFEST))) {
            return openManifest(abs);
        }
        JsonNode config = Json.read(abs.resolve("config.json"));
        PreprocessorConfig pre = PreprocessorConfig.from(Json.read(abs.resolve("preprocessor_config.json")),
                "preprocessor_config.json");
        Path genFile = abs.resolve("generation_config.json");
        JsonNode gen = Files.isRegularFile(genFile) ? Json.read(genFile) : Json.mapper().createObjectNode();
        ModelBundle bundle = new ModelBundle(abs, config, pre, GenerationConfig.from(gen, config), gen, Map.of());
        bundle.require("tokenizer.json");
        return bundle;
    }

    /** A manifest bundle: every file the manifest names must be there. */
    private static ModelBundle openManifest(Path abs) {
        JsonNode manifest = Json.read(abs.resolve(MANIFEST));
        if (manifest.path("model_type").asText("").isEmpty()) {
            throw new BundleException(MANIFEST + " in " + abs + " lacks model_type");
        }
        Map<String, String> files = new LinkedHashMap<>();
        manifest.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("model_type") && !e.getKey().equals("source") && e.getValue().isTextual()) {
                files.put(e.getKey(), e.getValue().asText());
            }
        });
        JsonNode empty = Json.mapper().createObjectNode();
        ModelBundle bundle = new ModelBundle(abs, manifest, null, GenerationConfig.from(empty, manifest), empty, Map.copyOf(files));
        files.values().forEach(bundle::require);
        return bundle;
    }

    /**
     * The file a manifest names for {@code key} ({@code dictionary}, …), or a {@link BundleException}
     * naming the key: only manifest bundles have such files.
     */
    public Path manifestFile(String key) {
        String name = manifestFiles.get(key);
        if (name == null) {
            throw new BundleException((manifestFiles.isEmpty() ? "model bundle has no " + MANIFEST : MANIFEST + " names no '" + key + "'")
                    + " (in " + dir + ")");
        }
        return require(name);
    }
    public Path dir() {
        return dir;
    }

    /** A short, stable name for output rows: the folder name. */
    public String name() {
        return dir.getFileName().toString();
    }

    public JsonNode config() {
        return config;
    }

    public String modelType() {
        return config.path("model_type").asText("");
    }

    /** The preprocessor config; null for a manifest bundle, which has none. */
    public PreprocessorConfig preprocessor() {
        return preprocessor;
    }

    public GenerationConfig generation() {
        return generation;
    }

    /**
     * Generation options with the bundle's defaults ({@code num_beams}, {@code length_penalty},
     * {@code no_repeat_ngram_size}, … from {@code generation_config.json}) and this token limit.
     */
    public GenerationOptions generationOptions(int maxNewTokens) {
        return GenerationOptions.fromGenerationConfig(generationJson, maxNewTokens, generation.eosTokenIds());
    }

    /**
     * {@code max_new_tokens} as the bundle's {@code generation_config.json} sets it, if it does. Its
     * {@code max_length} is not used: exports copy transformers' default of 20 there from the model config.
     */
    public java.util.OptionalInt declaredMaxNewTokens() {
        JsonNode n = generationJson.path("max_new_tokens");
        return n.isIntegralNumber() && n.asInt() >= 1 ? java.util.OptionalInt.of(n.asInt()) : java.util.OptionalInt.empty();
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    /** A file that must exist, or a {@link BundleException} naming it. */
    public Path require(String name) {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new BundleException("model bundle lacks " + name + " (looked for " + file + ")");
        }
        return file;
    }

    /**
     * The ONNX file of a component in the wanted precision, e.g. {@code onnx/decoder_model_merged_fp16.onnx}.
     * Sessions are opened by this path so that external weights ({@code .onnx_data}) beside it load too.
     */
    public Path onnx(String component, Precision precision) {
        Path file = candidate(component, precision);
        if (!Files.isRegularFile(file)) {
            throw new BundleException("model bundle lacks " + relative(file) + " (component '" + component
                    + "' in precision " + precision.label() + "); " + (manifestFiles.isEmpty() ? "onnx/" : "the folder")
                    + " has: " + onnxFiles());
        }
        return file;
    }

    /**
     * Where a component's file in a precision is: {@code onnx/NAME_SUFFIX.onnx} in the hub layout;
     * for a manifest bundle the named file, its variants beside it with the suffix before {@code .onnx}.
     */
    private Path candidate(String component, Precision precision) {
        String named = manifestFiles.get(component);
        if (named == null) {
            return dir.resolve("onnx").resolve(precision.fileName(component));
        }
        String stem = named.endsWith(".onnx") ? named.substring(0, named.length() - 5) : named;
        return dir.resolve(precision == Precision.FP32 ? named : stem + precision.suffix() + ".onnx");
    }

    private String relative(Path file) {
        return dir.relativize(file).toString();
    }

    /** Those of {@link #METADATA_FILES} this bundle has, in that order. */
    public List<Path> metadataFiles() {
        List<Path> out = new java.util.ArrayList<>(METADATA_FILES.stream().map(dir::resolve).filter(Files::isRegularFile).toList());
        manifestFiles.values().stream().filter(n -> !n.endsWith(".onnx")).map(dir::resolve).forEach(out::add);
        return List.copyOf(out);
    }

    /** The ONNX file of a component in the precision a (resolved) choice gives it. */
    public Path onnx(String component, PrecisionChoice choice) {
        return onnx(component, choice.of(component));
    }

    /**
     * The choice with every one of {@code components} named: a named file as asked (missing is an
     * error), any other in the first of its {@link PrecisionChoice#candidates} that this bundle has,
     * with one warning per file that falls back. A named file that is no component of this model is
     * an error naming {@code --precision}.
     */
    public PrecisionChoice resolve(List<String> components, PrecisionChoice choice, Consumer<String> warn) {
        for (String named : choice.files().keySet()) {
            if (!components.contains(named)) {
                throw new IllegalArgumentException("--precision: this model has no file '" + named + "'; expected one of "
                        + String.join(", ", components));
            }
        }
        Map<String, Precision> resolved = new LinkedHashMap<>();
        for (String component : components) {
            List<Precision> candidates = choice.candidates(component);
            Precision wanted = candidates.get(0);
            Precision found = candidates.stream()
                    .filter(p -> Files.isRegularFile(candidate(component, p)))
                    .findFirst()
                    .orElseThrow(() -> new BundleException("model bundle lacks " + relative(candidate(component, wanted))
                            + " (component '" + component + "' in precision " + wanted.label()
                            + (candidates.size() > 1 ? ", nor in " + candidates.subList(1, candidates.size()).stream()
                            .map(Precision::label).toList() : "") + "); onnx/ has: " + onnxFiles()));
            if (found != wanted) {
                warn.accept("--precision " + wanted.label() + ": " + name() + " has no " + relative(candidate(component, wanted))
                        + "; loading " + relative(candidate(component, found)) + " (" + found.label() + ", the nearest it has)");
            }
            resolved.put(component, found);
        }
        return new PrecisionChoice(choice.others(), resolved);
    }

    private List<String> onnxFiles() {
        Path onnxDir = manifestFiles.isEmpty() ? dir.resolve("onnx") : dir;
        if (!Files.isDirectory(onnxDir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(onnxDir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".onnx")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
