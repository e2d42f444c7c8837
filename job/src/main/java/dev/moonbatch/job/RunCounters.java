package dev.moonbatch.job;

import org.apache.spark.SparkContext;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;

/**
 * What the executors count for {@code summary.json} beyond the rows themselves: rows answered by
 * copying another file of the same content, and the bytes of image files read (0 for a night in
 * which nothing changed); the device each executor ran the model on; and for the progress line,
 * rows done and errors so far; when the first and last batches finished ({@link BatchTimes}). Spark
 * accumulators: a retried task may count twice.
 */
record RunCounters(LongAccumulator deduplicated, LongAccumulator imageBytesRead, LongAccumulator rowsDone,
                   LongAccumulator errors, CollectionAccumulator<String> devices, BatchTimes batchTimes)
        implements Serializable {
    static RunCounters create(SparkContext sc) {
        BatchTimes times = new BatchTimes();
        sc.register(times, "moonbatch.batchTimes");
        return new RunCounters(sc.longAccumulator("moonbatch.deduplicated"), sc.longAccumulator("moonbatch.imageBytesRead"),
                sc.longAccumulator("moonbatch.rowsDone"), sc.longAccumulator("moonbatch.errors"),
                sc.collectionAccumulator("moonbatch.devices"), times);
    }

    /** Where this task's executor ran the model ({@code executor id} → placement label), once per task. */
    void addDevice(String executor, String placement) {
        devices.add(executor + "\t" + placement);
    }

    /** Executor → device, over every task that ran the model (in local mode one entry, {@code driver}). */
    java.util.SortedMap<String, String> devicesByExecutor() {
        java.util.SortedMap<String, String> out = new java.util.TreeMap<>();
        for (String entry : devices.value()) {
            int tab = entry.indexOf('\t');
            out.put(entry.substring(0, tab), entry.substring(tab + 1));
        }
        return out;
    }

    /** A finished batch's rows, for the progress line. */
    void addRows(java.util.List<ResultRow> rows) {
        batchTimes.batch(rows.size());
        rowsDone.add(rows.size());
        errors.add(rows.stream().filter(r -> r.error() != null).count());
    }

    void addDeduplicated() {
        deduplicated.add(1);
    }

    void addBytesRead(long bytes) {
        imageBytesRead.add(bytes);
    }
}
