package dev.moonbatch.job;

import io.delta.tables.DeltaTable;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * Where a run's results live and how a night writes them, in one of two formats:
 * <ul>
 * <li>{@code parquet} ({@code OUTPUT/results.parquet}, the default): the whole table is written aside
 *     and swapped in, so any Parquet reader (DuckDB, pandas, Spark) sees one consistent table, at
 *     the price of rewriting every row every night;</li>
 * <li>{@code delta} ({@code OUTPUT/results.delta}): a Delta Lake table. A night merges into it only
 *     the rows that differ from what it holds (deletion vectors mark the rows they replace), so it
 *     writes in proportion to what changed, and every earlier night stays queryable (time travel:
 *     {@code versionAsOf}, {@code timestampAsOf}). Readers need Delta: Spark with delta-spark,
 *     DuckDB's {@code delta} extension, delta-rs; a plain Parquet reader of the folder would also
 *     see replaced rows.</li>
 * </ul>
 * An output holds one of them; a run asking for the other format reads the old table, writes the
 * new one whole and removes the old.
 */
final class ResultsTable {
    static final String PARQUET_DIR = "results.parquet";
    static final String DELTA_DIR = "results.delta";
    /** Above this many data files a merge is followed by a compaction (OPTIMIZE), which also drops replaced rows for good. */
    static final int COMPACT_ABOVE_FILES = 64;

    enum Format {
        PARQUET(PARQUET_DIR), DELTA(DELTA_DIR);

        final String dir;

        Format(String dir) {
            this.dir = dir;
        }

        /** {@code --table-format}'s value, or one message naming the setting. */
        static Format parse(String value) {
            for (Format f : values()) {
                if (f.name().toLowerCase(Locale.ROOT).equals(value)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("--table-format: expected parquet or delta but got '" + value + "'");
        }
    }

    private ResultsTable() {
    }

    static Path path(Path output, Format format) {
        return new Path(output, format.dir);
    }

    /** The format the output's results are in, or null where it has none yet. */
    static Format stored(FileSystem fs, Path output) throws IOException {
        if (fs.exists(new Path(path(output, Format.DELTA), "_delta_log"))) {
            return Format.DELTA;
        }
        return fs.exists(path(output, Format.PARQUET)) ? Format.PARQUET : null;
    }

    /** The results as they are now ({@link OutputTable#SCHEMA}), or null where there are none. */
    static Dataset<Row> read(SparkSession spark, Path output) throws IOException {
        Format format = stored(output.getFileSystem(spark.sparkContext().hadoopConfiguration()), output);
        if (format == null) {
            return null;
        }
        String at = path(output, format).toString();
        Dataset<Row> rows = format == Format.DELTA ? spark.read().format("delta").load(at)
                : spark.read().schema(OutputTable.SCHEMA).parquet(at);
        return rows.select(EarlierRows.columns(OutputTable.SCHEMA));
    }

    /**
     * Writes {@code table} as the whole of the results in {@code format}: Parquet aside, then swapped
     * in; Delta as one commit over the table (a new version; the earlier ones stay readable). An old
     * table in the other format goes once the new one is in place.
     */
    static void replace(SparkSession spark, Path output, Format format, Dataset<Row> table, String runId) throws IOException {
        FileSystem fs = output.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Format before = stored(fs, output);
        Path target = path(output, format);
        if (format == Format.PARQUET) {
            Path staging = new Path(output, ".staging-" + runId);
            table.write().mode(SaveMode.Overwrite).parquet(staging.toString());
            HadoopFiles.swap(fs, staging, target);
        } else {
            table.select(EarlierRows.columns(OutputTable.SCHEMA)).write().format("delta").mode(SaveMode.Overwrite)
                    .option("overwriteSchema", "true").option("delta.enableDeletionVectors", "true")
                    .save(target.toString());
        }
        if (before != null && before != format) {
            fs.delete(path(output, before), true);
        }
    }

    /**
     * One night's changes merged into the Delta table: {@code upserts} (whole rows, {@link
     * OutputTable#SCHEMA}) replace the rows of their image, task and prompt or are added;
     * {@code deletes} (image_path, task, prompt; null for none) go. Rows of neither are not touched:
     * the night writes these rows, deletion vectors and a log entry, not the table.
     */
    static void merge(SparkSession spark, Path output, Dataset<Row> upserts, Dataset<Row> deletes) {
        Dataset<Row> source = upserts.select(EarlierRows.columns(OutputTable.SCHEMA)).withColumn("_delete", lit(false));
        if (deletes != null) {
            source = source.unionByName(deletes.select(col("image_path"), col("task"), col("prompt"))
                    .withColumn("_delete", lit(true)), true);
        }
        Map<String, String> set = new LinkedHashMap<>();
        for (String c : OutputTable.SCHEMA.fieldNames()) {
            set.put(c, "s.`" + c + "`");
        }
        Column key = col("t.image_path").equalTo(col("s.image_path")).and(col("t.task").equalTo(col("s.task")))
                .and(col("t.prompt").eqNullSafe(col("s.prompt")));
        DeltaTable table = DeltaTable.forPath(spark, path(output, Format.DELTA).toString());
        table.as("t").merge(source.as("s"), key)
                .whenMatched(col("s._delete")).delete()
                .whenMatched().updateExpr(set)
                .whenNotMatched(col("s._delete").equalTo(false)).insertExpr(set)
                .execute();
        long files = table.detail().select("numFiles").first().getLong(0);
        if (files > COMPACT_ABOVE_FILES) {
            table.optimize().executeCompaction();
        }
    }
}
