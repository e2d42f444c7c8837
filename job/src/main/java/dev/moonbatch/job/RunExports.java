package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.io.CsvExport;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_json;

/**
 * What people open, written from the Parquet just committed (never from model work):
 * {@code results.csv} (every row, by path), {@code changes.csv} (the night's work: new, changed,
 * error and removed rows; errors first, then weakest first) and the review page. results.csv and
 * the page's rows.js are written in the same single pass over the table. Above
 * {@code --full-exports-max-rows} rows a night's exports follow what changed, not the catalogue:
 * no results.csv (a stale one is removed; results.parquet is the full table) and a page of
 * tonight's rows. Used by the nightly run
 * and by {@code review --apply}, so both leave the same files behind.
 */
final class RunExports {
    static final String RESULTS_CSV = "results.csv";
    static final String CHANGES_CSV = "changes.csv";
    static final String REMOVED = "removed.parquet";
    /** Default of {@code --full-exports-max-rows}: a page of this many rows still loads in about 1.5 s. */
    static final long FULL_EXPORTS_MAX_ROWS = 200_000;

    /** Where the files went, and how many rows changes.csv has. */
    record Written(String resultsCsv, String changesCsv, String reviewPage, long changes) {
    }

    private RunExports() {
    }

    static Written write(SparkSession spark, Path output, String runId, JsonNode summary, long fullExportsMaxRows)
            throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        FileSystem fs = output.getFileSystem(conf);
        // CSV cells are text: regions and a product's image_paths as JSON, e.g. [{"label":"car","box":[12.5,40.0,300.1,220.7]}]
        Column[] cols = java.util.Arrays.stream(OutputTable.SCHEMA.fieldNames())
                .map(c -> c.equals(ResultRow.REGIONS) || c.equals(ResultRow.IMAGE_PATHS) ? to_json(col(c)).as(c) : col(c))
                .toArray(Column[]::new);
        Dataset<Row> longRows = ResultsTable.read(spark, output);
        // attribute rows: one per image and attribute in the Parquet, one per image (attr_<name> columns) here
        AttributeTable.Shape shape = AttributeTable.shape(longRows);
        List<String> names = shape.names();
        writeLongForm(spark, fs, output, longRows, names);
        List<String> columns = shape.columns(OutputTable.columns());
        Column[] exported = columns.stream().map(c -> col(c)).toArray(Column[]::new);
        Dataset<Row> results = AttributeTable.wide(longRows.select(cols), names).select(exported);
        Dataset<Row> removed = AttributeTable.wide(removedBy(spark, output, runId).select(cols), names).select(exported);

        long tableRows = results.count();
        boolean full = tableRows <= fullExportsMaxRows;
        String resultsCsv = null;
        try (ReviewPage page = new ReviewPage(HadoopFiles.plain(fs), output, runId, summary, full, tableRows,
                names.stream().map(n -> Attribute.COLUMN_PREFIX + n).toList())) {
            if (full) {
                Iterator<Row> sorted = results.orderBy("image_path", "task", "prompt").toLocalIterator();
                resultsCsv = writeCsv(fs, output, RESULTS_CSV, columns, () -> new Iterator<>() {
                    public boolean hasNext() {
                        return sorted.hasNext();
                    }

                    public List<String> next() {
                        Row row = sorted.next();
                        try {
                            page.add(row, null);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        return ResultRow.cells(row);
                    }
                });
            } else {
                fs.delete(new Path(output, RESULTS_CSV), false); // stale: results.parquet is the full table
                for (Iterator<Row> it = results.filter(tonight(runId)).orderBy("image_path", "task", "prompt")
                        .toLocalIterator(); it.hasNext(); ) {
                    page.add(it.next(), null);
                }
            }
            for (Iterator<Row> it = removed.toLocalIterator(); it.hasNext(); ) {
                page.add(it.next(), OutputTable.REMOVED);
            }
        }

        Dataset<Row> changes = results.filter(tonight(runId)).unionByName(removed)
                .orderBy(col("error").isNull(), col("confidence").asc_nulls_last(), col("image_path"), col("prompt"));
        long[] count = {0};
        Iterator<Row> changed = changes.toLocalIterator();
        String changesCsv = writeCsv(fs, output, CHANGES_CSV, columns, () -> new Iterator<>() {
            public boolean hasNext() {
                return changed.hasNext();
            }

            public List<String> next() {
                count[0]++;
                return ResultRow.cells(changed.next());
            }
        });
        return new Written(resultsCsv, changesCsv, new Path(new Path(output, ReviewPage.DIR), "index.html").toString(),
                count[0]);
    }

    /**
     * {@code OUTPUT/attributes.parquet}, the long form of the attribute rows (image, attribute, value,
     * confidence, …), written aside and swapped in; removed when the results have no attribute rows.
     */
    private static void writeLongForm(SparkSession spark, FileSystem fs, Path output, Dataset<Row> rows, List<String> names)
            throws IOException {
        Path target = new Path(output, AttributeTable.LONG);
        if (names.isEmpty()) {
            fs.delete(target, true);
            return;
        }
        Path staging = new Path(output, ".staging-attributes");
        AttributeTable.longForm(rows).orderBy("image_path", "attribute").coalesce(1)
                .write().mode(org.apache.spark.sql.SaveMode.Overwrite).parquet(staging.toString());
        HadoopFiles.swap(fs, staging, target);
    }

    /** Tonight's rows: new or changed by run {@code runId}, or errors it computed. */
    static Column tonight(String runId) {
        return col(OutputTable.CHANGE).isin(OutputTable.NEW, OutputTable.CHANGED)
                .or(col("error").isNotNull().and(col("run_id").equalTo(lit(runId))));
    }

    /** The rows run {@code runId} found gone from the input (an empty table when none). */
    static Dataset<Row> removedBy(SparkSession spark, Path output, String runId) throws IOException {
        Path removed = new Path(output, REMOVED);
        if (!removed.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(removed)) {
            return spark.createDataFrame(List.of(), OutputTable.REMOVED_SCHEMA);
        }
        return spark.read().schema(OutputTable.REMOVED_SCHEMA).parquet(removed.toString())
                .filter(col(OutputTable.REMOVED_RUN_ID).equalTo(lit(runId)));
    }

    /** A CSV beside the Parquet, through a temp file and a rename, on any Hadoop FileSystem. */
    private static String writeCsv(FileSystem fs, Path output, String name, List<String> columns,
                                   Iterable<List<String>> cells) throws IOException {
        Path target = new Path(output, name);
        if ("file".equals(fs.getScheme())) {
            java.nio.file.Path local = java.nio.file.Path.of(target.toUri());
            CsvExport.write(local, columns, cells);
            return local.toString();
        }
        java.nio.file.Path tmp = Files.createTempFile("moonbatch-", ".csv");
        try {
            Files.delete(tmp);
            CsvExport.write(tmp, columns, cells);
            Path staged = new Path(output, "." + name + ".tmp");
            fs.copyFromLocalFile(false, true, new Path(tmp.toUri()), staged);
            HadoopFiles.moveIntoPlace(fs, staged, target);
            return target.toString();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
