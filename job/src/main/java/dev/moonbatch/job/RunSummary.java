package dev.moonbatch.job;

import java.util.Map;

/**
 * What a run did, for the console and (later) {@code summary.json}.
 *
 * @param errorsByKind error rows by kind (the text before the first colon of {@code error})
 */
public record RunSummary(long images, long rows, long captioned, long errors, Map<String, Long> errorsByKind,
                         double wallSeconds, String parquet, String csv) {
    public double imagesPerSecond() {
        return wallSeconds > 0 ? images / wallSeconds : 0;
    }
}
