package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Florence-2's task prompts, as its processor builds them: a task token alone ({@code <CAPTION>},
 * {@code <OCR>}, …) becomes its sentence from {@code task_prompts_without_inputs}; a text containing a
 * task token of {@code task_prompts_with_input} becomes that template with the text in place of
 * {@code {input}} and the token removed; any other text is the prompt as it is. transformers.js's
 * {@code Florence2Processor.construct_prompts} reads both maps from {@code preprocessor_config.json}
 * (the onnx-community exports carry them); a bundle without them gets the maps of Microsoft's
 * {@code processing_florence2.py}.
 */
record Florence2Prompts(Map<String, String> withoutInputs, Map<String, String> withInput) {
    static final Map<String, String> DEFAULT_WITHOUT_INPUTS = ordered(
            "<OCR>", "What is the text in the image?",
            "<OCR_WITH_REGION>", "What is the text in the image, with regions?",
            "<CAPTION>", "What does the image describe?",
            "<DETAILED_CAPTION>", "Describe in detail what is shown in the image.",
            "<MORE_DETAILED_CAPTION>", "Describe with a paragraph what is shown in the image.",
            "<OD>", "Locate the objects with category name in the image.",
            "<DENSE_REGION_CAPTION>", "Locate the objects in the image, with their descriptions.",
            "<REGION_PROPOSAL>", "Locate the region proposals in the image.");
    static final Map<String, String> DEFAULT_WITH_INPUT = ordered(
            "<CAPTION_TO_PHRASE_GROUNDING>", "Locate the phrases in the caption: {input}",
            "<REFERRING_EXPRESSION_SEGMENTATION>", "Locate {input} in the image with mask",
            "<REGION_TO_SEGMENTATION>", "What is the polygon mask of region {input}",
            "<OPEN_VOCABULARY_DETECTION>", "Locate {input} in the image.",
            "<REGION_TO_CATEGORY>", "What is the region {input}?",
            "<REGION_TO_DESCRIPTION>", "What does the region {input} describe?",
            "<REGION_TO_OCR>", "What text is in the region {input}?");

    /** The maps of a bundle's {@code preprocessor_config.json}, or the defaults where it has none. */
    static Florence2Prompts from(JsonNode preprocessorConfig) {
        return new Florence2Prompts(map(preprocessorConfig.path("task_prompts_without_inputs"), DEFAULT_WITHOUT_INPUTS),
                map(preprocessorConfig.path("task_prompts_with_input"), DEFAULT_WITH_INPUT));
    }

    /** The prompt text for a task token or free text (transformers.js {@code construct_prompts}). */
    String construct(String text) {
        String fixed = withoutInputs.get(text);
        if (fixed != null) {
            return fixed;
        }
        for (Map.Entry<String, String> e : withInput.entrySet()) {
            if (text.contains(e.getKey())) {
                return e.getValue().replace("{input}", text).replace(e.getKey(), "");
            }
        }
        return text;
    }

    /**
     * The task token a prompt names, as {@link #construct} reads it: the prompt itself where it is a
     * task without input, else the first task with input it contains; null for free text. The key of
     * the answer's post-processing ({@link Florence2Regions}).
     */
    String taskToken(String text) {
        if (withoutInputs.containsKey(text)) {
            return text;
        }
        for (String task : withInput.keySet()) {
            if (text.contains(task)) {
                return task;
            }
        }
        return null;
    }

    private static Map<String, String> map(JsonNode node, Map<String, String> fallback) {
        if (!node.isObject()) {
            return fallback;
        }
        Map<String, String> out = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    static Map<String, String> ordered(String... keysAndValues) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return out;
    }
}
