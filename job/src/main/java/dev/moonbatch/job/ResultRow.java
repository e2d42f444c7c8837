package dev.moonbatch.job;

import dev.moonbatch.runtime.Region;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One row as an executor produces it: one image for one task and prompt. Exactly one of
 * {@code text} and {@code error} is set. The columns the driver derives afterwards (change against
 * the previous run, the review state) are in {@link OutputTable}; together they make the Parquet
 * schema and the CSV columns, in this order.
 *
 * @param fileSize      bytes, and
 * @param modifiedMs    modification time (ms since the epoch), as listed: a rerun that finds both equal
 *                      reuses the row without opening the file
 * @param options       the settings that shaped the text ({@link JobConfig#optionsKey()})
 * @param regions       the located answers of a region task (Florence-2 {@code <OD>}, …): label and box in
 *                      pixels of the image; for PP-OCR ({@code --task ocr}) its lines in reading order
 *                      (the OCR lines: text, 4-corner box, mean character probability as
 *                      {@code confidence}); null where there are none (every other task)
 * @param confidence    exp(mean log-probability of the generated tokens); null on error rows
 * @param minTokenProb  the lowest probability of a generated token; null on error rows
 * @param finishReason  {@code eos} or {@code length} (stopped by max-new-tokens); null on error rows
 * @param runId         the run that computed this row (earlier runs' rows are reused with their id)
 * @param imagePaths    a product's photos ({@code --group-by folder}, {@code --products}), in prompt order,
 *                      {@code imagePath} being the product id; null for a row of one image
 */
public record ResultRow(String imagePath, String contentSha256, Long fileSize, Long modifiedMs,
                        Integer width, Integer height,
                        String model, String task, String prompt, String options, String text,
                        List<Region> regions, Double confidence, Double minTokenProb, String finishReason, String error,
                        long latencyMs, String runId, List<String> imagePaths) {

    public static final String REGIONS = "regions";
    public static final String IMAGE_PATHS = "image_paths";
    /**
     * One region: {@code box} is [x1, y1, x2, y2], or the 8 corners of an OCR line's quadrilateral;
     * {@code confidence} a PP-OCR line's mean character probability, null where the family gives none.
     */
    public static final StructType REGION = new StructType()
            .add("label", DataTypes.StringType, true)
            .add("box", DataTypes.createArrayType(DataTypes.FloatType, true), true)
            .add("confidence", DataTypes.DoubleType, true);

    public static final StructType SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField("image_path", DataTypes.StringType, false),
            DataTypes.createStructField("content_sha256", DataTypes.StringType, true),
            DataTypes.createStructField("file_size", DataTypes.LongType, true),
            DataTypes.createStructField("modified_ms", DataTypes.LongType, true),
            DataTypes.createStructField("width", DataTypes.IntegerType, true),
            DataTypes.createStructField("height", DataTypes.IntegerType, true),
            DataTypes.createStructField("model", DataTypes.StringType, false),
            DataTypes.createStructField("task", DataTypes.StringType, false),
            DataTypes.createStructField("prompt", DataTypes.StringType, true),
            DataTypes.createStructField("options", DataTypes.StringType, false),
            DataTypes.createStructField("text", DataTypes.StringType, true),
            DataTypes.createStructField(REGIONS, DataTypes.createArrayType(REGION, true), true),
            DataTypes.createStructField("confidence", DataTypes.DoubleType, true),
            DataTypes.createStructField("min_token_prob", DataTypes.DoubleType, true),
            DataTypes.createStructField("finish_reason", DataTypes.StringType, true),
            DataTypes.createStructField("error", DataTypes.StringType, true),
            DataTypes.createStructField("latency_ms", DataTypes.LongType, false),
            DataTypes.createStructField("run_id", DataTypes.StringType, false),
            DataTypes.createStructField(IMAGE_PATHS, DataTypes.createArrayType(DataTypes.StringType, true), true),
    });

    /** A row of one image (not a product). */
    public ResultRow(String imagePath, String contentSha256, Long fileSize, Long modifiedMs, Integer width, Integer height,
                     String model, String task, String prompt, String options, String text, List<Region> regions,
                     Double confidence, Double minTokenProb, String finishReason, String error, long latencyMs, String runId) {
        this(imagePath, contentSha256, fileSize, modifiedMs, width, height, model, task, prompt, options, text, regions,
                confidence, minTokenProb, finishReason, error, latencyMs, runId, null);
    }

    public static List<String> columns() {
        return Arrays.asList(SCHEMA.fieldNames());
    }

    /** The values in schema order; regions as {@link Region}s (the checkpoints write them as JSON). */
    Object[] values() {
        return new Object[] {imagePath, contentSha256, fileSize, modifiedMs, width, height, model, task, prompt, options, text,
                regions, confidence, minTokenProb, finishReason, error, latencyMs, runId, imagePaths};
    }

    public Row toRow() {
        Object[] values = values();
        values[SCHEMA.fieldIndex(REGIONS)] = regions == null ? null : regions.stream()
                .map(r -> RowFactory.create(r.label(), boxed(r.box()), Double.isNaN(r.confidence()) ? null : r.confidence()))
                .toArray(Row[]::new);
        values[SCHEMA.fieldIndex(IMAGE_PATHS)] = imagePaths == null ? null : imagePaths.toArray(new String[0]);
        return RowFactory.create(values);
    }

    private static Float[] boxed(float[] box) {
        Float[] out = new Float[box.length];
        for (int i = 0; i < box.length; i++) {
            out[i] = box[i];
        }
        return out;
    }

    /** A Spark row as CSV cells, in schema order; nulls become empty cells. */
    public static List<String> cells(Row row) {
        List<String> cells = new ArrayList<>(row.length());
        for (int i = 0; i < row.length(); i++) {
            cells.add(row.isNullAt(i) ? null : String.valueOf(row.get(i)));
        }
        return cells;
    }
}
