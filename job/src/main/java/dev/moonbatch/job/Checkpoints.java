package dev.moonbatch.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rows saved as soon as each batch is done, under {@code OUTPUT/_checkpoints/RUN_ID/}, so that a
 * run whose driver dies loses at most the batches in flight: the next run reuses every row found
 * here. One file per task attempt (not per batch: many small files hurt HDFS and object stores),
 * appended batch by batch as JSON lines, each batch in one write and flushed; a reader skips a
 * torn last line. The folder is removed when a run completes. On object stores a file becomes
 * visible when its task ends (their streams publish on close), so there a dead driver loses the
 * tasks in flight rather than their batches.
 */
public final class Checkpoints {
    public static final String DIR = "_checkpoints";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoints() {
    }

    public static Path root(String output) {
        return new Path(output, DIR);
    }

    /** The one checkpoint file of a task attempt, opened at its first batch. */
    static final class Writer implements AutoCloseable {
        private final String output;
        private final String runId;
        private final String name;
        private final Configuration conf;
        private FSDataOutputStream out;

        Writer(String output, String runId, int partition, int stageAttempt, int attempt, Configuration conf) {
            this.output = output;
            this.runId = runId;
            this.name = String.format(Locale.ROOT, "p%05d-s%d-a%d.jsonl", partition, stageAttempt, attempt);
            this.conf = conf;
        }

        /** Appends one batch's rows and flushes them to the file system. */
        void append(List<ResultRow> rows) throws IOException {
            java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
            for (ResultRow row : rows) {
                batch.write(JSON.writeValueAsBytes(asMap(row)));
                batch.write('\n');
            }
            if (out == null) {
                Path file = new Path(new Path(root(output), runId), name);
                out = HadoopFiles.plain(file.getFileSystem(conf)).create(file, true);
            }
            out.write(batch.toByteArray());
            out.hflush();
        }

        @Override
        public void close() throws IOException {
            if (out != null) {
                out.close();
                out = null;
            }
        }
    }

    /** A row keyed by the output's column names, so Spark reads it back with the result schema. */
    private static Map<String, Object> asMap(ResultRow r) {
        Map<String, Object> m = new LinkedHashMap<>();
        Object[] values = r.values();
        List<String> columns = ResultRow.columns();
        for (int i = 0; i < values.length; i++) {
            m.put(columns.get(i), values[i]);
        }
        if (r.regions() != null) { // a region without a confidence (NaN) is a null, as in the Parquet
            m.put(ResultRow.REGIONS, r.regions().stream().map(g -> {
                Map<String, Object> region = new LinkedHashMap<>();
                region.put("label", g.label());
                region.put("box", g.box());
                region.put("confidence", Double.isNaN(g.confidence()) ? null : g.confidence());
                return region;
            }).toList());
        }
        return m;
    }

    /**
     * Every row saved by any run's checkpoints, read by Spark on the executors (never gathered on
     * the driver); null when there are none. A torn last line reads as a row of nulls, which every
     * use filters out (it has no content hash).
     */
    static Dataset<Row> table(SparkSession spark, String output) throws IOException {
        Path root = root(output);
        FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
        FileStatus[] files = fs.exists(root) ? fs.globStatus(new Path(root, "*/*.jsonl")) : null;
        if (files == null || files.length == 0) {
            return null;
        }
        String[] paths = java.util.Arrays.stream(files).map(f -> f.getPath().toString()).toArray(String[]::new);
        return spark.read().schema(ResultRow.SCHEMA).option("mode", "PERMISSIVE").json(paths);
    }

    public static void clear(String output, Configuration conf) throws IOException {
        Path root = root(output);
        root.getFileSystem(conf).delete(root, true);
    }

    /** How many checkpoint files a run has written so far (for tests and progress). */
    public static int count(String output, String runId, Configuration conf) throws IOException {
        Path dir = new Path(root(output), runId);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            return 0;
        }
        var found = fs.globStatus(new Path(dir, "*.jsonl"));
        return found == null ? 0 : found.length;
    }
}
