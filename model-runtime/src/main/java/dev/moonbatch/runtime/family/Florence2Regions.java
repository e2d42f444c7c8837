package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.Region;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Florence-2's answer post-processing ({@code Florence2Processor.post_process_generation} of
 * transformers.js 4.3.1, the contract of Microsoft's {@code processing_florence2.py}): region tasks
 * answer with location tokens {@code <loc_0>}…{@code <loc_999>}, quantised positions that become
 * pixels of the original image here. The task's post-processing type comes from
 * {@code tasks_answer_post_processing_type} of {@code preprocessor_config.json} (the onnx-community
 * exports carry it), else Microsoft's processor's map:
 * <ul>
 *   <li>{@code description_with_bboxes} ({@code <OD>}, {@code <DENSE_REGION_CAPTION>}), {@code bboxes}
 *       ({@code <REGION_PROPOSAL>}), {@code phrase_grounding} ({@code <CAPTION_TO_PHRASE_GROUNDING>}):
 *       {@code label<loc_x1><loc_y1><loc_x2><loc_y2>}, boxes {@code [x1, y1, x2, y2]}; a box with no
 *       text in front repeats the previous label (several boxes of one object class).</li>
 *   <li>{@code ocr} ({@code <OCR_WITH_REGION>}): {@code text} then eight locations, a quadrilateral.</li>
 *   <li>{@code description_with_bboxes_or_polygons} ({@code <OPEN_VOCABULARY_DETECTION>}): parsed as
 *       boxes when the answer has no {@code <poly>} (Microsoft's rule; transformers.js implements neither
 *       branch and throws).</li>
 *   <li>{@code pure_text} and tasks the map does not name: the text, {@code <s>}/{@code </s>} removed.</li>
 *   <li>{@code polygons} (segmentation tasks, also unimplemented in transformers.js): left as text, with
 *       its location tokens, and no regions.</li>
 * </ul>
 * A coordinate is {@code (bin + 0.5) / 1000 * size} (width for x, height for y), unclamped, exactly as
 * transformers.js computes it in double precision; labels are trimmed as JavaScript's {@code trim()}.
 * The text of a parsed answer is the answer with each run of location tokens (and the spaces around it)
 * turned into one space.
 */
record Florence2Regions(Map<String, String> postProcessingTypes) {
    /** Microsoft's {@code processing_florence2.py} map, for bundles whose preprocessor config has none. */
    static final Map<String, String> DEFAULT_TYPES = Florence2Prompts.ordered(
            "<OCR>", "pure_text",
            "<OCR_WITH_REGION>", "ocr",
            "<CAPTION>", "pure_text",
            "<DETAILED_CAPTION>", "pure_text",
            "<MORE_DETAILED_CAPTION>", "pure_text",
            "<OD>", "description_with_bboxes",
            "<DENSE_REGION_CAPTION>", "description_with_bboxes",
            "<CAPTION_TO_PHRASE_GROUNDING>", "phrase_grounding",
            "<REFERRING_EXPRESSION_SEGMENTATION>", "polygons",
            "<REGION_TO_SEGMENTATION>", "polygons",
            "<OPEN_VOCABULARY_DETECTION>", "description_with_bboxes_or_polygons",
            "<REGION_TO_CATEGORY>", "pure_text",
            "<REGION_TO_DESCRIPTION>", "pure_text",
            "<REGION_TO_OCR>", "pure_text",
            "<REGION_PROPOSAL>", "bboxes");

    /** Quantisation bins per image side ({@code size_per_bin} in transformers.js). */
    static final double BINS = 1000;

    /**
     * transformers.js's regexes. Its {@code .} (no {@code s} flag) stops at \n, \r, \u2028 and \u2029
     * only; Java's would also stop at \u0085, hence the explicit class.
     */
    private static final Pattern QUAD_BOXES = Pattern.compile(
            "([^\n\r\u2028\u2029]+?)" + "<loc_(\\d+)>".repeat(8));
    private static final Pattern BBOXES = Pattern.compile("([^<]+)?" + "<loc_(\\d+)>".repeat(4));
    private static final Pattern LOCATION_RUN = Pattern.compile("\\s*(?:<loc_\\d+>)+\\s*");

    /** The cleaned text and the regions of one answer. */
    record Answer(String text, List<Region> regions) {
    }

    static Florence2Regions from(JsonNode preprocessorConfig) {
        JsonNode node = preprocessorConfig.path("tasks_answer_post_processing_type");
        if (!node.isObject()) {
            return new Florence2Regions(DEFAULT_TYPES);
        }
        Map<String, String> types = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> types.put(e.getKey(), e.getValue().asText()));
        return new Florence2Regions(types);
    }

    /**
     * The answer to {@code task} (a task token such as {@code <OD>}; null or unknown: pure text) in
     * {@code decoded} (the generated ids decoded with special tokens kept), for an image of
     * {@code width} × {@code height} pixels.
     */
    Answer parse(String decoded, String task, int width, int height) {
        String type = task == null ? "pure_text" : postProcessingTypes.getOrDefault(task, "pure_text");
        String text = decoded.replace("<s>", "").replace("</s>", "");
        return switch (type) {
            case "description_with_bboxes", "bboxes", "phrase_grounding" -> located(text, BBOXES, width, height);
            case "ocr" -> located(text, QUAD_BOXES, width, height);
            case "description_with_bboxes_or_polygons" -> text.contains("<poly>")
                    ? new Answer(text.strip(), List.of())
                    : located(text, BBOXES, width, height);
            default -> new Answer(text.strip(), List.of());
        };
    }

    private static Answer located(String text, Pattern pattern, int width, int height) {
        // Python's parser drops padding too; the ids we decode end at EOS, so this only guards.
        text = text.replace("<pad>", "");
        List<Region> regions = new ArrayList<>();
        String lastLabel = "";
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            String label = m.group(1) != null ? jsTrim(m.group(1)) : lastLabel;
            float[] box = new float[m.groupCount() - 1];
            for (int i = 0; i < box.length; i++) {
                double bin = Double.parseDouble(m.group(i + 2)); // JavaScript's Number(): a double
                box[i] = (float) ((bin + 0.5) / BINS * (i % 2 == 0 ? width : height));
            }
            regions.add(new Region(label, box));
            lastLabel = label;
        }
        return new Answer(LOCATION_RUN.matcher(text).replaceAll(" ").strip(), regions);
    }

    /** JavaScript's {@code String.prototype.trim}: white space (Zs, tab, VT, FF, BOM) and line terminators. */
    static String jsTrim(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && jsSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && jsSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean jsSpace(char c) {
        return c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r' || c == '\u2028' || c == '\u2029'
                || c == '\uFEFF' || Character.getType(c) == Character.SPACE_SEPARATOR;
    }
}
