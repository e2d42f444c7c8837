package dev.moonbatch.runtime.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A bundle's own chat template (Jinja) rendered with Jinjava the way transformers.js renders it
 * ({@code apply_chat_template(messages, {tokenize: false, add_generation_prompt})}).
 *
 * <p>Where it comes from, first found wins (transformers.js's processor order):
 * {@code chat_template.jinja}, {@code chat_template.json} ({@code "chat_template"}), then
 * {@code tokenizer_config.json} ({@code "chat_template"}, a string or the entry named "default").
 * Jinja semantics kept: {@code trim_blocks} and {@code lstrip_blocks} on (as transformers does),
 * one trailing newline of the template source dropped ({@code keep_trailing_newline=False}),
 * {@code raise_exception(msg)} available, special tokens ({@code bos_token}, {@code eos_token},
 * …) of {@code tokenizer_config.json} bound. Thread-safe: each render has its own interpreter.
 */
public final class ChatTemplate {
    private static final JinjavaConfig CONFIG = JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            .build();

    private final String source;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    public ChatTemplate(String source, Map<String, Object> specialTokens) {
        this.source = source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        this.specialTokens = Map.copyOf(specialTokens);
        this.jinjava = new Jinjava(CONFIG);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    }

    /** The chat template of a bundle folder, or a {@link BundleException} when it has none. */
    public static ChatTemplate load(Path dir) {
        Path tokenizerConfig = dir.resolve("tokenizer_config.json");
        JsonNode tc = Files.isRegularFile(tokenizerConfig) ? Json.read(tokenizerConfig) : Json.mapper().createObjectNode();
        Map<String, Object> special = new HashMap<>();
        for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token")) {
            JsonNode v = tc.path(key);
            if (v.isTextual()) {
                special.put(key, v.asText());
            } else if (v.path("content").isTextual()) {
                special.put(key, v.path("content").asText());
            }
        }
        return new ChatTemplate(source(dir, tc), special);
    }

    private static String source(Path dir, JsonNode tokenizerConfig) {
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return Files.readString(jinja, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new BundleException("cannot read " + jinja + ": " + e.getMessage(), e);
            }
        }
        Path json = dir.resolve("chat_template.json");
        if (Files.isRegularFile(json)) {
            JsonNode t = Json.read(json).path("chat_template");
            if (t.isTextual()) {
                return t.asText();
            }
            throw new BundleException("malformed chat_template.json: no 'chat_template' string");
        }
        JsonNode t = tokenizerConfig.path("chat_template");
        if (t.isTextual()) {
            return t.asText();
        }
        if (t.isArray()) {
            for (JsonNode entry : t) {
                if ("default".equals(entry.path("name").asText()) && entry.path("template").isTextual()) {
                    return entry.path("template").asText();
                }
            }
        }
        throw new BundleException("model bundle " + dir + " has no chat template (chat_template.jinja, "
                + "chat_template.json or tokenizer_config.json 'chat_template')");
    }

    /**
     * Renders the template.
     *
     * @param messages e.g. {@code [{role: user, content: [{type: image}, {type: text, text: "…"}]}]},
     *                 as Java maps and lists
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        Map<String, Object> bindings = new HashMap<>(specialTokens);
        bindings.put("messages", messages);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = jinjava.renderForResult(source, bindings);
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new IllegalArgumentException("chat template failed: " + e.getMessage());
            }
        }
        return result.getOutput();
    }

    /** One user turn with one image followed by a text, the way SmolVLM / Idefics3 prompts are built. */
    public String renderUserImageQuestion(String question, boolean addGenerationPrompt) {
        return renderUserImagesQuestion(1, question, addGenerationPrompt);
    }

    /** One user turn with {@code images} images, then a text (several photos of one product asked about together). */
    public String renderUserImagesQuestion(int images, String question, boolean addGenerationPrompt) {
        List<Map<String, Object>> content = new java.util.ArrayList<>();
        for (int i = 0; i < images; i++) {
            content.add(Map.of("type", "image"));
        }
        content.add(Map.of("type", "text", "text", question));
        return render(List.of(Map.of("role", "user", "content", content)), addGenerationPrompt);
    }

    /** {@code raise_exception(msg)} of the Hugging Face templates. */
    public static String raiseException(String message) {
        throw new IllegalArgumentException("chat template raised: " + message);
    }
}
