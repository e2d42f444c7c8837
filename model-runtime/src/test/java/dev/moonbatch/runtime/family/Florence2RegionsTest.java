package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.Region;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.bundle.Json;
import dev.moonbatch.runtime.generate.GeneratedSequence;
import dev.moonbatch.runtime.text.TextTokenizer;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Florence2Regions} against transformers.js 4.3.1 {@code Florence2Processor.post_process_generation}
 * (tools/reference/florence2-postprocess.mjs) on hand-built answers of every region task, with the
 * florence2-tiny bundle's processor config on both sides; then what transformers.js has no answer for
 * (the text we keep, open-vocabulary detection, segmentation) and the path from generated ids to regions.
 */
class Florence2RegionsTest {
    private static final Path BUNDLE = ReferenceRunner.root().resolve("sample-data/models/florence2-tiny");

    /** One answer to post-process; {@code referenceTask} is the task transformers.js is asked for it. */
    record Case(String text, String task, int width, int height, String referenceTask) {
        Case(String text, String task, int width, int height) {
            this(text, task, width, height, task);
        }
    }

    private static String loc(int... bins) {
        StringBuilder sb = new StringBuilder();
        for (int b : bins) {
            sb.append("<loc_").append(b).append('>');
        }
        return sb.toString();
    }

    static List<Case> cases() {
        String quad = loc(10, 20, 300, 20, 300, 80, 10, 80);
        return List.of(
                // <OD>: one label with several boxes, bins at 0 and 999, special tokens around
                new Case("</s><s>car" + loc(0, 0, 999, 999) + loc(1, 2, 3, 4) + "person" + loc(500, 250, 750, 998) + "</s>",
                        "<OD>", 640, 480),
                new Case("<s>traffic light" + loc(0, 999, 999, 0) + "</s>", "<OD>", 1, 1),
                new Case("car" + loc(12, 34, 56, 78), "<OD>", 4000, 3000),
                new Case("car" + loc(12, 34, 56, 78), "<OD>", 1023, 767),
                // <DENSE_REGION_CAPTION>: phrases with spaces, a leading space, non-ASCII, a no-break space
                new Case("</s>a red car parked on the street" + loc(100, 200, 300, 400)
                        + " a man walking\u00a0" + loc(5, 6, 7, 8) + "caf\u00e9 sign" + loc(900, 10, 990, 90) + "</s>",
                        "<DENSE_REGION_CAPTION>", 800, 600),
                // <CAPTION_TO_PHRASE_GROUNDING>
                new Case("</s>A dog" + loc(10, 10, 500, 900) + "a frisbee" + loc(600, 100, 700, 200) + loc(610, 110, 690, 190)
                        + "</s>", "<CAPTION_TO_PHRASE_GROUNDING>", 512, 384),
                // <REGION_PROPOSAL>: boxes without labels
                new Case("</s>" + loc(0, 0, 10, 10) + loc(20, 20, 999, 999) + "</s>", "<REGION_PROPOSAL>", 300, 200),
                // <OCR_WITH_REGION>: quads; a label with spaces; text over a line break is not a label
                new Case("</s>HELLO" + quad + "WORLD 2" + loc(0, 0, 999, 0, 999, 999, 0, 999) + "</s>",
                        "<OCR_WITH_REGION>", 1280, 720),
                new Case("</s>LINE1\nLINE2" + quad + "</s>", "<OCR_WITH_REGION>", 640, 480),
                new Case("</s>NEXT\u0085LINE" + quad + "</s>", "<OCR_WITH_REGION>", 640, 480),
                new Case("</s>  padded  " + quad + "</s>", "<OCR_WITH_REGION>", 640, 480),
                // empty answers
                new Case("", "<OD>", 640, 480),
                new Case("</s>", "<OD>", 640, 480),
                new Case("<s></s>", "<OCR_WITH_REGION>", 640, 480),
                new Case("</s>no boxes at all</s>", "<OD>", 640, 480),
                // malformed and truncated location runs (max_new_tokens cuts an answer anywhere)
                new Case("car" + loc(1, 2, 3), "<OD>", 640, 480),
                new Case("car" + loc(1, 2, 3, 4) + "bus" + loc(5, 6), "<OD>", 640, 480),
                new Case("car" + loc(1, 2, 3, 4) + "bus<loc_5><loc_6><loc_7><loc_8", "<OD>", 640, 480),
                new Case("car<loc_><loc_2><loc_3><loc_4><loc_5>", "<OD>", 640, 480),
                new Case("car<loc_1><loc_2><loc_x><loc_4>" + loc(9, 9, 9, 9), "<OD>", 640, 480),
                new Case("x<b>car" + loc(1, 2, 3, 4), "<OD>", 640, 480),
                new Case("car" + loc(1234, 7, 0, 99999) + "van<loc_007><loc_0010><loc_3><loc_4>", "<OD>", 640, 480),
                new Case("TEXT" + loc(1, 2, 3, 4, 5, 6, 7), "<OCR_WITH_REGION>", 640, 480),
                new Case("TEXT" + loc(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), "<OCR_WITH_REGION>", 640, 480),
                new Case(loc(1, 2, 3, 4, 5, 6, 7, 8, 9), "<OCR_WITH_REGION>", 640, 480),
                // <OPEN_VOCABULARY_DETECTION> without <poly>: transformers.js throws; its <OD> parser is the one we apply
                new Case("</s>a green car" + loc(10, 20, 30, 40) + "</s>", "<OPEN_VOCABULARY_DETECTION>", 640, 480, "<OD>"),
                // pure-text tasks and free text
                new Case("</s><s>A cat on a mat.</s>", "<CAPTION>", 640, 480),
                new Case("</s>car" + loc(1, 2, 3, 4) + "</s>", "<OCR>", 640, 480),
                new Case("</s>free text answer</s>", "What is this?", 640, 480));
    }

