package dev.moonbatch.job;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.OrtSessions;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.ModelBundle;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * {@code moonbatch}: caption a folder of images with a model bundle on Spark.
 * Exit codes: 0 done (even when some images failed: they have error rows), 2 bad configuration,
 * 1 the job itself failed, 3 inference failed on every row the run computed (summary.json is written).
 */
@Command(name = "moonbatch", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Captions every image under --input with a vision-language model bundle and writes "
                + "OUTPUT/results.parquet, OUTPUT/results.csv (one row per image) and OUTPUT/summary.json.",
                "",
                "Every option can also come from the environment (MOONBATCH_BATCH_SIZE=16 for --batch-size) or "
                        + "from the config file (batch-size = 16). Precedence: command line, then environment, "
                        + "then config file, then the defaults shown."},
        footer = {"", "Exit codes: 0 the job ran (failed images have error rows), 2 bad configuration, 1 the job failed, "
                + "3 inference failed on every row the run computed (the outputs and summary.json are still written).",
                "",
                "Also: moonbatch review --output DIR --apply FILE (apply a morning's reviews), "
                        + "moonbatch ask --image FILE [--prompt TEXT] (one image, no Spark); each has its own --help."})
public final class MoonbatchCli implements Callable<Integer> {
    static final int CONFIG_ERROR = 2;
    /** The model failed on every row it ran on ({@link RunSummary#everyInferenceFailed()}). */
    static final int EVERY_INFERENCE_FAILED = 3;
    /** Files larger than this are not read at all (an image this big is refused by pixel count anyway). */
    static final long MAX_FILE_BYTES = 512L << 20;

    @Option(names = "--config", description = "Properties file of settings (default: $MOONBATCH_CONFIG, else conf/moonbatch.properties).")
    String configFile;

    @Option(names = "--input", required = true, description = "Folder of images (local path, file://, hdfs://); read recursively.")
    String input;

    @Option(names = "--output", required = true, description = "Output folder: results.parquet, results.csv, summary.json.")
    String output;

    @Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--master", description = "Spark master URL. Default: what spark-submit set, else local[*].")
    String master;

    @Option(names = "--batch-size", defaultValue = "8", description = "Images per model call (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-new-tokens", description = "Generated tokens per answer at most. Default: by family, task and mode "
            + "(conf/prompts.properties: e.g. vit-gpt2 20, smolvlm detailed captions 500, Florence-2 <OCR> 1024), or the "
            + "bundle's generation_config.json max_new_tokens where it sets one.")
    Integer maxNewTokens;

    @Option(names = "--partitions", defaultValue = "0", description = "Spark partitions; 0 = from the image count and parallelism (default).")
    int partitions;

    @Option(names = "--task", defaultValue = "caption", description = "What to ask: caption (default), query (needs --prompt or --questions) or ocr (the text in the image: Florence-2, and PP-OCR, which does only ocr).")
    String task;

    @Option(names = "--mode", defaultValue = "normal", description = "Caption length: short, normal (default) or detailed; picks the family's prompt in conf/prompts.properties.")
    String mode;

    @Option(names = "--prompt", description = "The prompt: the question for --task query, or a caption prompt that replaces the family's.")
    String prompt;

    @Option(names = "--questions", description = "CSV file image_path,question (several rows per image allowed; relative paths are under --input): one output row per image and question.")
    String questions;

    @Option(names = "--attributes", description = "YAML or JSON file of catalogue attributes (name, question, optional "
            + "choices, optional max_new_tokens; example in conf/attributes.yaml): each is asked of every image; closed "
            + "choices are scored, never parsed. results.csv gets one row per image with a column attr_NAME each.")
    String attributes;

    @Option(names = "--group-by", description = "folder: each folder of images is one product, answered in one prompt "
            + "that shows all its photos (families with a multi-image prompt only: smolvlm); one row per product.")
    String groupBy;

    @Option(names = "--products", description = "CSV file product_id,image_path (relative paths are under --input): "
            + "the photos of each product, answered together as with --group-by folder; one row per product.")
    String products;

    @Mixin
    BeamSearchOptions beamSearch = new BeamSearchOptions();

    @Option(names = "--resume", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "Reuse earlier successful rows in --output whose image content, model and options are "
                    + "unchanged; --no-resume recomputes everything (default ${DEFAULT-VALUE}).")
    boolean resume;

    @Option(names = "--verify-content", defaultValue = "false", negatable = true, fallbackValue = "true",
            description = "Read and hash every image, also those whose path, size and modification time match an "
                    + "earlier row (by default those are reused without being opened); for stores whose "
                    + "modification times cannot be trusted (default ${DEFAULT-VALUE}).")
    boolean verifyContent;

