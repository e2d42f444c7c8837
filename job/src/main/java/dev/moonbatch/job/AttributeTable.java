package dev.moonbatch.job;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.collect_set;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map_from_entries;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.substring_index;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * The wide form of attribute rows, derived at export from the long rows that {@code results.parquet}
 * keeps (one per image and attribute, task {@link Attribute#TASK}, prompt {@link Attribute#key()}):
 * one row per image with a column {@code attr_<name>} per attribute, placed after {@code text}.
 * The wide row's confidence is its weakest attribute's, its error lists the attributes that failed
 * ({@code colour: INFERENCE_FAILED: …}), its change is the strongest of its attributes' (new, then
 * changed, then unchanged). Rows of other tasks pass through with empty {@code attr_} cells; a table
 * without attribute rows keeps exactly the columns it had.
 */
final class AttributeTable {
    /** The long form, {@code OUTPUT/attributes.parquet}: image, attribute, value, confidence. */
    static final String LONG = "attributes.parquet";

    private AttributeTable() {
    }

    /**
     * What the exports of a table show beyond its fixed columns, from one pass over it.
     *
     * @param names    the attribute names in the rows (sorted): the wide columns without their prefix
     * @param products whether any row is a product's (then {@code image_paths} is shown, after {@code image_path})
     */
    record Shape(List<String> names, boolean products) {
        /** {@code columns} as exported: {@code image_paths} after {@code image_path} or left out, {@code attr_<name>} after {@code text}. */
        List<String> columns(List<String> columns) {
            List<String> out = new ArrayList<>();
            for (String c : columns) {
                if (c.equals(ResultRow.IMAGE_PATHS)) {
                    continue; // placed after image_path, or left out
                }
                out.add(c);
                if (c.equals("image_path") && products) {
                    out.add(ResultRow.IMAGE_PATHS);
                }
                if (c.equals("text")) {
                    names.forEach(n -> out.add(Attribute.COLUMN_PREFIX + n));
                }
            }
            return out;
        }
    }

    static Shape shape(Dataset<Row> rows) {
        List<String> names = new ArrayList<>();
        boolean products = false;
        for (Row r : rows.select(when(col("task").equalTo(lit(Attribute.TASK)), substring_index(col("prompt"), ": ", 1)).as("n"),
                col(ResultRow.IMAGE_PATHS).isNotNull().as("p")).distinct().collectAsList()) {
            if (!r.isNullAt(0) && !names.contains(r.getString(0))) {
                names.add(r.getString(0));
            }
            products |= r.getBoolean(1);
        }
        java.util.Collections.sort(names);
        return new Shape(List.copyOf(names), products);
    }

    /** {@code columns} with one {@code attr_<name>} column per name after {@code text}. */
    static List<String> columns(List<String> columns, List<String> names) {
        List<String> out = new ArrayList<>();
        for (String c : columns) {
            out.add(c);
            if (c.equals("text")) {
                names.forEach(n -> out.add(Attribute.COLUMN_PREFIX + n));
            }
        }
        return out;
    }

    /** The rows in wide form, columns {@link #columns}{@code (rows' columns, names)}; {@code rows} itself when names is empty. */
    static Dataset<Row> wide(Dataset<Row> rows, List<String> names) {
        if (names.isEmpty()) {
            return rows;
        }
        String[] have = rows.columns();
        List<String> out = columns(List.of(have), names);
        Dataset<Row> attributes = rows.filter(col("task").equalTo(lit(Attribute.TASK)))
                .withColumn("_name", substring_index(col("prompt"), ": ", 1));
        Column rank = when(col(OutputTable.CHANGE).equalTo(lit(OutputTable.NEW)), 3)
                .when(col(OutputTable.CHANGE).equalTo(lit(OutputTable.CHANGED)), 2)
                .when(col(OutputTable.CHANGE).equalTo(lit(OutputTable.REMOVED)), 1).otherwise(0);
        List<Column> aggs = new ArrayList<>();
        for (String c : have) {
            switch (c) {
                case "image_path" -> { }
                case "prompt", "text", "regions", "finish_reason", "review_status", "reviewed_text", "final_text" ->
                        aggs.add(lit(null).cast(rows.schema().apply(c).dataType()).as(c));
                case "confidence", "min_token_prob" -> aggs.add(min(col(c)).as(c));
                case "latency_ms" -> aggs.add(sum(col(c)).as(c));
                case "run_id" -> aggs.add(max(col(c)).as(c));
                case "error" -> {
                    // one error for an image that failed as a whole; else the attributes that failed, named
                    aggs.add(concat_ws("; ", collect_list(when(col("error").isNotNull(),
                            concat(col("_name"), lit(": "), col("error"))))).as(c));
                    aggs.add(collect_set(col("error")).as("_errors"));
                    aggs.add(count(col("error")).as("_failed"));
                    aggs.add(count(lit(1)).as("_all"));
                }
                case OutputTable.CHANGE -> aggs.add(max(rank).as("_rank"));
                default -> aggs.add(first(col(c), true).as(c));
            }
        }
        aggs.add(map_from_entries(collect_list(struct(col("_name"), col("text")))).as("_values"));
        Dataset<Row> grouped = attributes.groupBy(col("image_path"))
                .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new));
        if (List.of(have).contains(OutputTable.CHANGE)) {
            grouped = grouped.withColumn(OutputTable.CHANGE, when(col("_rank").equalTo(3), lit(OutputTable.NEW))
                    .when(col("_rank").equalTo(2), lit(OutputTable.CHANGED))
                    .when(col("_rank").equalTo(1), lit(OutputTable.REMOVED)).otherwise(lit(OutputTable.UNCHANGED)));
        }
        grouped = grouped.withColumn("error", when(col("error").equalTo(lit("")), lit(null).cast(DataTypes.StringType))
                        .when(col("_failed").equalTo(col("_all")).and(size(col("_errors")).equalTo(1)),
                                element_at(col("_errors"), 1))
                        .otherwise(col("error")))
                .withColumn("task", lit(Attribute.TASK));
        for (String n : names) {
            grouped = grouped.withColumn(Attribute.COLUMN_PREFIX + n, element_at(col("_values"), lit(n)));
        }
        Dataset<Row> others = rows.filter(col("task").notEqual(lit(Attribute.TASK)));
        for (String n : names) {
            others = others.withColumn(Attribute.COLUMN_PREFIX + n, lit(null).cast(DataTypes.StringType));
        }
        Column[] select = out.stream().map(c -> col(c)).toArray(Column[]::new);
        return others.select(select).unionByName(grouped.select(select));
    }

    /** The long form of the attribute rows: image_path, attribute, value, confidence, and where they came from. */
    static Dataset<Row> longForm(Dataset<Row> rows) {
        return rows.filter(col("task").equalTo(lit(Attribute.TASK))).select(col("image_path"),
                substring_index(col("prompt"), ": ", 1).as("attribute"), col("text").as("value"), col("confidence"),
                col("prompt"), col("content_sha256"), col("finish_reason"), col("error"), col("run_id"));
    }
}
