package dev.moonbatch.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.moonbatch.io.ListedFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_extract;

/**
 * The Spark plan of one run:
 * <ol>
 * <li>list the images (the top of the tree on the driver, the folders below on the executors);</li>
 * <li>join the listing with what earlier runs already computed for this model, task, prompt and
 *     options (the previous {@code results.parquet} and any checkpoints of an interrupted run) on
 *     the executors ({@link ReusePlan}): unchanged files are reused unopened, known content unread
 *     by the model;</li>
 * <li>spread what is left over partitions; each partition computes its rows with the executor's
 *     shared model, checkpointing every batch;</li>
 * <li>write the new results, plus the earlier rows this run does not replace (carried ones, other
 *     tasks or prompts: {@link EarlierRows}): to a staging Parquet through Spark's commit protocol,
 *     then swapped in for {@code results.parquet}; or, into a Delta table, merge only the rows that
 *     differ from what it holds ({@link ResultsTable});</li>
 * <li>read that Parquet back (never recomputing model work) into the one-file review CSV, and
 *     write {@code summary.json}.</li>
 * </ol>
 */
public final class CaptionJob {
    private static final Logger LOG = LoggerFactory.getLogger(CaptionJob.class);
    public static final String PARQUET = ResultsTable.PARQUET_DIR;
    public static final String CSV = RunExports.RESULTS_CSV;
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String SUMMARY = "summary.json";
    /** Part files {@code removed.parquet} may hold before a night compacts it into one. */
    static final int REMOVED_PARTS_MAX = 32;

    private final SparkSession spark;
    private final JobConfig config;

    public CaptionJob(SparkSession spark, JobConfig config) {
        this.spark = spark;
        this.config = config;
    }

