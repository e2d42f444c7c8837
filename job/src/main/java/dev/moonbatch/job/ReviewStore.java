package dev.moonbatch.job;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The people's decisions on rows, kept in {@code OUTPUT/reviews/}: one CSV file per
 * {@code review --apply}, never rewritten, named by the time it was applied so that the folder read
 * in name order is the history. The latest decision per image and prompt wins; results derive
 * their review columns from it ({@link OutputTable#withReviews}) on every run and every apply, so
 * a review survives any number of nightly runs and the old text of a stale review is never lost.
 */
final class ReviewStore {
    static final String DIR = "reviews";
    static final String APPROVED = "approved";
    static final String EDITED = "edited";
    static final String REJECTED = "rejected";
    static final String STALE = "stale";
    static final List<String> DECISIONS = List.of(APPROVED, EDITED, REJECTED);
    static final List<String> COLUMNS = List.of("image_path", "content_sha256", "prompt", "review_status",
            "reviewed_text", "applied_at", "source_file");
    private static final StructType SCHEMA = new StructType()
            .add("image_path", DataTypes.StringType).add("content_sha256", DataTypes.StringType)
            .add("prompt", DataTypes.StringType).add("review_status", DataTypes.StringType)
            .add("reviewed_text", DataTypes.StringType);
    private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder().setNullString("").get();

    /** One decision on one row: the content it was made on, and where and when it came from. */
    record Review(String imagePath, String contentSha256, String prompt, String status, String reviewedText,
                  String appliedAt, String sourceFile) {
        String key() {
            return key(imagePath, prompt);
        }

        static String key(String imagePath, String prompt) {
            return imagePath + "\u0000" + (prompt == null ? "" : prompt);
        }

        /** Whether {@code other} says the same about the same content (applying it again changes nothing). */
        boolean sameDecision(Review other) {
            return other != null && contentSha256.equals(other.contentSha256) && status.equals(other.status)
                    && String.valueOf(reviewedText).equals(String.valueOf(other.reviewedText));
        }
    }

    private ReviewStore() {
    }

    /** The latest decision per image and prompt, over every file of the store in order. */
    static Map<String, Review> latest(String output, Configuration conf) throws IOException {
        Path dir = new Path(output, DIR);
        FileSystem fs = dir.getFileSystem(conf);
        Map<String, Review> latest = new LinkedHashMap<>();
        if (!fs.exists(dir)) {
            return latest;
        }
        FileStatus[] files = fs.globStatus(new Path(dir, "[0-9]*.csv"));
        if (files == null) {
            return latest;
        }
        Arrays.sort(files, Comparator.comparing(f -> f.getPath().getName()));
        for (FileStatus file : files) {
            try (CSVParser parser = CSVParser.parse(new InputStreamReader(fs.open(file.getPath()), StandardCharsets.UTF_8),
                    FORMAT.builder().setHeader().setSkipHeaderRecord(true).get())) {
                for (CSVRecord r : parser) {
                    Review review = new Review(r.get("image_path"), r.get("content_sha256"), emptyToNull(r.get("prompt")),
                            r.get("review_status"), emptyToNull(r.get("reviewed_text")), r.get("applied_at"),
                            r.get("source_file"));
                    latest.put(review.key(), review);
                }
            }
        }
        return latest;
    }

    /** {@link #latest} as a small table for the join in {@link OutputTable#withReviews}. */
    static Dataset<Row> latestTable(SparkSession spark, String output) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (Review r : latest(output, spark.sparkContext().hadoopConfiguration()).values()) {
            rows.add(RowFactory.create(r.imagePath(), r.contentSha256(), r.prompt(), r.status(), r.reviewedText()));
        }
        return spark.createDataFrame(rows, SCHEMA);
    }

    /** Adds one file with {@code reviews} to the store (written aside, then renamed in); returns its path. */
    static Path append(String output, List<Review> reviews, Configuration conf) throws IOException {
        Path dir = new Path(output, DIR);
        FileSystem fs = HadoopFiles.plain(dir.getFileSystem(conf));
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").format(ZonedDateTime.now(ZoneOffset.UTC));
        String name = stamp + "-" + UUID.randomUUID().toString().substring(0, 8) + ".csv";
        Path tmp = new Path(dir, "." + name + ".tmp");
        try (FSDataOutputStream out = fs.create(tmp, false);
             Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
             CSVPrinter printer = new CSVPrinter(writer, FORMAT)) {
            printer.printRecord(COLUMNS);
            for (Review r : reviews) {
                printer.printRecord(r.imagePath(), r.contentSha256(), r.prompt(), r.status(), r.reviewedText(),
                        r.appliedAt(), r.sourceFile());
            }
        }
        Path target = new Path(dir, name);
        if (!fs.rename(tmp, target)) {
            throw new IOException("could not rename " + tmp + " to " + target);
        }
        return target;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
