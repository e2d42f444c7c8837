package dev.moonbatch.job;

import java.util.Map;

/**
 * What a run did; printed at the end and written as {@code OUTPUT/summary.json}.
 *
 * @param images       image files listed under the input
 * @param rows         rows of this run's task and prompt in the output (= images)
 * @param computed     rows the model computed in this run (including error rows)
 * @param inferenceFailed rows of this run whose inference failed ({@code INFERENCE_FAILED})
 * @param inferenceSucceeded rows of this run that got text
 * @param reused       rows carried over from earlier runs (same content, model and options)
 * @param deduplicated rows answered from another file of the same content in this run, without inference
 * @param removed      rows whose image is gone from the input since the last run (moved to removed.parquet)
 * @param changes      this run's rows by {@code change}: new, changed, unchanged, plus removed
 * @param errorsByKind error rows by kind (the text before the first colon of {@code error})
 * @param imageBytesRead bytes of image files read by this run (unchanged files are not opened)
 * @param driverPeakHeapMb peak heap of the driver JVM (in local mode also the executors')
 * @param devices      where each executor that ran the model ran it ({@code executor-id@host} → {@code cpu},
 *                     {@code cuda:N} or {@code cpu (fallback from cuda:N: why)}), decided on that executor
 * @param stageSeconds wall time per stage: list, process (model + Parquet), csv (CSVs and review page), total
 * @param csv          results.csv, or null when the results have more rows than --full-exports-max-rows
 * @param pace         the run's fixed cost and steady rate, or null when it computed nothing
 */
public record RunSummary(String runId, String model, String task, String prompt, String options,
                         long images, long rows, long captioned, long errors, long computed,
                         long inferenceFailed, long inferenceSucceeded, long reused,
                         long deduplicated, long removed, Map<String, Long> changes,
                         Map<String, Long> errorsByKind, long imageBytesRead, long driverPeakHeapMb,
                         Map<String, String> devices, Map<String, Double> stageSeconds,
                         double imagesPerSecond, String parquet, String csv, String changesCsv, String reviewPage,
                         Pace pace) {
    /**
     * Where a run's time went around the model work: seconds from the start to the first computed
     * batch's rows, seconds from the last batch's rows to the end (writing, exports), and rows per
     * second in between (after the first batch, which also pays the model load).
     */
    public record Pace(double firstRowSeconds, double afterLastRowSeconds, double steadyRowsPerSecond) {
    }

    /**
     * The model failed on every row it ran on in this run and no row got text: a broken model or a
     * precision variant that cannot run, not a few bad images. The CLI exits with {@code 3}.
     */
    public boolean everyInferenceFailed() {
        return inferenceFailed > 0 && inferenceSucceeded == 0;
    }
}
