package dev.moonbatch.job;

import java.io.Serializable;

/** What an earlier run computed for some content: enough to write its row again without the model. */
public record PriorResult(String text, Integer width, Integer height, String runId) implements Serializable {
}
