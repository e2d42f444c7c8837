package dev.moonbatch.job;

import dev.moonbatch.runtime.Region;
import org.apache.commons.csv.CSVRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code regions} column of Florence-2's region tasks ({@code --prompt "<OD>"}): its type in
 * results.parquet, its JSON in results.csv, and that a rerun carries it like the text. The test
 * bundle was trained on captions and OCR only, so its {@code <OD>} answers have no locations; the
 * carried value is set by hand between the two nights, as an OD model would have left it.
 */
class Florence2RegionsJobTest {
    private static final Path BUNDLE = TestPaths.root().resolve("sample-data/models/florence2-tiny");

    @TempDir
    Path dir;

    private CliRun night(Path input, Path output) {
        return CliRun.of("--input", input.toString(), "--output", output.toString(), "--model", BUNDLE.toString(),
                "--master", "local[1]", "--prompt", "<OD>", "--max-new-tokens", "12");
    }

    @Test
    void odRowsHaveARegionsColumnThatRerunsCarry() throws Exception {
        Path input = dir.resolve("in");
        Files.createDirectories(input);
        try (Stream<Path> s = Files.list(TestPaths.root().resolve("sample-data/heldout-florence2/images/caption"))) {
            for (Path p : s.sorted().limit(3).toList()) {
                Files.copy(p, input.resolve(p.getFileName()));
            }
        }
        Path output = dir.resolve("out");
        CliRun first = night(input, output);
        assertEquals(0, first.exitCode(), first.err());

        Path results = output.resolve(CaptionJob.PARQUET);
        String doctored;
        try (SparkSession spark = SparkSessions.create("local[1]")) {
            Dataset<Row> table = spark.read().parquet(results.toString());
            assertEquals(DataTypes.createArrayType(ResultRow.REGION, true),
                    table.schema().apply(ResultRow.REGIONS).dataType());
            List<Row> rows = table.collectAsList();
            assertEquals(3, rows.size());
            for (Row r : rows) {
                assertTrue(r.isNullAt(r.fieldIndex("error")), (String) r.getAs("error"));
                assertEquals("<OD>", r.getAs("prompt"));
                String text = r.getAs("text");
                assertFalse(text.contains("<loc_"), text);
                // this bundle answers <OD> with a caption: no locations, so no regions
                assertTrue(r.isNullAt(r.fieldIndex(ResultRow.REGIONS)), text);
            }
            // what an OD model would have found in the first image
            doctored = rows.get(0).getAs("image_path");
            Dataset<Row> withRegions = table.withColumn(ResultRow.REGIONS,
                    when(col("image_path").equalTo(lit(doctored)), array(
                            struct(lit("ball").as("label"), array(lit(1.5f), lit(2.25f), lit(60.5f), lit(70f)).as("box"),
                                    lit(null).cast("double").as("confidence")),
                            struct(lit("sign").as("label"), array(lit(0f), lit(0f), lit(9f), lit(0f), lit(9f), lit(9f),
                                    lit(0f), lit(9f)).as("box"), lit(null).cast("double").as("confidence"))))
                            .otherwise(col(ResultRow.REGIONS)).cast(ResultRow.SCHEMA.apply(ResultRow.REGIONS).dataType()));
            Path rewritten = dir.resolve("rewritten.parquet");
            withRegions.write().parquet(rewritten.toString());
            deleteTree(results);
            Files.move(rewritten, results);
        }

        CliRun second = night(input, output);
        assertEquals(0, second.exitCode(), second.err());
        try (SparkSession spark = SparkSessions.create("local[1]")) {
            for (Row r : spark.read().parquet(results.toString()).collectAsList()) {
                assertEquals(OutputTable.UNCHANGED, r.getAs(OutputTable.CHANGE), (String) r.getAs("image_path"));
                if (!doctored.equals(r.getAs("image_path"))) {
                    assertTrue(r.isNullAt(r.fieldIndex(ResultRow.REGIONS)));
                    continue;
                }
                List<Row> regions = r.getList(r.fieldIndex(ResultRow.REGIONS));
                assertEquals(2, regions.size());
                assertEquals("ball", regions.get(0).getAs("label"));
                assertEquals(List.of(1.5f, 2.25f, 60.5f, 70f), regions.get(0).getList(1));
                assertEquals("sign", regions.get(1).getAs("label"));
                assertEquals(8, regions.get(1).getList(1).size());
            }
        }
        for (CSVRecord r : CliRun.csv(output)) {
            String want = doctored.equals(r.get("image_path"))
                    ? "[{\"label\":\"ball\",\"box\":[1.5,2.25,60.5,70.0]},"
                    + "{\"label\":\"sign\",\"box\":[0.0,0.0,9.0,0.0,9.0,9.0,0.0,9.0]}]"
                    : "";
            assertEquals(want, r.get(ResultRow.REGIONS), r.get("image_path"));
        }
    }

    /** Rows saved by a dead run's checkpoints keep their regions when a rerun reads them back. */
    @Test
    void checkpointsKeepRegions() throws Exception {
        Path output = dir.resolve("out");
        List<Region> regions = List.of(new Region("car", new float[] {0.32f, 5.04f, 320.32f, 479.76f}),
                new Region("HELLO", new float[] {1, 2, 3, 4, 5, 6, 7, 8.125f}));
        ResultRow row = new ResultRow(output.resolve("a.png").toString(), "ab12", 10L, 20L, 640, 480, "florence2-tiny",
                "caption", "<OD>", "opts", "car HELLO", regions, 0.5, 0.25, "eos", null, 7, "run1");
        ResultRow plain = new ResultRow(output.resolve("b.png").toString(), "cd34", 10L, 20L, 640, 480, "florence2-tiny",
                "caption", "<CAPTION>", "opts", "a car", null, 0.5, 0.25, "eos", null, 7, "run1");
        try (Checkpoints.Writer writer = new Checkpoints.Writer(output.toString(), "run1", 0, 0, 0, new Configuration())) {
            writer.append(List.of(row, plain));
        }
        try (SparkSession spark = SparkSessions.create("local[1]")) {
            List<Row> back = Checkpoints.table(spark, output.toString()).orderBy("image_path").collectAsList();
            assertEquals(2, back.size());
            List<Row> read = back.get(0).getList(back.get(0).fieldIndex(ResultRow.REGIONS));
            assertEquals(2, read.size());
            for (int i = 0; i < regions.size(); i++) {
                assertEquals(regions.get(i).label(), read.get(i).getString(0));
                List<Float> box = read.get(i).getList(1);
                float[] values = new float[box.size()];
                for (int k = 0; k < values.length; k++) {
                    values[k] = box.get(k);
                }
                assertEquals(regions.get(i), new Region(read.get(i).getString(0), values));
            }
            assertNull(back.get(1).getAs(ResultRow.REGIONS));
            // the executors' rows (an RDD of ResultRow.toRow(), as PartitionCaptioner's) convert the same way
            JavaRDD<Row> rdd = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(List.of(row.toRow(), plain.toRow()));
            List<Row> direct = spark.createDataFrame(rdd, ResultRow.SCHEMA).orderBy("image_path").collectAsList();
            assertEquals(back.get(0).getList(back.get(0).fieldIndex(ResultRow.REGIONS)),
                    direct.get(0).getList(direct.get(0).fieldIndex(ResultRow.REGIONS)));
        }
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
