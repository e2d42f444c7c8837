package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rows saved as soon as each batch is done, under {@code OUTPUT/_checkpoints/RUN_ID/}, so that a
 * run whose driver dies loses at most the batches in flight: the next run reuses every row found
 * here. Each file is written aside and renamed, so a half-written one is never read. The folder
 * is removed when a run completes.
 */
public final class Checkpoints {
    public static final String DIR = "_checkpoints";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoints() {
    }

    public static Path root(String output) {
        return new Path(output, DIR);
    }

    /** Saves one batch's rows as JSON lines named by partition, batch and attempt. */
    public static void save(String output, String runId, int partition, int batch, int attempt,
                            List<ResultRow> rows, Configuration conf) throws IOException {
        Path dir = new Path(root(output), runId);
        String name = String.format(Locale.ROOT, "p%05d-b%05d-a%d.jsonl", partition, batch, attempt);
        Path tmp = new Path(dir, "." + name + ".tmp");
        FileSystem fs = dir.getFileSystem(conf);
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            for (ResultRow row : rows) {
                out.write(JSON.writeValueAsBytes(asMap(row)));
                out.write('\n');
            }
        }
        HadoopFiles.moveIntoPlace(fs, tmp, new Path(dir, name));
    }

    /** A row keyed by the output's column names, so Spark reads it back with the result schema. */
    private static Map<String, Object> asMap(ResultRow r) {
        Map<String, Object> m = new LinkedHashMap<>();
        Object[] values = r.values();
        List<String> columns = ResultRow.columns();
        for (int i = 0; i < values.length; i++) {
            m.put(columns.get(i), values[i]);
        }
        return m;
    }

    /**
     * Every row saved by any run's checkpoints. Read here rather than through Spark, whose file
     * listing skips folders starting with an underscore; checkpoints are small.
     */
    public static List<ResultRow> readAll(String output, Configuration conf) throws IOException {
        Path root = root(output);
        FileSystem fs = root.getFileSystem(conf);
        List<ResultRow> rows = new ArrayList<>();
        FileStatus[] files = fs.exists(root) ? fs.globStatus(new Path(root, "*/*.jsonl")) : null;
        if (files == null) {
            return rows;
        }
        for (FileStatus file : files) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(fs.open(file.getPath()), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (!line.isBlank()) {
                        rows.add(fromJson(JSON.readTree(line)));
                    }
                }
            }
        }
        return rows;
    }

    private static ResultRow fromJson(JsonNode n) {
        return new ResultRow(text(n, "image_path"), text(n, "content_sha256"), whole(n, "file_size"), whole(n, "modified_ms"),
                integer(n, "width"), integer(n, "height"),
                text(n, "model"), text(n, "task"), text(n, "prompt"), text(n, "options"), text(n, "text"),
                decimal(n, "confidence"), decimal(n, "min_token_prob"), text(n, "finish_reason"),
                text(n, "error"), n.path("latency_ms").asLong(), text(n, "run_id"));
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Integer integer(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asInt();
    }

    private static Long whole(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asLong();
    }

    private static Double decimal(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asDouble();
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
