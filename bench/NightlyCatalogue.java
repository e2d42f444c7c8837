import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A synthetic catalogue for bench/nightly-scale.sh: N files of SIZE_KB each (sparse: a distinct
 * header, then zeros, so every file has its own SHA-256 but takes one disk block), in folders of
 * 1,000, and the results.parquet a previous night would have left for them, built from the schema
 * and one row of a real run (TEMPLATE_OUTPUT), so no inference is needed for the unchanged part.
 * Usage: java -cp CP bench/NightlyCatalogue.java CATALOGUE N SIZE_KB TEMPLATE_OUTPUT PRIOR_OUTPUT
 */
public class NightlyCatalogue {
    public static void main(String[] args) throws Exception {
        Path catalogue = Path.of(args[0]).toAbsolutePath();
        int n = Integer.parseInt(args[1]);
        int sizeKb = Integer.parseInt(args[2]);
        String template = args[3];
        String prior = args[4];
        long t0 = System.nanoTime();
        String[] sha = new String[n];
        long[] mtime = new long[n];
        IntStream.range(0, n).parallel().forEach(i -> {
            try {
                Path file = file(catalogue, i);
                Files.createDirectories(file.getParent());
                byte[] header = ("moonbatch synthetic catalogue file " + i + "\n").getBytes(StandardCharsets.US_ASCII);
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.setLength(0);
                    f.write(header);
                    f.setLength(sizeKb * 1024L);
                }
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(header);
                byte[] zeros = new byte[64 * 1024];
                long left = sizeKb * 1024L - header.length;
                while (left > 0) {
                    int k = (int) Math.min(left, zeros.length);
                    md.update(zeros, 0, k);
                    left -= k;
                }
                sha[i] = HexFormat.of().formatHex(md.digest());
                mtime[i] = Files.getLastModifiedTime(file).toMillis();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        System.out.printf("files: %d x %d KB in %.1f s%n", n, sizeKb, (System.nanoTime() - t0) / 1e9);

        try (SparkSession spark = SparkSession.builder().master("local[2]").appName("nightly-catalogue")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate()) {
            Dataset<Row> t = spark.read().parquet(template + "/results.parquet");
            StructType schema = t.schema();
            Row model = t.filter("error is null").first();
            List<Row> rows = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Object[] v = new Object[schema.size()];
                for (int c = 0; c < v.length; c++) {
                    String name = schema.fieldNames()[c];
                    v[c] = switch (name) {
                        case "image_path" -> "file:" + file(catalogue, i);
                        case "content_sha256" -> sha[i];
                        case "file_size" -> sizeKb * 1024L;
                        case "modified_ms" -> mtime[i];
                        case "run_id" -> "20261206T010000Z-synthetic";
                        case "change" -> "unchanged";
                        default -> model.get(c);
                    };
                }
                rows.add(RowFactory.create(v));
            }
            spark.createDataFrame(rows, schema).repartition(Math.max(1, n / 200_000))
                    .write().mode(SaveMode.Overwrite).parquet(prior + "/results.parquet");
        }
        System.out.printf("prior results: %d rows in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
    }

    static Path file(Path catalogue, int i) {
        return catalogue.resolve(String.format("d%04d/sku-%07d.jpg", i / 1000, i));
    }
}