    public RunSummary run() throws IOException {
        long t0 = System.nanoTime();
        long startMs = System.currentTimeMillis();
        Map<String, Double> stages = new LinkedHashMap<>();
        Configuration hadoopConf = spark.sparkContext().hadoopConfiguration();
        Path output = qualify(config.output(), hadoopConf);
        FileSystem fs = output.getFileSystem(hadoopConf);
        String out = output.toString();
        Path results = ResultsTable.path(output, config.tableFormat());

        describe("moonbatch: list the image files under " + config.input());
        Dataset<Row> listing = ListingTable.list(spark, config.input()).persist(StorageLevel.MEMORY_AND_DISK());
        long images = listing.count();
        // The work is a table the executors hold (cached: the reuse joins, the carried rows and the
        // summary all read it); only --questions and a first night bring it to the driver.
        List<WorkItem> work = null;
        Dataset<Row> workTable;
        long workImages;
        long expectedRows;
        if (!config.workOnDriver()) {
            workTable = listing.select(col("path"), array(config.prompts().stream().map(p -> lit(p)).toArray(Column[]::new))
                    .as("prompts"), col("size"), col("mtime"),
                    lit(null).cast(DataTypes.createArrayType(DataTypes.StringType)).as("members"));
            workImages = images;
            expectedRows = images * config.prompts().size();
        } else {
            work = workItems(listedFiles(listing), hadoopConf);
            workTable = ReusePlan.workTable(spark, work).persist(StorageLevel.MEMORY_AND_DISK());
            workImages = work.size();
            expectedRows = work.stream().mapToLong(w -> w.prompts().size()).sum();
        }
        Dataset<Row> runKeys = workTable.select(col("path").as("k_path"), lit(config.task().name()).as("k_task"),
                explode(col("prompts")).as("k_prompt"));
        Dataset<Row> earlier = ResultsTable.read(spark, output);
        describe(String.format(Locale.ROOT, "moonbatch: look for earlier results of %,d listed files", images));
        ReusePlan.Prior prior = config.resume() ? ReusePlan.prior(earlier, Checkpoints.table(spark, out), config) : null;
        stages.put("list", seconds(t0));
        long t1 = System.nanoTime();
        int partitions = partitions(workImages);
        LOG.info("run {}: {} images, {} rows to write, in {} partitions, batch size {}, {}",
                config.runId(), workImages, expectedRows, partitions, config.batchSize(),
                prior == null ? "no earlier results to reuse" : "reusing earlier results");

        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JobConfig shipped = config.withOutput(out).withBudget(config.budget().forPartitions(partitions));
        shipped = shipped.withRuntime(shipped.runtime().withIntraOpThreads(shipped.budget().threads()));
        LOG.info("{} ONNX Runtime threads per inference, at most {} inferences at once per executor, prefetch {}",
                shipped.budget().threads(), shipped.budget().inferenceSlots(), shipped.budget().prefetch() ? "on" : "off");
        RunCounters counters = RunCounters.create(spark.sparkContext());
        SerializableConfiguration shippedConf = new SerializableConfiguration(hadoopConf);
        ReusePlan.Plan reuse = null;
        JavaRDD<WorkItem> toCompute;
        if (prior == null) {
            // a first night: inference dominates, and cutting the work by file size on the driver
            // keeps the copies of a photo together without reading anything
            if (work == null) {
                work = bySize(workItems(workTable));
            }
            List<List<WorkItem>> slices = WorkSlices.cut(work, partitions);
            toCompute = jsc.parallelize(slices, slices.size()).flatMap(List::iterator);
        } else {
            reuse = ReusePlan.plan(spark, workTable, prior, shipped, modelName(), partitions, shippedConf, counters);
            toCompute = reuse.toCompute();
        }
        JavaRDD<Row> rows = toCompute.mapPartitions(new PartitionCaptioner(shipped, shippedConf, counters));
        Dataset<Row> fresh = spark.createDataFrame(rows, ResultRow.SCHEMA);
        Dataset<Row> written;
        Dataset<Row> removedNow = null;
        EarlierRows.Split split = null;
        if (reuse == null) {
            written = OutputTable.withChange(fresh, earlier);
            if (earlier != null) {
                split = EarlierRows.byJoin(earlier, listing, workTable, runKeys, config);
                removedNow = split.removed();
            }
        } else {
            // the rows carried by file key are the earlier rows themselves, left in place; only the
            // rest is compared with what it replaces
            counters.rowsDone().add(expectedRows - reuse.replacedRows());
            written = OutputTable.withChange(reuse.reused().unionByName(fresh),
                    earlier == null ? null : reuse.earlierCandidates(earlier));
            if (earlier != null) {
                split = EarlierRows.byKeys(earlier, reuse, listing, workTable, config);
                removedNow = split.removed();
            }
        }
        Dataset<Row> reviews = ReviewStore.latestTable(spark, out);
        ProgressListener progress = ProgressListener.of(expectedRows, counters);
        spark.sparkContext().addSparkListener(progress);
        boolean removedAny;
        try {
            // first: if the driver dies between this and the results' write, the next run finds those
            // rows gone again (a duplicate in the history) rather than losing them
            describe("moonbatch: move rows of images gone from the input to " + RunExports.REMOVED);
            removedAny = removedNow != null && appendRemoved(fs, output, removedNow);
            describe(String.format(Locale.ROOT, "moonbatch: %s %,d images (%,d rows) with %s, reusing unchanged ones",
                    config.task().name(), workImages, expectedRows, modelName()));
            if (split != null && split.carried() != null && config.tableFormat() == ResultsTable.Format.DELTA
                    && ResultsTable.stored(fs, output) == ResultsTable.Format.DELTA) {
                // a Delta table takes the night's changes alone: the rows written anew, the carried
                // rows whose change or review columns move on, and the rows that leave
                Dataset<Row> upserts = OutputTable.withReviews(written, reviews)
                        .unionByName(OutputTable.restamped(split.carried(), lit(OutputTable.UNCHANGED), reviews))
                        .persist(StorageLevel.MEMORY_AND_DISK());
                try {
                    upserts.count(); // the model runs here, once, at the work's own parallelism
                    // a night's few rows in few partitions: the merge runs several passes over them
                    int parts = Math.max(1, spark.sparkContext().defaultParallelism());
                    ResultsTable.merge(spark, output, upserts.coalesce(parts), split.leaving());
                } finally {
                    upserts.unpersist();
                }
            } else {
                Dataset<Row> table = split == null ? written : written.unionByName(split.kept());
                ResultsTable.replace(spark, output, config.tableFormat(), OutputTable.withReviews(table, reviews),
                        config.runId());
            }
        } finally {
            progress.stop();
            spark.sparkContext().removeSparkListener(progress);
            if (reuse != null) {
                reuse.release();
            }
            if (split != null) {
                split.release();
            }
        }
        for (var stale : fs.globStatus(new Path(output, ".staging-*"))) {
            fs.delete(stale.getPath(), true); // left by runs that died before their swap
        }
        Checkpoints.clear(out, hadoopConf);
        stages.put("process", seconds(t1));

        long t2 = System.nanoTime();
        Dataset<Row> now = ResultsTable.read(spark, output);
        Dataset<Row> mine = !config.workOnDriver() ? now.filter(EarlierRows.thisRunsRows(config))
                : now.join(runKeys, now.col("image_path").equalTo(runKeys.col("k_path"))
                        .and(now.col("task").equalTo(runKeys.col("k_task")))
                        .and(now.col("prompt").eqNullSafe(runKeys.col("k_prompt"))), "left_semi");
        // every count of the summary from one aggregation over this run's rows
        describe("moonbatch: count this run's rows for summary.json");
        List<Row> counts = mine.groupBy(col(OutputTable.CHANGE), regexp_extract(col("error"), "^([A-Z_]+)", 1).as("kind"),
                        col("error").isNotNull().as("failed"), col("run_id").equalTo(lit(config.runId())).as("mine"))
                .count().collectAsList();
        long rowCount = 0, errors = 0, computed = 0, inferenceFailed = 0, inferenceSucceeded = 0;
        Map<String, Long> byKind = new java.util.TreeMap<>();
        Map<String, Long> changes = new LinkedHashMap<>();
        for (String c : List.of(OutputTable.NEW, OutputTable.CHANGED, OutputTable.UNCHANGED)) {
            changes.put(c, 0L);
        }
        for (Row r : counts) {
            long n = r.getLong(4);
            rowCount += n;
            changes.merge(r.getString(0), n, Long::sum);
            if (r.getBoolean(2)) {
                errors += n;
                byKind.merge(r.getString(1), n, Long::sum);
            }
            if (r.getBoolean(3)) {
                computed += n;
                if (!r.getBoolean(2)) {
                    inferenceSucceeded += n;
                } else if (PartitionCaptioner.INFERENCE_FAILED.equals(r.getString(1))) {
                    inferenceFailed += n;
                }
            }
        }
        long removed = removedAny ? RunExports.removedBy(spark, output, config.runId()).count() : 0;
        changes.put(OutputTable.REMOVED, removed);

        String prompt = config.questionsFile() != null ? "(questions from " + config.questionsFile() + ")"
                : !config.attributes().isEmpty() ? "(attributes: " + String.join(", ",
                        config.attributes().stream().map(Attribute::name).toList()) + ")"
                : config.task().prompt();
        double soFar = seconds(t0);
        RunSummary draft = new RunSummary(config.runId(), modelName(), config.task().name(), prompt,
                config.optionsKey(), images, rowCount, rowCount - errors, errors, computed, inferenceFailed,
                inferenceSucceeded, rowCount - computed,
                counters.deduplicated().value(), removed, changes, byKind, counters.imageBytesRead().value(), 0,
                counters.devicesByExecutor(), stages, soFar > 0 ? images / soFar : 0, results.toString(), null, null, null, null);
        describe("moonbatch: write results.csv, changes.csv and the review page");
        RunExports.Written files = RunExports.write(spark, output, config.runId(), JSON.valueToTree(draft),
                config.fullExportsMaxRows());
        describe(null);
        stages.put("csv", seconds(t2));
        double total = seconds(t0);
        stages.put("total", total);
        RunSummary summary = new RunSummary(draft.runId(), draft.model(), draft.task(), draft.prompt(), draft.options(),
                draft.images(), draft.rows(), draft.captioned(), draft.errors(), draft.computed(),
                draft.inferenceFailed(), draft.inferenceSucceeded(), draft.reused(),
                draft.deduplicated(), removed, changes, byKind, draft.imageBytesRead(), peakHeapMb(), draft.devices(),
                stages, total > 0 ? images / total : 0, results.toString(),
                files.resultsCsv(), files.changesCsv(), files.reviewPage(), pace(counters.batchTimes().value(), startMs));
        writeSummary(fs, new Path(output, SUMMARY), summary);
        workTable.unpersist();
        listing.unpersist();
        return summary;
    }

