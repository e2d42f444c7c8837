package dev.moonbatch.runtime;

import dev.moonbatch.runtime.generate.GenerationOptions;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The small surface the job uses: images + tasks → text. Implementations are thread-safe
 * (ONNX Runtime sessions and the tokenizer are), so one instance serves every task of an executor.
 */
public interface VisionLanguageModel extends AutoCloseable {
    /** The model's name in output rows. */
    String name();

    /** The family's label, e.g. {@code vit-gpt2}, {@code smolvlm}: the key of its prompts in {@code conf/prompts.properties}. */
    String family();

    /** Preprocessing of one image; throws on an image the family cannot take. */
    PreparedImage prepare(BufferedImage image);

    /**
     * Preprocessing of several photos of one thing (a product) for one prompt that shows them all; only
     * a family whose export has a multi-image prompt takes more than one ({@link #takesSeveralImages}).
     */
    default PreparedImage prepare(List<BufferedImage> images) {
        if (images.size() == 1) {
            return prepare(images.get(0));
        }
        throw new UnsupportedOperationException(family() + " has no prompt that shows several images");
    }

    /** Whether {@link #prepare(List)} takes more than one image. */
    default boolean takesSeveralImages() {
        return false;
    }

    /**
     * Scores each query's choices as answers to its question (teacher-forced, no generation); one
     * {@link ChoiceScores} per query, in order. Each distinct image among them is vision-encoded once.
     * Families that cannot score choices throw {@link UnsupportedOperationException}.
     */
    default List<ChoiceScores> score(List<ChoiceQuery> queries) throws Exception {
        throw new UnsupportedOperationException(family() + " cannot score closed choices");
    }

    /** Generation options from the bundle's generation config with this token limit. */
    GenerationOptions options(int maxNewTokens);

    /**
     * Runs a batch of queries; one {@link Generation} per query, in order. Each distinct image
     * among them is vision-encoded once.
     */
    List<Generation> generate(List<Query> queries, GenerationOptions options) throws Exception;

    /**
     * Images vision-encoded by this instance so far: each distinct image of a call counts once, and
     * families that take prompts do not encode again the image (the same {@link PreparedImage}) that
     * the previous call encoded, so questions asked one call at a time encode their image once.
     */
    long imagesEncoded();

    @Override
    void close();
}
