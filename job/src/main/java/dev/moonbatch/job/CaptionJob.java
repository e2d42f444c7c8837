package dev.moonbatch.job;

import dev.moonbatch.io.CsvExport;
import dev.moonbatch.io.ImageLister;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;

/**
 * The Spark plan: list the images on the driver, spread them over partitions, caption each
 * partition with the executor's shared model, write {@code results.parquet}, then read it back
 * (never recomputing the model work) to write the one-file review CSV.
 */
public final class CaptionJob {
    private static final Logger LOG = LoggerFactory.getLogger(CaptionJob.class);
    public static final String PARQUET = "results.parquet";
    public static final String CSV = "results.csv";

    private final SparkSession spark;
    private final JobConfig config;

    public CaptionJob(SparkSession spark, JobConfig config) {
        this.spark = spark;
        this.config = config;
    }

    public RunSummary run() throws IOException {
        long start = System.nanoTime();
        Configuration hadoopConf = spark.sparkContext().hadoopConfiguration();
        List<String> images = ImageLister.list(config.input(), hadoopConf);
        Path output = qualify(config.output(), hadoopConf);
        String parquet = new Path(output, PARQUET).toString();
        int partitions = partitions(images.size());
        LOG.info("{} images in {} partitions, batch size {}", images.size(), partitions, config.batchSize());

        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<Row> rows = jsc.parallelize(images, partitions)
                .mapPartitions(new PartitionCaptioner(config, new SerializableConfiguration(hadoopConf)));
        spark.createDataFrame(rows, ResultRow.SCHEMA).write().mode(SaveMode.Overwrite).parquet(parquet);

        Dataset<Row> written = spark.read().parquet(parquet).cache();
        long rowCount = written.count();
        long errors = written.filter(col("error").isNotNull()).count();
        Map<String, Long> byKind = new LinkedHashMap<>();
        written.filter(col("error").isNotNull())
                .groupBy(regexp_extract(col("error"), "^([A-Z_]+)", 1).as("kind")).count()
                .orderBy("kind").collectAsList()
                .forEach(r -> byKind.put(r.getString(0), r.getLong(1)));
        String csv = writeCsv(written.orderBy("image_path"), output, hadoopConf);
        written.unpersist();
        double seconds = (System.nanoTime() - start) / 1e9;
        return new RunSummary(images.size(), rowCount, rowCount - errors, errors, byKind, seconds, parquet, csv);
    }

    private int partitions(int images) {
        if (config.partitions() > 0) {
            return config.partitions();
        }
        int batches = Math.max(1, (images + config.batchSize() - 1) / config.batchSize());
        return Math.max(1, Math.min(batches, spark.sparkContext().defaultParallelism() * 4));
    }

    /** The CSV is written beside the Parquet; locally through a temp file and an atomic rename. */
    private String writeCsv(Dataset<Row> rows, Path output, Configuration conf) throws IOException {
        Iterable<List<String>> cells = () -> {
            Iterator<Row> it = rows.toLocalIterator();
            return new Iterator<>() {
                public boolean hasNext() {
                    return it.hasNext();
                }

                public List<String> next() {
                    return ResultRow.cells(it.next());
                }
            };
        };
        Path target = new Path(output, CSV);
        FileSystem fs = target.getFileSystem(conf);
        if ("file".equals(fs.getScheme())) {
            java.nio.file.Path local = java.nio.file.Path.of(target.toUri());
            CsvExport.write(local, ResultRow.columns(), cells);
            return local.toString();
        }
        java.nio.file.Path tmp = Files.createTempFile("moonbatch-", ".csv");
        try {
            Files.delete(tmp);
            CsvExport.write(tmp, ResultRow.columns(), cells);
            Path staged = new Path(output, "." + CSV + ".tmp");
            fs.copyFromLocalFile(false, true, new Path(tmp.toUri()), staged);
            fs.delete(target, false);
            if (!fs.rename(staged, target)) {
                throw new IOException("could not rename " + staged + " to " + target);
            }
            return target.toString();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Path qualify(String output, Configuration conf) throws IOException {
        Path path = new Path(output);
        return path.getFileSystem(conf).makeQualified(path);
    }
}
