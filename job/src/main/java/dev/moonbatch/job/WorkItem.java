package dev.moonbatch.job;

import java.io.Serializable;
import java.util.List;

/** One image and the prompts to ask of it (one for captions and --prompt, several for --questions). */
public record WorkItem(String path, List<String> prompts) implements Serializable {
}
