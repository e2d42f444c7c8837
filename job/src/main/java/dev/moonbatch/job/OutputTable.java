package dev.moonbatch.job;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

/**
 * The output table ({@code results.parquet}, {@code results.csv}, {@code changes.csv}): the
 * executors' {@link ResultRow} columns, then what the driver derives from the previous run and the
 * review store. Deriving these here, in one place, is what keeps a nightly run and
 * {@code review --apply} from ever disagreeing about a row.
 */
final class OutputTable {
    static final String CHANGE = "change";
    static final String NEW = "new";
    static final String CHANGED = "changed";
    static final String UNCHANGED = "unchanged";
    static final String REMOVED = "removed";
    static final String REVIEW_STATUS = "review_status";
    static final String REVIEWED_TEXT = "reviewed_text";
    static final String FINAL_TEXT = "final_text";

    /** {@link ResultRow#SCHEMA} then change, review_status, reviewed_text, final_text. */
    static final StructType SCHEMA = ResultRow.SCHEMA
            .add(CHANGE, DataTypes.StringType, true)
            .add(REVIEW_STATUS, DataTypes.StringType, true)
            .add(REVIEWED_TEXT, DataTypes.StringType, true)
            .add(FINAL_TEXT, DataTypes.StringType, true);

    /** {@code removed.parquet}: rows of images gone from the input, with the run that found them gone. */
    static final String REMOVED_RUN_ID = "removed_run_id";
    static final StructType REMOVED_SCHEMA = SCHEMA.add(REMOVED_RUN_ID, DataTypes.StringType, true);

    private OutputTable() {
    }

    /**
     * The columns of results.csv and changes.csv for a table of single images: the schema's, without
     * {@code image_paths} (products only; {@link AttributeTable.Shape#columns} puts it back where a
     * table has products, and adds the {@code attr_<name>} columns).
     */
    static List<String> columns() {
        return Arrays.stream(SCHEMA.fieldNames()).filter(c -> !c.equals(ResultRow.IMAGE_PATHS)).toList();
    }

    /** The key columns a row is known by: image, task and prompt (null prompt = empty). */
    static Column sameKey(Dataset<Row> a, Dataset<Row> b) {
        return a.col("image_path").equalTo(b.col("image_path"))
                .and(a.col("task").equalTo(b.col("task")))
                .and(coalesce(a.col("prompt"), lit("")).equalTo(coalesce(b.col("prompt"), lit(""))));
    }

    /**
     * This run's rows ({@link ResultRow#SCHEMA}) with {@code change} against {@code earlier} (the
     * previous {@code results.parquet}, or null): {@code new} where it had no row for the image, task
     * and prompt; {@code unchanged} where content, options, text, regions and error are all as before (a
     * reused row); {@code changed} otherwise. Returns the {@link ResultRow} columns plus {@code change}.
     */
    static Dataset<Row> withChange(Dataset<Row> fresh, Dataset<Row> earlier) {
        if (earlier == null) {
            return fresh.withColumn(CHANGE, lit(NEW));
        }
        Dataset<Row> f = fresh.alias("f");
        Dataset<Row> e = earlier.select("image_path", "task", "prompt", "content_sha256", "options", "text", ResultRow.REGIONS, "error").alias("e");
        Column same = col("e.content_sha256").eqNullSafe(col("f.content_sha256"))
                .and(col("e.options").eqNullSafe(col("f.options")))
                .and(col("e.text").eqNullSafe(col("f.text")))
                .and(col("e." + ResultRow.REGIONS).eqNullSafe(col("f." + ResultRow.REGIONS)))
                .and(col("e.error").eqNullSafe(col("f.error")));
        Column change = when(col("e.image_path").isNull(), lit(NEW)).when(same, lit(UNCHANGED)).otherwise(lit(CHANGED));
        Column[] columns = new Column[ResultRow.SCHEMA.size() + 1];
        for (int i = 0; i < ResultRow.SCHEMA.size(); i++) {
            columns[i] = col("f." + ResultRow.SCHEMA.fieldNames()[i]);
        }
        columns[columns.length - 1] = change.as(CHANGE);
        return f.join(e, sameKey(f, e), "left_outer").select(columns);
    }

