package dev.moonbatch.job;

import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Everything one run needs, validated once on the driver and shipped to the executors.
 *
 * @param master           Spark master URL, or null to take it from spark-submit (local[*] otherwise)
 * @param partitions       0 = derived from the number of images and the cluster's parallelism
 * @param maxPixels        images larger than this (from the header) are refused before decoding
 * @param modelFingerprint identifies the bundle's files, so a changed model is never mistaken for the old one
 * @param task             the task and, unless {@code questionsFile} is set, the one prompt asked of every image
 * @param questionsFile    CSV of {@code image_path,question} (several per image allowed), or null
 * @param search           beam search settings from the command line over the bundle's defaults
 * @param resume           reuse earlier successful rows with the same content and options
 * @param verifyContent    read and hash every file, even one whose path, size and modification time
 *                         match an earlier row (for stores whose modification times cannot be trusted)
 * @param fullExportsMaxRows results.csv and a review page of every row while the results have at most this
 *                         many rows; above it the page holds tonight's rows and no results.csv is written
 * @param budget           threads per inference, inference slots per executor, prefetch (set once Spark is up)
 * @param attributes       the {@code --attributes} fields asked of every image (task {@link Attribute#TASK}); empty for none
 * @param products         {@code --group-by folder} / {@code --products FILE}: one row per product; null for one row per image
 * @param tableFormat      how the results are stored: a Parquet folder rewritten each night, or a Delta table merged
 */
public record JobConfig(String input, String output, String model, String modelFingerprint, String master,
                        int batchSize, int maxNewTokens, int partitions,
                        long maxPixels, long maxFileBytes, Task task, String questionsFile,
                        GenerationOverrides search, RuntimeOptions runtime,
                        boolean resume, boolean verifyContent, long fullExportsMaxRows, String runId,
                        ThreadBudget budget, List<Attribute> attributes, Products products,
                        ResultsTable.Format tableFormat)
        implements Serializable {

    public JobConfig {
        attributes = attributes == null ? List.of() : List.copyOf(attributes);
        tableFormat = tableFormat == null ? ResultsTable.Format.PARQUET : tableFormat;
        budget = budget == null ? ThreadBudget.derive(Math.max(1, runtime.intraOpThreads()), 1, runtime.intraOpThreads(), false)
                : budget;
    }

    /**
     * The settings that change what the model writes; a row is reused only when they are equal.
     * Batch size and threads are left out: they change speed, not text. SmolVLM's image splitting is in
     * when changed from the bundle's (so the keys of earlier runs stay as they were). The precision is the resolved
     * per-file choice ({@code fp16}, or {@code decoder_model_merged=q4f16,embed_tokens=fp16,…} when files differ).
     */
    public String optionsKey() {
        return String.format(Locale.ROOT, "model=%s;precision=%s;max_new_tokens=%d%s%s", modelFingerprint,
                runtime.precision().key(), maxNewTokens, search.key(), runtime.image().key());
    }

    /** The same run writing to {@code qualifiedOutput} (what executors get: a fully qualified path). */
    public JobConfig withOutput(String qualifiedOutput) {
        return new JobConfig(input, qualifiedOutput, model, modelFingerprint, master, batchSize, maxNewTokens, partitions,
                maxPixels, maxFileBytes, task, questionsFile, search, runtime, resume, verifyContent, fullExportsMaxRows, runId,
                budget, attributes, products, tableFormat);
    }

    public JobConfig withRuntime(RuntimeOptions newRuntime) {
        return new JobConfig(input, output, model, modelFingerprint, master, batchSize, maxNewTokens, partitions,
                maxPixels, maxFileBytes, task, questionsFile, search, newRuntime, resume, verifyContent, fullExportsMaxRows, runId,
                budget, attributes, products, tableFormat);
    }

    /** The same run with this executor thread budget (threads per inference, inference slots, prefetch). */
    public JobConfig withBudget(ThreadBudget newBudget) {
        return new JobConfig(input, output, model, modelFingerprint, master, batchSize, maxNewTokens, partitions,
                maxPixels, maxFileBytes, task, questionsFile, search, runtime, resume, verifyContent, fullExportsMaxRows, runId,
                newBudget, attributes, products, tableFormat);
    }

    /** Whether the work is built on the driver (--questions joins its CSV there, products are grouped there). */
    public boolean workOnDriver() {
        return questionsFile != null || products != null;
    }

    /** The prompts asked of every listed image: each attribute's key, else the task's one prompt. */
    public List<String> prompts() {
        return attributes.isEmpty() ? List.of(task.prompt()) : attributes.stream().map(Attribute::key).toList();
    }

    /** The attributes by their row prompt ({@link Attribute#key()}). */
    public Map<String, Attribute> attributesByKey() {
        return attributes.stream().collect(Collectors.toMap(Attribute::key, Function.identity()));
    }
}
