package dev.moonbatch.runtime;

import dev.moonbatch.runtime.generate.GenerationOptions;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The small surface the job uses: images + a task → text. Implementations are thread-safe
 * (ONNX Runtime sessions and the tokenizer are), so one instance serves every task of an executor.
 */
public interface VisionLanguageModel extends AutoCloseable {
    /** The model's name in output rows. */
    String name();

    /** Preprocessing of one image; throws on an image the family cannot take. */
    PreparedImage prepare(BufferedImage image);

    /** Generation options from the bundle's generation config with this token limit. */
    GenerationOptions options(int maxNewTokens);

    /** Runs a batch; one {@link Generation} per image, in order. */
    List<Generation> generate(List<PreparedImage> images, Task task, GenerationOptions options) throws Exception;

    @Override
    void close();
}