    /**
     * Rows with {@code change} given their review columns from the review store's latest decision
     * per image and prompt: the decision where the image's content is the one reviewed,
     * {@code stale} where it changed since; {@code final_text} is the reviewed text where approved or
     * edited, else the model's text. Returns {@link #SCHEMA}'s columns, then the {@code keep} ones.
     */
    static Dataset<Row> withReviews(Dataset<Row> rows, Dataset<Row> latestReviews, String... keep) {
        Dataset<Row> base = rows.select(baseColumns(rows, keep));
        Dataset<Row> b = base.alias("b");
        Dataset<Row> r = latestReviews.alias("r");
        Column key = col("b.image_path").equalTo(col("r.image_path"))
                .and(coalesce(col("b.prompt"), lit("")).equalTo(coalesce(col("r.prompt"), lit(""))));
        Column status = when(col("r.review_status").isNull(), lit(null).cast(DataTypes.StringType))
                .when(col("r.content_sha256").eqNullSafe(col("b.content_sha256")), col("r.review_status"))
                .otherwise(lit(ReviewStore.STALE));
        Dataset<Row> joined = b.join(r, key, "left_outer")
                .withColumn("_status", status)
                .withColumn("_reviewed", col("r.reviewed_text"));
        Column finalText = when(col("_status").isin(ReviewStore.APPROVED, ReviewStore.EDITED), col("_reviewed"))
                .otherwise(col("b.text"));
        Column[] out = new Column[SCHEMA.size() + keep.length];
        int n = ResultRow.SCHEMA.size();
        for (int i = 0; i < n; i++) {
            out[i] = col("b." + ResultRow.SCHEMA.fieldNames()[i]);
        }
        out[n] = col("b." + CHANGE);
        out[n + 1] = col("_status").as(REVIEW_STATUS);
        out[n + 2] = col("_reviewed").as(REVIEWED_TEXT);
        out[n + 3] = finalText.as(FINAL_TEXT);
        for (int i = 0; i < keep.length; i++) {
            out[SCHEMA.size() + i] = col("b." + keep[i]);
        }
        return joined.select(out);
    }

    /**
     * Of {@code stored} rows (whole {@link #SCHEMA} rows as the table holds them), given tonight's
     * {@code change}, those whose derived columns (change, review status, reviewed and final text)
     * now differ from what the table holds, with the new values: what a merge must rewrite of the
     * rows it otherwise leaves alone. Only rows whose change differs or that have a review are looked
     * at, so a night of few changes and reviews yields few rows.
     */
    static Dataset<Row> restamped(Dataset<Row> stored, Column change, Dataset<Row> latestReviews) {
        Dataset<Row> reviewed = latestReviews.select(col("image_path").as("_r_path"),
                coalesce(col("prompt"), lit("")).as("_r_prompt")).distinct();
        Column[] derived = {col(CHANGE), col(REVIEW_STATUS), col(REVIEWED_TEXT), col(FINAL_TEXT)};
        Dataset<Row> candidates = stored.withColumn("_was", struct(derived)).withColumn(CHANGE, change)
                .join(broadcast(reviewed), col("image_path").equalTo(col("_r_path"))
                        .and(coalesce(col("prompt"), lit("")).equalTo(col("_r_prompt"))), "left_outer")
                .filter(not(col(CHANGE).eqNullSafe(col("_was." + CHANGE))).or(col("_r_path").isNotNull()));
        return withReviews(candidates, latestReviews, "_was")
                .filter(not(struct(derived).eqNullSafe(col("_was")))).drop("_was");
    }

    private static Column[] baseColumns(Dataset<Row> rows, String... keep) {
        int n = ResultRow.SCHEMA.size();
        Column[] columns = new Column[n + 1 + keep.length];
        for (int i = 0; i < n; i++) {
            columns[i] = rows.col(ResultRow.SCHEMA.fieldNames()[i]);
        }
        columns[n] = rows.col(CHANGE);
        for (int i = 0; i < keep.length; i++) {
            columns[n + 1 + i] = rows.col(keep[i]);
        }
        return columns;
    }
}