    private static RunSummary.Pace pace(BatchTimes.Span span, long startMs) {
        if (!span.any()) {
            return null;
        }
        long end = System.currentTimeMillis();
        return new RunSummary.Pace(Math.round((span.first() - startMs) / 10.0) / 100.0,
                Math.round((end - span.last()) / 10.0) / 100.0, Math.round(span.steadyRowsPerSecond() * 1000) / 1000.0);
    }

    /** Names the Spark jobs that follow, so the Spark UI and history server read as the run's story. */
    private void describe(String what) {
        spark.sparkContext().setJobDescription(what);
    }

    /** The driver JVM's peak heap so far (sum of the heap pools' peaks), for summary.json and the benches. */
    private static long peakHeapMb() {
        long peak = 0;
        for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getPeakUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak >> 20;
    }

    /**
     * Adds tonight's removed rows to the history as one more part file (a night writes what it
     * removed, not the history); above {@link #REMOVED_PARTS_MAX} parts the history is compacted into
     * one, written aside and swapped in. False when nothing was removed.
     */
    private boolean appendRemoved(FileSystem fs, Path output, Dataset<Row> removedNow) throws IOException {
        Dataset<Row> now = removedNow.cache();
        try {
            if (now.isEmpty()) {
                return false;
            }
            Path history = new Path(output, RunExports.REMOVED);
            now.coalesce(1).write().mode(SaveMode.Append).parquet(history.toString());
            FileStatus[] parts = fs.globStatus(new Path(history, "part-*"));
            if (parts != null && parts.length > REMOVED_PARTS_MAX) {
                Path staging = new Path(output, ".staging-removed-" + config.runId());
                spark.read().schema(OutputTable.REMOVED_SCHEMA).parquet(history.toString()).coalesce(1)
                        .write().mode(SaveMode.Overwrite).parquet(staging.toString());
                HadoopFiles.swap(fs, staging, history);
            }
            return true;
        } finally {
            now.unpersist();
        }
    }