    @Option(names = "--full-exports-max-rows", defaultValue = "" + RunExports.FULL_EXPORTS_MAX_ROWS,
            description = "results.csv and a review page of every row are written while the results have at most "
                    + "this many rows; above it the page holds tonight's rows (new, changed, errors, removed) and "
                    + "results.csv is not written: query results.parquet instead (default ${DEFAULT-VALUE}).")
    long fullExportsMaxRows;

    @Option(names = "--table-format", defaultValue = "parquet",
            description = "How the results are stored: parquet (OUTPUT/results.parquet, rewritten whole each night; "
                    + "any Parquet reader) or delta (OUTPUT/results.delta, a Delta Lake table: a night writes only "
                    + "the rows that changed, and earlier nights stay queryable; readers need Delta). A run in "
                    + "the other format converts the output (default ${DEFAULT-VALUE}).")
    String tableFormat;

    private final PrintStream out;
    private final PrintStream err;

    MoonbatchCli(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.getenv()));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, System.getenv());
    }

    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        if (args.length > 0 && args[0].equals("review")) {
            return ReviewCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        if (args.length > 0 && args[0].equals("ask")) {
            return AskCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.in, System.console() != null,
                    out, err, env);
        }
        CommandLine cli = new CommandLine(new MoonbatchCli(out, err));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        try {
            ConfigDefaults defaults = ConfigDefaults.load(configArgument(args), env, home(env));
            defaults.checkKeys(cli.getCommandSpec());
            cli.setDefaultValueProvider(defaults);
        } catch (IllegalArgumentException e) {
            err.println("moonbatch: " + e.getMessage());
            return CONFIG_ERROR;
        }
        return cli.execute(args);
    }

    /** The --config value, read before parsing because it decides the other options' defaults. */
    static String configArgument(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                return args[i + 1];
            }
            if (args[i].startsWith("--config=")) {
                return args[i].substring("--config=".length());
            }
        }
        return null;
    }

    /** --max-megapixels as the pixel limit of the image decoder. */
    static long maxPixels(double megapixels) {
        return (long) (megapixels * 1_000_000);
    }

    static String home(Map<String, String> env) {
        return System.getProperty("moonbatch.home", env.get("MOONBATCH_HOME"));
    }

    @Override
    public Integer call() {
        JobConfig config;
        try {
            config = validate();
        } catch (IllegalArgumentException | BundleException e) {
            err.println("moonbatch: " + e.getMessage());
            return CONFIG_ERROR;
        }
        try (SparkSession spark = SparkSessions.create(config.master())) {
            RunSummary summary = new CaptionJob(spark, withThreads(config, spark)).run();
            report(summary, spark);
            if (summary.everyInferenceFailed()) {
                err.println("moonbatch: inference failed on all " + summary.inferenceFailed() + " rows this run computed ("
                        + firstInferenceError(spark, summary) + "); the model or its --precision variant cannot run here. "
                        + "summary.json and the error rows are written");
                return EVERY_INFERENCE_FAILED;
            }
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("moonbatch: " + e.getMessage());
            return CONFIG_ERROR;
        } catch (Exception e) {
            Optional<String> device = deviceProblem(e);
            if (device.isPresent()) {
                err.println("moonbatch: " + device.get());
                return CONFIG_ERROR;
            }
            err.println("moonbatch: the job failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    /**
     * An executor that could not start the GPU it was asked for (without --device-fallback) fails its
     * tasks; the job then fails with Spark's wrapping of that error, which is still a configuration
     * problem: the message of the executor's {@link OrtSessions.DeviceUnavailable}, found in the
     * cause chain (local mode) or in the text of Spark's stage failure (a cluster).
     */
    static Optional<String> deviceProblem(Throwable failure) {
        String marker = OrtSessions.DeviceUnavailable.class.getName() + ": ";
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof OrtSessions.DeviceUnavailable) {
                return Optional.of(t.getMessage());
            }
            String m = t.getMessage();
            int at = m == null ? -1 : m.indexOf(marker);
            if (at >= 0) {
                String rest = m.substring(at + marker.length());
                int end = rest.indexOf('\n');
                return Optional.of((end < 0 ? rest : rest.substring(0, end)).strip());
            }
        }
        return Optional.empty();
    }

    /** Every setting checked before Spark starts, each failure one message naming the option. */
    JobConfig validate() {
        requireAtLeast("--batch-size", batchSize, 1);
        if (maxNewTokens != null) {
            requireAtLeast("--max-new-tokens", maxNewTokens, 1);
        }
        requireAtLeast("--partitions", partitions, 0);
        modelOptions.validate();
        if (fullExportsMaxRows < 0) {
            throw new IllegalArgumentException("--full-exports-max-rows: expected a number >= 0 but got " + fullExportsMaxRows);
        }
        ResultsTable.Format format = ResultsTable.Format.parse(tableFormat);
        TaskOptions asked = new TaskOptions(task, mode, prompt);
        asked.validate();
        if (master != null && !master.matches("(local(\\[(\\*|\\d+)(,\\d+)?])?|local-cluster\\[.+]|spark://.+|yarn|k8s://.+|mesos://.+)")) {
            throw new IllegalArgumentException("--master: expected local, local[N], local[*], spark://HOST:PORT, yarn or "
                    + "k8s://URL but got '" + master + "'");
        }
        GenerationOverrides search = beamSearch.overrides();
        requireInput(input);
        requireOutput(output, input);
        ModelSelection chosen = modelOptions.select(SparkSessions.runsOnThisMachine(SparkSessions.effectiveMaster(master)),
                home(System.getenv()), err);
        ModelBundle bundle = chosen.bundle();
        RuntimeOptions runtime = chosen.runtime();
        List<Attribute> fields = attributes == null ? List.of() : readAttributes(bundle);
        Task resolved = fields.isEmpty() ? resolveTask(asked, bundle) : new Task(Attribute.TASK, "");
        int tokens = GenerationLengths.forTask(maxNewTokens, bundle, fields.isEmpty() ? resolved : new Task(Task.QUERY, ""),
                mode, home(System.getenv()));
        return new JobConfig(input, output, bundle.dir().toString(), ModelFingerprint.of(bundle, runtime), master,
                batchSize, tokens, partitions, modelOptions.maxPixels(), MAX_FILE_BYTES,
                resolved, questions, search, runtime, resume, verifyContent, fullExportsMaxRows, newRunId(), null, fields,
                products(bundle), format);
    }

    /**
     * The --attributes file, checked: it replaces --task, --prompt and --questions, and needs a family
     * that scores closed choices (or, for free-text attributes only, one that reads prompts).
     */
    private List<Attribute> readAttributes(ModelBundle bundle) {
        if (prompt != null || questions != null || !Task.CAPTION.equals(task)) {
            throw new IllegalArgumentException("--attributes: asks its own questions; leave out --task, --prompt and --questions");
        }
        requireReadable("--attributes", attributes);
        List<Attribute> fields = AttributesFile.read(attributes, new org.apache.hadoop.conf.Configuration());
        String family = ModelLoader.familyOf(bundle);
        if (fields.stream().anyMatch(Attribute::closed) && !ModelLoader.scoresChoices(bundle)) {
            throw new IllegalArgumentException("--attributes: " + family + " cannot score closed choices; families that can: "
                    + ModelLoader.familiesThatScoreChoices());
        }
        if (!ModelLoader.takesPrompts(bundle)) {
            throw new IllegalArgumentException("--attributes: " + family + " only captions; it cannot answer questions");
        }
        return fields;
    }

    /** --group-by / --products, checked: one of them, and a family whose export has a multi-image prompt. */
    private Products products(ModelBundle bundle) {
        if (groupBy == null && products == null) {
            return null;
        }
        String option = groupBy != null ? "--group-by" : "--products";
        if (groupBy != null && products != null) {
            throw new IllegalArgumentException("--group-by: give at most one of --group-by and --products");
        }
        if (groupBy != null && !groupBy.equals("folder")) {
            throw new IllegalArgumentException("--group-by: expected folder but got '" + groupBy + "'");
        }
        if (questions != null) {
            throw new IllegalArgumentException(option + ": not with --questions (ask products with --prompt or --attributes)");
        }
        if (!ModelLoader.takesSeveralImages(bundle)) {
            throw new IllegalArgumentException(option + ": " + ModelLoader.familyOf(bundle) + "'s export has no prompt that "
                    + "shows several images; families that can: " + ModelLoader.familiesWithSeveralImages());
        }
        if (products != null) {
            requireReadable("--products", products);
        }
        return new Products(groupBy != null, products);
    }

    /** The task with its prompt ({@link TaskOptions}); or, with --questions, the questions' task. */
    private Task resolveTask(TaskOptions asked, ModelBundle bundle) {
        if (Task.QUERY.equals(task)) {
            asked.requireQuestions(bundle);
            if ((prompt == null) == (questions == null)) {
                throw new IllegalArgumentException("--task query: give exactly one of --prompt and --questions");
            }
            if (questions != null) {
                requireReadable("--questions", questions);
                return new Task(Task.QUERY, "");
            }
        } else if (questions != null) {
            throw new IllegalArgumentException("--questions: only with --task query");
        }
        return asked.resolve(bundle, home(System.getenv()));
    }

    private static void requireReadable(String option, String file) {
        try {
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file);
            if (!path.getFileSystem(new org.apache.hadoop.conf.Configuration()).isFile(path)) {
                throw new IllegalArgumentException(option + ": no such file: " + file);
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(option + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Sortable and unique: UTC time of the start plus a random suffix. */
    private static String newRunId() {
        return DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").format(ZonedDateTime.now(ZoneOffset.UTC))
                + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static void requireAtLeast(String option, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(option + ": expected a whole number ≥ " + min + " but got " + value);
        }
    }

    private static void requireInput(String input) {
        try {
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(input);
            if (!path.getFileSystem(new org.apache.hadoop.conf.Configuration()).exists(path)) {
                throw new IllegalArgumentException("--input: no such file or folder: " + input);
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("--input: cannot read " + input + ": " + e.getMessage(), e);
        }
    }

    /** The output must not be a file, nor the input folder or inside it (the next run would list our own files). */
    private static void requireOutput(String output, String input) {
        try {
            var conf = new org.apache.hadoop.conf.Configuration();
            org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(output);
            var fs = out.getFileSystem(conf);
            if (fs.exists(out) && !fs.getFileStatus(out).isDirectory()) {
                throw new IllegalArgumentException("--output: expected a folder but " + output + " is a file");
            }
            String o = fs.makeQualified(out).toString() + "/";
            org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(input);
            String i = in.getFileSystem(conf).makeQualified(in).toString() + "/";
            if (o.startsWith(i)) {
                throw new IllegalArgumentException("--output: must not be inside --input (" + output + " is under " + input + ")");
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("--output: cannot use " + output + ": " + e.getMessage(), e);
        }
    }

    /**
     * ONNX Runtime threads per inference and inference slots per executor, from the executor's
     * cores, the tasks it runs at once and the model's size ({@link ThreadBudget}); {@code --threads}
     * fixes the threads.
     */
    static JobConfig withThreads(JobConfig c, SparkSession spark) {
        var conf = spark.sparkContext().getConf();
        boolean local = conf.get("spark.master").startsWith("local");
        int cores = local ? Runtime.getRuntime().availableProcessors()
                : conf.getInt("spark.executor.cores", Runtime.getRuntime().availableProcessors());
        int tasks;
        if (local) {
            // local[N] runs N tasks at once whatever the machine has
            tasks = Math.max(1, spark.sparkContext().defaultParallelism());
        } else {
            tasks = Math.max(1, cores / conf.getInt("spark.task.cpus", 1));
        }
        long weights = ModelLoader.weightBytes(ModelLoader.validate(Path.of(c.model()), c.runtime()), c.runtime());
        ThreadBudget budget = ThreadBudget.derive(cores, tasks, c.runtime().intraOpThreads(),
                weights >= ThreadBudget.LARGE_MODEL_BYTES);
        return c.withRuntime(c.runtime().withIntraOpThreads(budget.threads())).withBudget(budget);
    }

    /** The table the run wrote (summary.json's {@code parquet} names it, in either format). */
    private static org.apache.spark.sql.Dataset<Row> results(SparkSession spark, RunSummary s) {
        try {
            return ResultsTable.read(spark, new org.apache.hadoop.fs.Path(s.parquet()).getParent());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** One of this run's inference errors, shortened, for the message of exit code 3. */
    private static String firstInferenceError(SparkSession spark, RunSummary s) {
        List<Row> one = results(spark, s)
                .filter(org.apache.spark.sql.functions.col("run_id").equalTo(s.runId())
                        .and(org.apache.spark.sql.functions.col("error").startsWith(PartitionCaptioner.INFERENCE_FAILED)))
                .select("error").limit(1).collectAsList();
        String e = one.isEmpty() ? PartitionCaptioner.INFERENCE_FAILED : one.get(0).getString(0).replaceAll("\\s+", " ");
        return e.length() > 300 ? e.substring(0, 300) + "…" : e;
    }

    private void report(RunSummary s, SparkSession spark) {
        out.printf(Locale.ROOT, "moonbatch: %d images → %d rows (%d captioned, %d errors%s; %d computed, %d reused) "
                        + "in %.1f s, %.2f images/s%n",
                s.images(), s.rows(), s.captioned(), s.errors(),
                s.errorsByKind().isEmpty() ? "" : " " + s.errorsByKind(), s.computed(), s.reused(),
                s.stageSeconds().get("total"), s.imagesPerSecond());
        out.println("  devices: " + s.devices());
        out.println("  parquet: " + s.parquet());
        out.println("  csv:     " + (s.csv() != null ? s.csv()
                : "(not written: more rows than --full-exports-max-rows; results.parquet has them all)"));
        List<Row> sample = results(spark, s).orderBy("image_path").limit(5).collectAsList();
        for (Row r : sample) {
            String path = r.getString(0);
            String name = path.substring(path.lastIndexOf('/') + 1);
            String text = r.getAs("text");
            out.printf("  %-32s %s%n", name, text == null ? "ERROR " + r.getAs("error") : text);
        }
    }
}
