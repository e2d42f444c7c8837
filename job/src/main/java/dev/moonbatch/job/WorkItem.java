package dev.moonbatch.job;

import java.io.Serializable;
import java.util.List;

/**
 * One image and the prompts to ask of it (one for captions and --prompt, several for --questions),
 * with the size and modification time the listing saw ({@link #UNKNOWN} for an image a questions
 * file names outside the listing: it is always read).
 */
public record WorkItem(String path, List<String> prompts, long size, long modifiedMs) implements Serializable {
    static final long UNKNOWN = -1;

    WorkItem(String path, List<String> prompts) {
        this(path, prompts, UNKNOWN, UNKNOWN);
    }
}
