package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moonbatch.job.ReviewStore.Review;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;

/**
 * {@code moonbatch review --output OUT --apply reviewed.csv}: takes a morning's decisions into the
 * output. Every row of the file is checked against the results (the image and prompt exist, the
 * image is still the one reviewed, the status is known); those that pass are added to the review
 * store, and the results, CSVs and review page are rewritten from it, each aside and renamed.
 * A file that cannot be read as a whole exits 2 before anything is touched. Applying the same file
 * twice changes nothing the second time.
 */
@Command(name = "review", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Applies a reviewed.csv (downloaded from OUTPUT/review/index.html, or changes.csv with the "
                + "columns review_status and reviewed_text added) to the results in --output: results gain "
                + "review_status, reviewed_text and final_text, and the next nightly run keeps them."},
        footer = {"", "Exit codes: 0 applied (rows that could not be applied are counted), 2 bad input (nothing changed), "
                + "1 failure."})
final class ReviewCommand implements Callable<Integer> {
    @Option(names = "--output", required = true, description = "The job's output folder (holds results.parquet).")
    String output;

    @Option(names = "--apply", required = true, description = "The reviewed CSV: image_path,content_sha256,prompt,review_status,reviewed_text.")
    String apply;

    @Option(names = "--master", defaultValue = "local[2]", description = "Spark master for rewriting the results (default ${DEFAULT-VALUE}).")
    String master;

    private final PrintStream out;
    private final PrintStream err;

    ReviewCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new ReviewCommand(out, err));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    /** What applying the file did, row by row of the file. */
    record Outcome(Map<String, Integer> applied, int alreadyApplied, int undecided, int unknownPath, int unknownPrompt,
                   int imageChanged, int unknownStatus, int invalid) {
    }

    @Override
    public Integer call() {
        List<ReviewedCsv.Entry> entries;
        try {
            java.nio.file.Path file = java.nio.file.Path.of(apply);
            if (!java.nio.file.Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--apply: no such file: " + apply);
            }
            entries = ReviewedCsv.read(file); // first: a malformed file is refused before anything else runs
            Path dir = new Path(output);
            if (ResultsTable.stored(dir.getFileSystem(new Configuration()), dir) == null) {
                throw new IllegalArgumentException("--output: no " + ResultsTable.PARQUET_DIR + " or "
                        + ResultsTable.DELTA_DIR + " in " + output + " (run the job into it first)");
            }
        } catch (IllegalArgumentException e) {
            err.println("moonbatch: " + e.getMessage());
            return MoonbatchCli.CONFIG_ERROR;
        } catch (IOException e) {
            err.println("moonbatch: --output: cannot read " + output + ": " + e.getMessage());
            return MoonbatchCli.CONFIG_ERROR;
        }
        try (SparkSession spark = SparkSessions.create(master)) {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            Path dir = new Path(output);
            FileSystem fs = dir.getFileSystem(conf);
            Path qualified = fs.makeQualified(dir);
            Outcome outcome = applyEntries(spark, qualified, entries, java.nio.file.Path.of(apply).getFileName().toString());
            report(outcome);
            return 0;
        } catch (Exception e) {
            err.println("moonbatch: review failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    private Outcome applyEntries(SparkSession spark, Path output, List<ReviewedCsv.Entry> entries, String source)
            throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        String out = output.toString();
        Map<String, String[]> current = currentRows(spark, output, entries);
        Set<String> knownPaths = new HashSet<>();
        current.keySet().forEach(k -> knownPaths.add(k.substring(0, k.indexOf('\u0000'))));
        Map<String, Review> latest = ReviewStore.latest(out, conf);

        Map<String, Integer> applied = new LinkedHashMap<>();
        ReviewStore.DECISIONS.forEach(d -> applied.put(d, 0));
        int already = 0, undecided = 0, unknownPath = 0, unknownPrompt = 0, changed = 0, unknownStatus = 0, invalid = 0;
        String now = Instant.now().toString();
        Map<String, Review> accepted = new LinkedHashMap<>();
        for (ReviewedCsv.Entry e : entries) {
            String key = Review.key(e.imagePath(), emptyToNull(e.prompt()));
            String[] row = current.get(key);
            if (e.status().isEmpty()) {
                undecided++;
            } else if (!ReviewStore.DECISIONS.contains(e.status())) {
                unknownStatus++;
                warn(e, "unknown review_status '" + e.status() + "' (expected one of " + ReviewStore.DECISIONS + ")");
            } else if (row == null && !knownPaths.contains(e.imagePath())) {
                unknownPath++;
                warn(e, "no result for the image " + e.imagePath());
            } else if (row == null) {
                unknownPrompt++;
                warn(e, "no result for the prompt '" + e.prompt() + "' of " + e.imagePath());
            } else if (!e.contentSha256().equals(row[0])) {
                changed++;
                warn(e, "the image changed since it was reviewed (content_sha256 differs): " + e.imagePath());
            } else if (ReviewStore.EDITED.equals(e.status()) && e.reviewedText().isBlank()) {
                invalid++;
                warn(e, "edited without a reviewed_text: " + e.imagePath());
            } else {
                String text = switch (e.status()) {
                    case ReviewStore.APPROVED -> e.reviewedText().isEmpty() ? row[1] : e.reviewedText();
                    case ReviewStore.EDITED -> e.reviewedText();
                    default -> emptyToNull(e.reviewedText());
                };
                accepted.put(key, new Review(e.imagePath(), e.contentSha256(), emptyToNull(e.prompt()), e.status(),
                        text, now, source));
            }
        }
        List<Review> fresh = new ArrayList<>();
        for (Review r : accepted.values()) {
            if (r.sameDecision(latest.get(r.key()))) {
                already++;
            } else {
                fresh.add(r);
                applied.merge(r.status(), 1, Integer::sum);
            }
        }
        if (!fresh.isEmpty()) {
            ReviewStore.append(out, fresh, conf);
            rewriteResults(spark, output);
        }
        return new Outcome(applied, already, undecided, unknownPath, unknownPrompt, changed, unknownStatus, invalid);
    }

    /** The results' (content_sha256, text) by image and prompt, for the images the file names. */
    private static Map<String, String[]> currentRows(SparkSession spark, Path output, List<ReviewedCsv.Entry> entries)
            throws IOException {
        Set<String> paths = new HashSet<>();
        entries.forEach(e -> paths.add(e.imagePath()));
        List<Row> keys = paths.stream().map(p -> RowFactory.create(p)).toList();
        Dataset<Row> wanted = spark.createDataFrame(keys, new StructType().add("w_path", DataTypes.StringType));
        Dataset<Row> results = ResultsTable.read(spark, output);
        Map<String, String[]> current = new HashMap<>();
        results.join(wanted, results.col("image_path").equalTo(wanted.col("w_path")), "left_semi")
                .select(col("image_path"), col("prompt"), col("content_sha256"), col("text"))
                .collectAsList()
                .forEach(r -> current.put(Review.key(r.getString(0), emptyToNull(r.getString(1))),
                        new String[] {r.getString(2), r.getString(3)}));
        return current;
    }

    /**
     * The results again with their review columns from the store (a Parquet table rewritten, a Delta
     * table given the reviewed rows alone); then the CSVs and page.
     */
    private static void rewriteResults(SparkSession spark, Path output) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        FileSystem fs = output.getFileSystem(conf);
        Dataset<Row> rows = ResultsTable.read(spark, output);
        Dataset<Row> reviews = ReviewStore.latestTable(spark, output.toString());
        ResultsTable.Format format = ResultsTable.stored(fs, output);
        if (format == ResultsTable.Format.DELTA) {
            ResultsTable.merge(spark, output, OutputTable.restamped(rows, col(OutputTable.CHANGE), reviews), null);
        } else {
            ResultsTable.replace(spark, output, format, OutputTable.withReviews(rows, reviews),
                    "review-" + UUID.randomUUID());
        }
        JsonNode summary = readSummary(fs, new Path(output, CaptionJob.SUMMARY));
        String runId = summary == null ? "" : summary.path("runId").asText("");
        RunExports.write(spark, output, runId, summary, RunExports.FULL_EXPORTS_MAX_ROWS);
    }

    private static JsonNode readSummary(FileSystem fs, Path file) throws IOException {
        if (!fs.exists(file)) {
            return null;
        }
        try (InputStream in = fs.open(file)) {
            return new ObjectMapper().readTree(in);
        }
    }

    private void warn(ReviewedCsv.Entry e, String what) {
        err.println("moonbatch: review: row " + e.line() + ": " + what);
    }

    private void report(Outcome o) {
        int total = o.applied().values().stream().mapToInt(Integer::intValue).sum();
        out.printf("moonbatch: review: %d applied %s, %d already applied, %d undecided; not applied: %d unknown image, "
                        + "%d unknown prompt, %d image changed since review, %d unknown status, %d invalid%n",
                total, o.applied(), o.alreadyApplied(), o.undecided(), o.unknownPath(), o.unknownPrompt(),
                o.imageChanged(), o.unknownStatus(), o.invalid());
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
