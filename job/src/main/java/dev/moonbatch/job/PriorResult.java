package dev.moonbatch.job;

import java.io.Serializable;

/** What an earlier run computed for some content: enough to write its row again without the model. */
public record PriorResult(String sha256, String text, Integer width, Integer height, Double confidence,
                          Double minTokenProb, String finishReason, String runId) implements Serializable {
    static PriorResult of(ResultRow r) {
        return new PriorResult(r.contentSha256(), r.text(), r.width(), r.height(), r.confidence(), r.minTokenProb(),
                r.finishReason(), r.runId());
    }
}
