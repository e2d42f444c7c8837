package dev.moonbatch.job;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

/**
 * What becomes of the earlier {@code results.parquet} rows that this run does not write anew:
 * they stay ({@code unchanged}), or, for this task's rows of images gone from the input, move to
 * {@code removed.parquet}. A row of an attribute edited or dropped from {@code --attributes} is
 * superseded and goes.
 */
final class EarlierRows {
    /**
     * @param kept    earlier rows that stay, in {@link OutputTable} order up to {@code change}
     * @param carried the same rows as the table holds them (every {@link OutputTable#SCHEMA} column), or
     *                null ({@link #byJoin})
     * @param removed earlier rows of images gone from the input, with their review columns, in
     *                {@link OutputTable#REMOVED_SCHEMA}; null when none
     * @param leaving the keys (image_path, task, prompt) of the earlier rows that leave the table: the
     *                removed ones and those of attributes edited or dropped; null when none or ({@link #byJoin})
     * @param cached  what was cached to derive them (released after the write), or null
     */
    record Split(Dataset<Row> kept, Dataset<Row> carried, Dataset<Row> removed, Dataset<Row> leaving,
                 Dataset<Row> cached) {
        void release() {
            if (cached != null) {
                cached.unpersist();
            }
        }
    }

    private EarlierRows() {
    }

    /**
     * With a {@link ReusePlan}: the earlier table streams past the few keys this run replaces and
     * the few images gone (both broadcast on a night of few changes), so the carried rows, nearly
     * all of a nightly table, are never shuffled; only the paths meet the listing in a join.
     */
    static Split byKeys(Dataset<Row> earlier, ReusePlan.Plan plan, Dataset<Row> listing, Dataset<Row> workTable,
                        JobConfig config) {
        Dataset<Row> present = present(listing, workTable, config);
        Dataset<Row> gone = earlier.filter(col("task").equalTo(lit(config.task().name())))
                .select(col("image_path").as("g_path"))
                .join(present, col("g_path").equalTo(present.col("p_path")), "left_anti")
                .distinct().persist(StorageLevel.MEMORY_AND_DISK());
        long goneImages = gone.count();
        Dataset<Row> g = goneImages <= ReusePlan.BROADCAST_KEYS_MAX ? broadcast(gone) : gone;
        Dataset<Row> notReplaced = plan.notReplaced(earlier);
        Dataset<Row> kept = goneImages == 0 ? notReplaced
                : notReplaced.join(g, isGone(notReplaced, g, config), "left_anti");
        Dataset<Row> removed = goneImages == 0 ? null
                : removed(superseding(earlier.join(g, isGone(earlier, g, config), "left_semi"), config), config);
        Dataset<Row> carried = superseding(kept, config);
        Dataset<Row> leaving = removed == null ? null : keys(removed);
        if (!config.attributes().isEmpty()) {
            Dataset<Row> superseded = keys(notReplaced.filter(isSuperseded(config)));
            leaving = leaving == null ? superseded : leaving.unionByName(superseded);
        }
        return new Split(unchanged(carried), carried, removed, leaving, gone);
    }

    /**
     * Without a plan (no earlier rows to reuse, or a run that reuses none): one join of the
     * earlier rows with the listing says what this run replaces and what is gone.
     */
    static Split byJoin(Dataset<Row> earlier, Dataset<Row> listing, Dataset<Row> workTable, Dataset<Row> runKeys,
                        JobConfig config) {
        Dataset<Row> flagged;
        if (!config.workOnDriver()) {
            // one prompt (or one per attribute) for every listed image: listed rows of this run's
            // task and prompts are replaced
            Dataset<Row> present = listing.select(col("path").as("p_path"));
            flagged = earlier.join(present, earlier.col("image_path").equalTo(present.col("p_path")), "left_outer")
                    .filter(not(col("p_path").isNotNull().and(thisRunsRows(config))));
        } else {
            Dataset<Row> notMine = earlier.join(runKeys, earlier.col("image_path").equalTo(runKeys.col("k_path"))
                    .and(earlier.col("task").equalTo(runKeys.col("k_task")))
                    .and(earlier.col("prompt").eqNullSafe(runKeys.col("k_prompt"))), "left_anti");
            Dataset<Row> present = present(listing, workTable, config);
            flagged = notMine.join(present, notMine.col("image_path").equalTo(present.col("p_path")), "left_outer");
        }
        flagged = superseding(flagged, config)
                .withColumn("_gone", col("task").equalTo(lit(config.task().name())).and(col("p_path").isNull()));
        Dataset<Row> kept = unchanged(flagged.filter(col("_gone").equalTo(false)));
        return new Split(kept, null, removed(flagged.filter(col("_gone")), config), null, null);
    }

    /** Rows of this run's task and prompts (one, or one per attribute): with no --questions, every listed image has them. */
    static Column thisRunsRows(JobConfig config) {
        if (!config.attributes().isEmpty()) {
            return col("task").equalTo(lit(config.task().name())).and(col("prompt").isin(config.prompts().toArray()));
        }
        return col("task").equalTo(lit(config.task().name())).and(col("prompt").eqNullSafe(lit(config.task().prompt())));
    }

    static Column[] columns(StructType schema) {
        String[] names = schema.fieldNames();
        Column[] cols = new Column[names.length];
        for (int i = 0; i < names.length; i++) {
            cols[i] = col(names[i]);
        }
        return cols;
    }

    /** The images a row may keep: listed, or named by a question (which gets its row, an error if unreadable). */
    private static Dataset<Row> present(Dataset<Row> listing, Dataset<Row> workTable, JobConfig config) {
        Dataset<Row> listed = listing.select(col("path").as("p_path"));
        return config.workOnDriver() ? listed.union(workTable.select(col("path").as("p_path"))).distinct() : listed;
    }

    private static Column isGone(Dataset<Row> rows, Dataset<Row> gone, JobConfig config) {
        return rows.col("task").equalTo(lit(config.task().name())).and(rows.col("image_path").equalTo(gone.col("g_path")));
    }

    /** An attribute edited or dropped from the file: its earlier rows are superseded, not kept. */
    private static Dataset<Row> superseding(Dataset<Row> rows, JobConfig config) {
        return config.attributes().isEmpty() ? rows : rows.filter(not(isSuperseded(config)));
    }

    private static Column isSuperseded(JobConfig config) {
        return col("task").equalTo(lit(Attribute.TASK)).and(not(col("prompt").isin(config.prompts().toArray())));
    }

    private static Dataset<Row> keys(Dataset<Row> rows) {
        return rows.select(col("image_path"), col("task"), col("prompt"));
    }

    private static Dataset<Row> unchanged(Dataset<Row> rows) {
        return rows.select(columns(ResultRow.SCHEMA)).withColumn(OutputTable.CHANGE, lit(OutputTable.UNCHANGED));
    }

    private static Dataset<Row> removed(Dataset<Row> rows, JobConfig config) {
        return rows.withColumn(OutputTable.CHANGE, lit(OutputTable.REMOVED))
                .withColumn(OutputTable.REMOVED_RUN_ID, lit(config.runId()))
                .select(columns(OutputTable.REMOVED_SCHEMA));
    }
}
