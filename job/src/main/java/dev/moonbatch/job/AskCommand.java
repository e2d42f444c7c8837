package dev.moonbatch.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moonbatch.io.DecodedImage;
import dev.moonbatch.io.ImageDecoder;
import dev.moonbatch.io.ImageError;
import dev.moonbatch.io.ImageFiles;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.Region;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.generate.GenerationOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code moonbatch ask --image FILE [--prompt TEXT]}: one image, no Spark. The image is read,
 * decoded and preprocessed as the job does it (the io module's {@link ImageFiles} and
 * {@link ImageDecoder}, then the family's {@code prepare}), prompts come from {@link TaskOptions},
 * generation options from {@link GenerationOverrides#optionsFor}, so an answer is the text the job
 * writes for the same image and options. Questions come from {@code --prompt}, else from stdin, one
 * per line; the image is prepared once and, as the families keep the last image's features,
 * vision-encoded once for all of them.
 */
@Command(name = "moonbatch ask", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Answers questions about one image with a model bundle, without Spark: --prompt TEXT answers "
                + "one question; without it, questions are read from stdin one per line (on a terminal: type a "
                + "question, get its answer, an empty line or 'exit' ends); with no question at all it gives the "
                + "family's caption. Each answer is one line: TEXT<TAB>confidence 0.87 (line breaks and tabs in the "
                + "text written as \\n and \\t), or with --json one JSON object.",
                "",
                "Options shared with the job take their defaults as the job does: environment, then config file, then "
                        + "the job's built-in defaults."},
        footer = {"", "Exit codes: 0 answered, 2 bad option (missing or unreadable image, missing model, ...), 1 failure, "
                + "or a question the model could not answer (its line reads ERROR<TAB>INFERENCE_FAILED: why; the "
                + "other questions are answered)."})
final class AskCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(AskCommand.class);
    /** The options whose defaults come from the job's (env, config file, then its built-in default). */
    static final List<String> SHARED_WITH_JOB = List.of("--model", "--max-new-tokens", "--precision", "--device",
            "--device-fallback", "--threads", "--max-megapixels", "--mode", "--num-beams", "--length-penalty",
            "--early-stopping", "--no-repeat-ngram-size", "--repetition-penalty");
    /** What picocli's {@code @Option.defaultValue} holds when none is given. */
    private static final String NO_DEFAULT = "__no_default_value__";
    private static final List<String> STOP_WORDS = List.of("exit", "quit");
    /** Questions the model could not answer in this session (each got an error line). */
    private int failed;

    @Option(names = "--image", required = true, description = "The image file (local path, file://, hdfs://).")
    String image;

    @Option(names = "--prompt", description = "The question (or, with --task caption|ocr, the prompt that replaces the family's). "
            + "Default: questions from stdin.")
    String prompt;

    @Option(names = "--task", description = "query (default: each question), caption or ocr (answered once, with --prompt or the family's prompt).")
    String task;

    @Option(names = "--json", description = "Each answer as one JSON object: image, task, prompt, text, confidence, min_token_prob, finish_reason "
            + "(and regions for Florence-2 region tasks).")
    boolean json;

    @Option(names = "--config", description = "Properties file of settings, as for the job (default: $MOONBATCH_CONFIG, else conf/moonbatch.properties).")
    String configFile;

    @Mixin
    ModelOptions modelOptions = new ModelOptions();

    @Option(names = "--max-new-tokens", description = "Generated tokens per answer at most. Default: as the job's, by family, "
            + "task and mode (conf/prompts.properties), or the bundle's generation_config.json max_new_tokens.")
    Integer maxNewTokens;

    @Option(names = "--mode", description = "Caption length for the family's caption prompt: short, normal or detailed (default ${DEFAULT-VALUE}).")
    String mode;

    @Mixin
    BeamSearchOptions beamSearch = new BeamSearchOptions();

    private final BufferedReader in;
    private final boolean terminal;
    private final PrintStream out;
    private final PrintStream err;
    private final String home;

    /** Images the model vision-encoded while this command answered (its questions share one encoding). */
    private long imagesEncoded;

    /**
     * @param terminal whether stdin and stdout are a terminal: then each question gets a {@code > } prompt
     *                 and an empty line or {@code exit} ends
     */
    AskCommand(InputStream in, boolean terminal, PrintStream out, PrintStream err, Map<String, String> env) {
        this.in = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        this.terminal = terminal;
        this.out = out;
        this.err = err;
        this.home = MoonbatchCli.home(env);
    }

    static int run(String[] args, InputStream in, boolean terminal, PrintStream out, PrintStream err, Map<String, String> env) {
        CommandLine cli;
        try {
            cli = commandLine(new AskCommand(in, terminal, out, err, env), args, env);
        } catch (IllegalArgumentException e) {
            err.println("moonbatch: " + e.getMessage());
            return MoonbatchCli.CONFIG_ERROR;
        }
        return cli.execute(args);
    }

    /** The command ready to execute {@code args}, its shared options defaulting as the job's do. */
    static CommandLine commandLine(AskCommand ask, String[] args, Map<String, String> env) {
        CommandLine cli = new CommandLine(ask);
        cli.setOut(new PrintWriter(ask.out, true));
        cli.setErr(new PrintWriter(ask.err, true));
        cli.setDefaultValueProvider(jobDefaults(ConfigDefaults.load(MoonbatchCli.configArgument(args), env, ask.home)));
        return cli;
    }

    long imagesEncoded() {
        return imagesEncoded;
    }

    /** {@link #SHARED_WITH_JOB} default as for the job: its environment and config file, then its own default. */
    private static CommandLine.IDefaultValueProvider jobDefaults(ConfigDefaults config) {
        return arg -> {
            if (!(arg instanceof OptionSpec option) || !SHARED_WITH_JOB.contains(option.longestName())) {
                return null;
            }
            String configured = config.defaultValue(arg);
            return configured != null ? configured : jobDefault(option.longestName());
        };
    }

    /**
     * The job's built-in default of an option, from its {@code @Option} annotation; null where it has
     * none. (picocli's model of the job command would load Spark classes, named in its method signatures.)
     */
    static String jobDefault(String name) {
        for (Class<?> declaring : List.of(MoonbatchCli.class, ModelOptions.class, BeamSearchOptions.class)) {
            for (Field field : declaring.getDeclaredFields()) {
                Option option = field.getAnnotation(Option.class);
                if (option != null && Arrays.asList(option.names()).contains(name)) {
                    return NO_DEFAULT.equals(option.defaultValue()) ? null : option.defaultValue();
                }
            }
        }
        throw new IllegalStateException("the job has no option " + name);
    }

    /** What ask was asked to do, every option checked; no model loaded yet. */
    private record Plan(ModelSelection model, TaskOptions asked, boolean readsQuestions, GenerationOverrides search) {
        /**
         * The task for a question from stdin; for null, the task the options name (with --prompt or
         * the family's prompt), where a query without a question is the job's default: the family's caption.
         */
        Task taskFor(String question, String home) {
            if (question != null) {
                return asked.withPrompt(question).resolve(model.bundle(), home);
            }
            if (Task.QUERY.equals(asked.task()) && asked.prompt() == null) {
                return new TaskOptions(Task.CAPTION, asked.mode(), null).resolve(model.bundle(), home);
            }
            return asked.resolve(model.bundle(), home);
        }
    }

    @Override
    public Integer call() {
        Plan plan;
        DecodedImage decoded;
        try {
            TaskOptions asked = checkOptions();
            decoded = new ImageDecoder(modelOptions.maxPixels())
                    .decode(ImageFiles.readAll(image, new org.apache.hadoop.conf.Configuration(), MoonbatchCli.MAX_FILE_BYTES));
            plan = plan(asked);
        } catch (IllegalArgumentException | BundleException e) {
            err.println("moonbatch: " + e.getMessage());
            return MoonbatchCli.CONFIG_ERROR;
        } catch (ImageError e) {
            err.println("moonbatch: --image: " + image + ": " + e.describe());
            return MoonbatchCli.CONFIG_ERROR;
        }
        try (VisionLanguageModel vlm = ModelLoader.load(plan.model().bundle().dir(), plan.model().runtime())) {
            PreparedImage prepared;
            try {
                prepared = vlm.prepare(decoded.image());
            } catch (RuntimeException e) {
                err.println("moonbatch: --image: " + image + ": PREPROCESS_FAILED: " + e);
                return MoonbatchCli.CONFIG_ERROR;
            }
            decoded = null; // the prepared pixels are all the answers need
            if (!plan.readsQuestions() || answerQuestions(vlm, prepared, plan) == 0) {
                answer(vlm, prepared, plan, plan.taskFor(null, home));
            }
            imagesEncoded = vlm.imagesEncoded();
            return failed > 0 ? 1 : 0;
        } catch (Exception e) {
            var device = MoonbatchCli.deviceProblem(e);
            if (device.isPresent()) {
                err.println("moonbatch: " + device.get());
                return MoonbatchCli.CONFIG_ERROR;
            }
            err.println("moonbatch: ask failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    private TaskOptions checkOptions() {
        if (maxNewTokens != null) {
            MoonbatchCli.requireAtLeast("--max-new-tokens", maxNewTokens, 1);
        }
        modelOptions.validate();
        TaskOptions asked = new TaskOptions(task != null ? task : Task.QUERY, mode, prompt);
        asked.validate();
        return asked;
    }

    /** The model chosen and the task decided; every prompt this run can build is built once here, before weights load. */
    private Plan plan(TaskOptions asked) {
        GenerationOverrides search = beamSearch.overrides();
        ModelSelection chosen = modelOptions.select(true, home, err);
        boolean questions = Task.QUERY.equals(asked.task());
        if (questions && task == null && !ModelLoader.takesPrompts(chosen.bundle())) {
            if (prompt != null) {
                throw new IllegalArgumentException("--prompt: " + ModelLoader.familyOf(chosen.bundle())
                        + " only captions; it cannot answer questions (leave out --prompt for its caption)");
            }
            questions = false; // a caption-only family gives its caption; stdin is not read
        }
        if (questions) {
            asked.requireQuestions(chosen.bundle());
        }
        Plan plan = new Plan(chosen, asked, questions && prompt == null, search);
        GenerationLengths.forTask(maxNewTokens, chosen.bundle(), plan.taskFor(null, home), mode, home);
        return plan;
    }

    /** Answers each question line until the end of input (on a terminal also an empty line or exit); how many it answered. */
    private int answerQuestions(VisionLanguageModel vlm, PreparedImage prepared, Plan plan) throws Exception {
        if (terminal) {
            err.println("moonbatch: ask about " + image + " (an empty line or 'exit' ends)");
        }
        int answered = 0;
        while (true) {
            if (terminal) {
                out.print("> ");
                out.flush();
            }
            String line = in.readLine();
            if (line == null) {
                return answered;
            }
            String question = line.strip();
            boolean stop = question.isEmpty() || STOP_WORDS.contains(question.toLowerCase(Locale.ROOT));
            if (stop && terminal) {
                return answered;
            }
            if (!question.isEmpty()) { // piped input: blank lines are skipped, every other line is a question
                answer(vlm, prepared, plan, plan.taskFor(question, home));
                answered++;
            }
        }
    }

    /**
     * One answer about the prepared image, printed as it is ready (its features are encoded on the
     * first). A question the model cannot run (one longer than its positions, say) gets an error line
     * in its place, as the job gives it an error row, and the session goes on to the next.
     */
    private void answer(VisionLanguageModel vlm, PreparedImage prepared, Plan plan, Task t) throws Exception {
        GenerationOptions options = plan.search().optionsFor(vlm,
                GenerationLengths.forTask(maxNewTokens, plan.model().bundle(), t, mode, home));
        long start = System.nanoTime();
        Generation g;
        try {
            g = vlm.generate(List.of(new Query(prepared, t)), options).get(0);
        } catch (ai.onnxruntime.OrtException | RuntimeException e) {
            failed++;
            String error = PartitionCaptioner.INFERENCE_FAILED + ": " + firstLine(e.getMessage() == null ? e.toString() : e.getMessage());
            err.println("moonbatch: could not answer '" + t.prompt() + "': " + error);
            out.println(json ? jsonError(t, error) : "ERROR\t" + error);
            out.flush();
            return;
        }
        LOG.debug("answered in {} ms", (System.nanoTime() - start) / 1_000_000); // bench/ask-latency.sh reads it
        out.println(json ? jsonLine(t, g) : textLine(g));
        out.flush();
    }

    private static String firstLine(String message) {
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }

    private String jsonError(Task t, String error) {
        ObjectNode node = new ObjectMapper().createObjectNode();
        node.put("image", image);
        node.put("task", t.name());
        node.put("prompt", t.prompt());
        node.put("error", error);
        return node.toString();
    }

    /** {@code TEXT<TAB>confidence 0.87}; line breaks and tabs inside the text escaped so that an answer stays one line. */
    static String textLine(Generation g) {
        String text = g.text().replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
        double c = g.confidence();
        return text + "\tconfidence " + (Double.isFinite(c) ? String.format(Locale.ROOT, "%.2f", c) : "-");
    }

    private String jsonLine(Task t, Generation g) {
        ObjectNode node = new ObjectMapper().createObjectNode();
        node.put("image", image);
        node.put("task", t.name());
        node.put("prompt", t.prompt());
        node.put("text", g.text());
        putFinite(node, "confidence", g.confidence());
        putFinite(node, "min_token_prob", g.minTokenProb());
        node.put("finish_reason", g.finishReason().label());
        if (!g.regions().isEmpty()) { // Florence-2 region tasks and PP-OCR lines: labels and boxes in pixels of the image
            var regions = node.putArray("regions");
            for (Region r : g.regions()) {
                var region = regions.addObject().put("label", r.label());
                putFinite(region, "confidence", r.confidence());
                var box = region.putArray("box");
                for (float v : r.box()) {
                    box.add(v);
                }
            }
        }
        return node.toString();
    }

    private static void putFinite(ObjectNode node, String field, double value) {
        if (Double.isFinite(value)) {
            node.put(field, value);
        } else {
            node.putNull(field);
        }
    }
}
