import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * For bench/nightly-scale.sh's delta leg: turns a prior output's results.parquet into the
 * results.delta that a --table-format delta night would have left (deletion vectors on), once.
 * Usage: java -cp CP bench/ToDelta.java OUTPUT
 */
public class ToDelta {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]).toAbsolutePath();
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("to-delta")
                .set("spark.ui.enabled", "false")
                .set("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
                .set("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
        try (SparkSession spark = SparkSession.builder().config(conf).getOrCreate()) {
            spark.read().parquet(out.resolve("results.parquet").toString()).write().format("delta")
                    .option("delta.enableDeletionVectors", "true").save(out.resolve("results.delta").toString());
        }
        try (Stream<Path> files = Files.walk(out.resolve("results.parquet"))) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
