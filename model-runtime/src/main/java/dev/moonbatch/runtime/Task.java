package dev.moonbatch.runtime;

/**
 * What to ask of an image. {@code name} is the task ({@code caption}, {@code query},
 * {@code ocr}); {@code prompt} is the text the family puts in front of the model, or empty where
 * the family takes none (vit-gpt2 captions unprompted). For decoder-only families the prompt is the user's text: a
 * caption request ("Can you describe this image?") or a question.
 */
public record Task(String name, String prompt) implements java.io.Serializable {
    public static final String CAPTION = "caption";
    public static final String QUERY = "query";
    /** Read the text in the image (Florence-2's {@code <OCR>}). */
    public static final String OCR = "ocr";

    public static Task caption() {
        return new Task(CAPTION, "");
    }
}