    /**
     * What each image is asked: the one prompt of the run, or its questions from {@code --questions}
     * (CSV {@code image_path,question}; relative paths are under {@code --input}). A question about an
     * image that is not under the input still gets its row (an error if it cannot be read); images
     * the file does not ask about are left out, with a warning that counts them.
     */
    private List<WorkItem> workItems(List<ListedFile> images, Configuration conf) throws IOException {
        List<WorkItem> work = new ArrayList<>();
        if (config.products() != null) {
            work.addAll(config.products().items(images, config.prompts(), config.input(), conf));
        } else if (config.questionsFile() == null) {
            List<String> one = config.prompts();
            images.forEach(f -> work.add(new WorkItem(f.path(), one, f.size(), f.modifiedMs())));
        } else {
            Map<String, List<String>> questions = Questions.read(config.questionsFile(), config.input(), conf);
            List<String> unasked = new ArrayList<>();
            for (ListedFile image : images) {
                List<String> asked = questions.remove(image.path());
                if (asked != null) {
                    work.add(new WorkItem(image.path(), asked, image.size(), image.modifiedMs()));
                } else {
                    unasked.add(image.path());
                }
            }
            if (!unasked.isEmpty()) {
                LOG.warn("{} image(s) under --input have no question in {} and get no row (first: {})",
                        unasked.size(), config.questionsFile(), unasked.get(0));
            }
            questions.forEach((path, asked) -> work.add(new WorkItem(path, asked)));
        }
        return bySize(work);
    }

    /**
     * Files of equal size side by side, so the copies of one photo (which have equal sizes) land in
     * the same partition, where the model answers them once.
     */
    private static List<WorkItem> bySize(List<WorkItem> work) {
        work.sort(java.util.Comparator.comparingLong(WorkItem::size).thenComparing(WorkItem::path));
        return work;
    }

    /** The work table's rows on the driver. */
    private static List<WorkItem> workItems(Dataset<Row> workTable) {
        List<WorkItem> work = new ArrayList<>();
        for (Iterator<Row> it = workTable.toLocalIterator(); it.hasNext(); ) {
            Row r = it.next();
            work.add(new WorkItem(r.getString(0), new ArrayList<>(r.<String>getList(1)), r.getLong(2), r.getLong(3),
                    r.isNullAt(4) ? null : new ArrayList<>(r.<String>getList(4))));
        }
        return work;
    }

    /** The listing on the driver, sorted by path (for --questions, which joins it with its CSV there). */
    private static List<ListedFile> listedFiles(Dataset<Row> listing) {
        List<ListedFile> files = new ArrayList<>();
        for (Iterator<Row> it = listing.toLocalIterator(); it.hasNext(); ) {
            Row r = it.next();
            files.add(new ListedFile(r.getString(0), r.getLong(1), r.getLong(2)));
        }
        files.sort(java.util.Comparator.comparing(ListedFile::path));
        return files;
    }

    private String modelName() {
        return new Path(config.model()).getName();
    }

    private int partitions(long images) {
        if (config.partitions() > 0) {
            return config.partitions();
        }
        long batches = Math.max(1, (images + config.batchSize() - 1) / config.batchSize());
        return (int) Math.max(1, Math.min(batches, spark.sparkContext().defaultParallelism() * 4L));
    }

    private static void writeSummary(FileSystem fs, Path target, RunSummary summary) throws IOException {
        Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            out.write(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(summary));
        }
        HadoopFiles.moveIntoPlace(fs, tmp, target);
    }

    private static double seconds(long since) {
        return Math.round((System.nanoTime() - since) / 1e7) / 100.0;
    }

    private static Path qualify(String output, Configuration conf) throws IOException {
        Path path = new Path(output);
        return path.getFileSystem(conf).makeQualified(path);
    }
}
