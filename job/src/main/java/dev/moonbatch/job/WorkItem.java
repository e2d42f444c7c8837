package dev.moonbatch.job;

import java.io.Serializable;
import java.util.List;

/**
 * One image and the prompts to ask of it (one for captions and --prompt, several for --questions or
 * --attributes), with the size and modification time the listing saw ({@link #UNKNOWN} for an image
 * a questions file names outside the listing: it is always read). A product ({@code --group-by folder},
 * {@code --products}) is one item too: {@code path} is its id, {@code members} its photos, and size and
 * time stand for all of them ({@link Products}).
 *
 * @param members a product's photos in prompt order; null for a single image
 */
public record WorkItem(String path, List<String> prompts, long size, long modifiedMs, List<String> members)
        implements Serializable {
    static final long UNKNOWN = -1;

    public WorkItem(String path, List<String> prompts, long size, long modifiedMs) {
        this(path, prompts, size, modifiedMs, null);
    }

    WorkItem(String path, List<String> prompts) {
        this(path, prompts, UNKNOWN, UNKNOWN);
    }

    boolean isProduct() {
        return members != null;
    }
}
