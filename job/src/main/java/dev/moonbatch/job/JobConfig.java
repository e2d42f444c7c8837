package dev.moonbatch.job;

import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;

import java.io.Serializable;

/**
 * Everything one run needs, validated once on the driver and shipped to the executors.
 *
 * @param master         Spark master URL, or null to take it from spark-submit (local[*] otherwise)
 * @param partitions     0 = derived from the number of images and the cluster's parallelism
 * @param maxPixels      images larger than this (from the header) are refused before decoding
 */
public record JobConfig(String input, String output, String model, String master,
                        int batchSize, int maxNewTokens, int partitions,
                        long maxPixels, long maxFileBytes, Task task, RuntimeOptions runtime) implements Serializable {
}
