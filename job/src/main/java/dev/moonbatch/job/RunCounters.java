package dev.moonbatch.job;

import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;

/**
 * What the executors count for {@code summary.json} beyond the rows themselves: rows answered by
 * copying another file of the same content, and the bytes of image files read (0 for a night in
 * which nothing changed); and for the progress line, rows done and errors so far. Spark
 * accumulators: a retried task may count twice.
 */
record RunCounters(LongAccumulator deduplicated, LongAccumulator imageBytesRead, LongAccumulator rowsDone,
                   LongAccumulator errors) implements Serializable {
    static RunCounters create(SparkContext sc) {
        return new RunCounters(sc.longAccumulator("moonbatch.deduplicated"), sc.longAccumulator("moonbatch.imageBytesRead"),
                sc.longAccumulator("moonbatch.rowsDone"), sc.longAccumulator("moonbatch.errors"));
    }

    /** A finished batch's rows, for the progress line. */
    void addRows(java.util.List<ResultRow> rows) {
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
