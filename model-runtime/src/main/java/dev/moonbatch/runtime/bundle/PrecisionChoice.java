package dev.moonbatch.runtime.bundle;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Which weight variant to load for each ONNX file of a bundle ({@code --precision}). Real exports mix
 * variants (moondream2 ships a q4f16 decoder but no q4f16 vision encoder; Florence-2 repos are often
 * trimmed to q4 / q4f16), so the choice is per file:
 * <ul>
 * <li>{@code fp16}: every file in fp16; a file missing in it falls back to the nearest variant the
 *     bundle has ({@link Precision#fallbacks()}), with a warning naming the file;</li>
 * <li>{@code vision=fp16,decoder=q4f16}: exactly these files (missing is an error), fp32 for the
 *     others; one entry without a key sets the others ({@code q4,vision=fp16}) and falls back as above.</li>
 * </ul>
 * Keys are the component names the families load, or their short aliases ({@link #ALIASES}).
 * {@link ModelBundle#resolve} turns a choice into one that names every component of a model; that
 * resolved form is what executors load and what output rows record ({@link #key()}).
 *
 * @param others precision of the files not named in {@code files}, with fallback
 * @param files  precision per component name, exact
 */
public record PrecisionChoice(Precision others, Map<String, Precision> files) implements Serializable {
    /** Short names for the components, on the command line only. */
    public static final Map<String, String> ALIASES = aliases();

    public PrecisionChoice {
        others = others == null ? Precision.FP32 : others;
        files = Map.copyOf(files);
    }

    /** Every file in one precision, with fallback. */
    public static PrecisionChoice of(Precision precision) {
        return new PrecisionChoice(precision, Map.of());
    }

    /** Parses {@code --precision}: one precision, or {@code FILE=PRECISION} entries separated by commas. */
    public static PrecisionChoice parse(String value) {
        if (value == null || value.isBlank()) {
            throw bad(value, "a precision");
        }
        Precision others = null;
        Map<String, Precision> files = new LinkedHashMap<>();
        for (String entry : value.split(",", -1)) {
            String e = entry.strip();
            int eq = e.indexOf('=');
            if (eq < 0) {
                if (others != null) {
                    throw bad(value, "at most one entry without FILE=");
                }
                others = precision(e, value);
                continue;
            }
            String key = e.substring(0, eq).strip();
            String component = ALIASES.getOrDefault(key, key);
            if (!component.matches("[a-z][a-z0-9_]*")) {
                throw bad(value, "FILE=PRECISION with FILE a component name or alias (" + aliasList() + ")");
            }
            if (files.put(component, precision(e.substring(eq + 1), value)) != null) {
                throw bad(value, "each file once (" + component + " is given twice)");
            }
        }
        return new PrecisionChoice(others, files);
    }

    private static Precision precision(String text, String whole) {
        try {
            return Precision.parse(text);
        } catch (IllegalArgumentException e) {
            throw bad(whole, "a precision where '" + text.strip() + "' is");
        }
    }

    private static IllegalArgumentException bad(String value, String expected) {
        return new IllegalArgumentException("--precision: expected " + expected + "; the form is one of "
                + Precision.labels() + " for every file, or FILE=PRECISION,… per file (FILE: " + aliasList()
                + ") but got '" + value + "'");
    }

    private static String aliasList() {
        return ALIASES.entrySet().stream().map(a -> a.getValue() + " or " + a.getKey()).collect(Collectors.joining(", "));
    }

    /** The precision asked for a component (before any fallback). */
    public Precision of(String component) {
        return files.getOrDefault(component, others);
    }

    /** Whether the user named this component (then only that variant will do). */
    public boolean names(String component) {
        return files.containsKey(component);
    }

    /** The variants to try for a component, in order: the named one only, else {@link #others} and its fallbacks. */
    public List<Precision> candidates(String component) {
        if (names(component)) {
            return List.of(files.get(component));
        }
        List<Precision> out = new ArrayList<>();
        out.add(others);
        out.addAll(others.fallbacks());
        return out;
    }

    /**
     * A resolved choice ({@link ModelBundle#resolve}: every file named) as output rows and the results
     * key record it: one precision where every file has it ({@code fp16}, the key earlier runs wrote),
     * else {@code FILE=PRECISION} per file, sorted. It depends only on the files loaded.
     */
    public String key() {
        if (files.isEmpty()) {
            return others.label();
        }
        if (files.values().stream().distinct().count() == 1) {
            return files.values().iterator().next().label();
        }
        return new TreeMap<>(files).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().label())
                .collect(Collectors.joining(","));
    }

    @Override
    public String toString() {
        return key();
    }

    private static Map<String, String> aliases() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("vision", "vision_encoder");
        m.put("embed", "embed_tokens");
        m.put("encoder", "encoder_model");
        m.put("decoder", "decoder_model_merged");
        return java.util.Collections.unmodifiableMap(m);
    }
}
