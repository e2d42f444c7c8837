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
            "merges.txt", "vocab.txt");

    private final Path dir;
    private final JsonNode config;
    private final PreprocessorConfig preprocessor;
    private final GenerationConfig generation;
    private final JsonNode generationJson;

    private ModelBundle(Path dir, JsonNode config, PreprocessorConfig preprocessor, GenerationConfig generation,
                        JsonNode generationJson) {
        this.dir = dir;
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
        JsonNode config = Json.read(abs.resolve("config.json"));
        PreprocessorConfig pre = PreprocessorConfig.from(Json.read(abs.resolve("preprocessor_config.json")),
                "preprocessor_config.json");
        Path genFile = abs.resolve("generation_config.json");
        JsonNode gen = Files.isRegularFile(genFile) ? Json.read(genFile) : Json.mapper().createObjectNode();
        ModelBundle bundle = new ModelBundle(abs, config, pre, GenerationConfig.from(gen, config), gen);
        bundle.require("tokenizer.json");
        return bundle;
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
        String name = precision.fileName(component);
        Path file = dir.resolve("onnx").resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new BundleException("model bundle lacks onnx/" + name + " (component '" + component
                    + "' in precision " + precision.label() + "); onnx/ has: " + onnxFiles());
        }
        return file;
    }

    /** Those of {@link #METADATA_FILES} this bundle has, in that order. */
    public List<Path> metadataFiles() {
        return METADATA_FILES.stream().map(dir::resolve).filter(Files::isRegularFile).toList();
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
                    .filter(p -> Files.isRegularFile(dir.resolve("onnx").resolve(p.fileName(component))))
                    .findFirst()
                    .orElseThrow(() -> new BundleException("model bundle lacks onnx/" + wanted.fileName(component)
                            + " (component '" + component + "' in precision " + wanted.label()
                            + (candidates.size() > 1 ? ", nor in " + candidates.subList(1, candidates.size()).stream()
                            .map(Precision::label).toList() : "") + "); onnx/ has: " + onnxFiles()));
            if (found != wanted) {
                warn.accept("--precision " + wanted.label() + ": " + name() + " has no onnx/" + wanted.fileName(component)
                        + "; loading onnx/" + found.fileName(component) + " (" + found.label() + ", the nearest it has)");
            }
            resolved.put(component, found);
        }
        return new PrecisionChoice(choice.others(), resolved);
    }

    private List<String> onnxFiles() {
        Path onnxDir = dir.resolve("onnx");
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
