package dev.moonbatch.job;

import dev.moonbatch.io.ImageLister;
import dev.moonbatch.io.ListedFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The image files under {@code --input} as a Spark table ({@code path, size, mtime}): the driver
 * lists the top of the tree until it has {@link #MIN_FOLDERS} folders, and the executors list those
 * folders' trees, so a catalogue of millions of files is neither listed one folder at a time nor
 * held in the driver's memory. The same files as {@link ImageLister#listFiles}.
 */
final class ListingTable {
    static final StructType SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("size", DataTypes.LongType, false)
            .add("mtime", DataTypes.LongType, false);
    /** Enough folders to keep every executor core listing. */
    static final int MIN_FOLDERS = 64;

    private ListingTable() {
    }

    static Dataset<Row> list(SparkSession spark, String input) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        ImageLister.Split split = ImageLister.split(input, conf, MIN_FOLDERS);
        List<Row> top = new ArrayList<>(split.files().size());
        split.files().forEach(f -> top.add(row(f)));
        Dataset<Row> listed = spark.createDataFrame(top, SCHEMA);
        if (split.folders().isEmpty()) {
            return listed;
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        SerializableConfiguration shipped = new SerializableConfiguration(conf);
        int slices = Math.min(split.folders().size(), Math.max(1, jsc.defaultParallelism() * 4));
        JavaRDD<Row> below = jsc.parallelize(split.folders(), slices)
                .flatMap(folder -> ImageLister.listFolder(folder, shipped.value()).stream().map(ListingTable::row).iterator());
        return listed.unionByName(spark.createDataFrame(below, SCHEMA));
    }

    private static Row row(ListedFile f) {
        return RowFactory.create(f.path(), f.size(), f.modifiedMs());
    }
}