    @Test
    void matchesTransformersJsPostProcessGeneration() throws Exception {
        ReferenceRunner.assumeInstalled();
        List<Case> cases = cases();
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode input = mapper.createArrayNode();
        for (Case c : cases) {
            input.addObject().put("text", c.text()).put("task", c.referenceTask()).put("width", c.width())
                    .put("height", c.height());
        }
        Path file = Files.createTempFile("moonbatch-florence2-regions", ".json");
        Files.writeString(file, mapper.writeValueAsString(input));
        JsonNode expected = ReferenceRunner.run("florence2-postprocess.mjs", "--model", BUNDLE.toString(),
                "--cases", file.toString());
        Files.delete(file);
        assertEquals(cases.size(), expected.size());

        Florence2Regions regions = Florence2Regions.from(Json.read(BUNDLE.resolve("preprocessor_config.json")));
        int withRegions = 0;
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            String what = "case " + i + " " + c.task() + " " + c.text();
            JsonNode ref = expected.get(i);
            assertFalse(ref.has("error"), () -> what + ": transformers.js threw " + ref.get("error"));
            Florence2Regions.Answer ours = regions.parse(c.text(), c.task(), c.width(), c.height());
            JsonNode answer = ref.get("answer");
            if (answer.isTextual()) {
                // pure text: transformers.js leaves the spaces, the runtime has always trimmed them
                assertEquals(answer.asText().strip(), ours.text(), what);
                assertEquals(List.of(), ours.regions(), what);
                continue;
            }
            JsonNode boxes = answer.has("quad_boxes") ? answer.get("quad_boxes") : answer.get("bboxes");
            JsonNode labels = answer.get("labels");
            assertEquals(labels.size(), ours.regions().size(), what);
            for (int r = 0; r < labels.size(); r++) {
                Region region = ours.regions().get(r);
                assertEquals(labels.get(r).asText(), region.label(), what + " label " + r);
                float[] want = new float[boxes.get(r).size()];
                for (int k = 0; k < want.length; k++) {
                    want[k] = (float) boxes.get(r).get(k).asDouble();
                }
                assertArrayEquals(want, region.box(), what + " box " + r);
                withRegions++;
            }
            assertFalse(ours.text().matches("(?s).*<loc_\\d+>.*"), what + ": " + ours.text());
        }
        assertTrue(withRegions >= 25, "regions compared: " + withRegions);
    }

    @Test
    void cleanedTextKeepsTheWordsAndDropsTheLocations() {
        Florence2Regions regions = new Florence2Regions(Florence2Regions.DEFAULT_TYPES);
        assertEquals("car person", regions.parse("</s><s>car" + loc(0, 0, 999, 999) + loc(1, 2, 3, 4) + "person "
                + loc(5, 6, 7, 8) + "</s>", "<OD>", 640, 480).text());
        assertEquals("HELLO WORLD 2", regions.parse("</s>HELLO" + loc(1, 2, 3, 4, 5, 6, 7, 8) + "WORLD 2"
                + loc(1, 2, 3, 4, 5, 6, 7, 8) + "</s>", "<OCR_WITH_REGION>", 640, 480).text());
        assertEquals("", regions.parse("</s>" + loc(0, 0, 10, 10) + loc(20, 20, 30, 30) + "</s>", "<REGION_PROPOSAL>",
                300, 200).text());
        // a cut-off location token is no location: it stays as the model wrote it
        assertEquals("car bus<loc_5", regions.parse("car" + loc(1, 2, 3, 4) + "bus<loc_5", "<OD>", 640, 480).text());
    }

    @Test
    void binsBecomeCentresOfTheirCellInTheOriginalImage() {
        Florence2Regions regions = new Florence2Regions(Florence2Regions.DEFAULT_TYPES);
        Region box = regions.parse("car" + loc(0, 0, 999, 999), "<OD>", 1000, 2000).regions().get(0);
        assertArrayEquals(new float[] {0.5f, 1f, 999.5f, 1999f}, box.box());
        Region quad = regions.parse("A" + loc(0, 999, 999, 0, 999, 999, 0, 0), "<OCR_WITH_REGION>", 2000, 1000)
                .regions().get(0);
        assertArrayEquals(new float[] {1f, 999.5f, 1999f, 0.5f, 1999f, 999.5f, 1f, 0.5f}, quad.box());
    }

    @Test
    void tasksTransformersJsDoesNotImplement() {
        Florence2Regions regions = new Florence2Regions(Florence2Regions.DEFAULT_TYPES);
        String polygon = "</s>a car<poly>" + loc(1, 2, 3, 4, 5, 6) + "</poly></s>";
        Florence2Regions.Answer ovd = regions.parse(polygon, "<OPEN_VOCABULARY_DETECTION>", 640, 480);
        assertEquals(List.of(), ovd.regions());
        assertEquals("a car<poly>" + loc(1, 2, 3, 4, 5, 6) + "</poly>", ovd.text());
        Florence2Regions.Answer segmentation = regions.parse("</s>" + loc(1, 2, 3, 4, 5, 6) + "</s>",
                "<REFERRING_EXPRESSION_SEGMENTATION>", 640, 480);
        assertEquals(List.of(), segmentation.regions());
        assertEquals(loc(1, 2, 3, 4, 5, 6), segmentation.text());
        // padding (Microsoft's parser drops it; our ids end at EOS, so this only guards)
        Florence2Regions.Answer padded = regions.parse("car" + loc(1, 2, 3, 4) + "</s><pad><pad>", "<OD>", 640, 480);
        assertEquals(List.of(new Region("car", new float[] {0.96f, 1.2f, 2.24f, 2.16f})), padded.regions());
        assertEquals("car", padded.text());
    }

    @Test
    void defaultMapIsTheExportsMap() {
        Map<String, String> exported = Florence2Regions.from(Json.read(BUNDLE.resolve("preprocessor_config.json")))
                .postProcessingTypes();
        assertEquals(exported, Florence2Regions.DEFAULT_TYPES);
        assertEquals(Florence2Regions.DEFAULT_TYPES,
                Florence2Regions.from(new ObjectMapper().createObjectNode()).postProcessingTypes());
    }

    @Test
    void taskTokenOfAPrompt() {
        Florence2Prompts prompts = Florence2Prompts.from(new ObjectMapper().createObjectNode());
        assertEquals("<OD>", prompts.taskToken("<OD>"));
        assertEquals("<CAPTION_TO_PHRASE_GROUNDING>", prompts.taskToken("<CAPTION_TO_PHRASE_GROUNDING>A dog and a frisbee"));
        assertEquals("<OPEN_VOCABULARY_DETECTION>", prompts.taskToken("<OPEN_VOCABULARY_DETECTION>green car"));
        assertEquals(null, prompts.taskToken("What is in the image?"));
    }

    /**
     * The family's path from generated ids to regions: the real tokenizer's decode keeps the location
     * tokens unspaced, the task token comes from the query's prompt, the size from the prepared image.
     */
    @Test
    void generatedIdsBecomeRegionsInTheImagesOwnSize() throws Exception {
        try (Florence2 model = (Florence2) ModelLoader.load(BUNDLE, RuntimeOptions.defaults());
             TextTokenizer tokenizer = TextTokenizer.load(BUNDLE)) {
            long[] answer = tokenizer.encode("</s><s>a green ball" + loc(0, 10, 500, 999) + loc(1, 2, 3, 4) + "</s>", false);
            GeneratedSequence sequence = new GeneratedSequence(answer, new float[answer.length],
                    Generation.FinishReason.EOS);
            Query od = new Query(model.prepare(new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB)),
                    new Task(Task.CAPTION, " <OD> "));
            Generation g = model.answer(od, sequence);
            assertEquals("a green ball", g.text());
            assertEquals(List.of(new Region("a green ball", new float[] {0.32f, 5.04f, 320.32f, 479.76f}),
                    new Region("a green ball", new float[] {0.96f, 1.2f, 2.24f, 2.16f})), g.regions());

            Generation caption = model.answer(new Query(od.image(), new Task(Task.CAPTION, "<CAPTION>")), sequence);
            assertEquals(List.of(), caption.regions());
            assertTrue(caption.text().contains("<loc_0>"), caption.text());
        }
    }
}
