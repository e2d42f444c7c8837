package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code moonbatch ask} in this JVM, stdin piped: its answers are the job's rows for the same image
 * and options, questions from stdin get one answer each from one vision encoding, no question gives
 * the job's default caption, and bad options exit 2 naming the option.
 */
class AskCommandTest {
    private static final List<String> QUESTIONS = List.of("What colour is the object?", "What shape is the object?",
            "What is the background?");
    private static final Path IMAGE = TestPaths.root().resolve("sample-data/heldout-vqa/images/vqa_000.png");

    @TempDir
    Path tmp;

    /** An ask run: exit code, output lines, stderr and how many images its model encoded. */
    record Asked(int exitCode, List<String> lines, String err, long imagesEncoded) {
        List<JsonNode> json() throws Exception {
            List<JsonNode> nodes = new ArrayList<>();
            for (String line : lines) {
                nodes.add(new ObjectMapper().readTree(line));
            }
            return nodes;
        }
    }

    static Asked ask(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        AskCommand command = new AskCommand(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), false,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                System.getenv());
        int code = AskCommand.commandLine(command, args, System.getenv()).execute(args);
        String text = out.toString(StandardCharsets.UTF_8);
        return new Asked(code, text.isEmpty() ? List.of() : Arrays.asList(text.split("\n")),
                err.toString(StandardCharsets.UTF_8), command.imagesEncoded());
    }

    @ParameterizedTest
    @ValueSource(strings = {"smolvlm-tiny", "moondream2-tiny", "blip2-tiny", "florence2-tiny"})
    void answersAreTheJobsAndStdinQuestionsShareOneEncoding(String bundle) throws Exception {
        String model = TestPaths.root().resolve("sample-data/models/" + bundle).toString();
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        Files.copy(IMAGE, in.resolve(IMAGE.getFileName()));
        Path questions = tmp.resolve("questions.csv");
        StringBuilder csv = new StringBuilder("image_path,question\n");
        QUESTIONS.forEach(q -> csv.append(IMAGE.getFileName()).append(',').append(q).append('\n'));
        Files.writeString(questions, csv);
        Path out = tmp.resolve("out");
        CliRun captions = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model", model,
                "--master", "local[1]", "--max-new-tokens", "12");
        assertEquals(0, captions.exitCode(), captions.err());
        CliRun answers = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model", model,
                "--master", "local[1]", "--max-new-tokens", "12", "--task", "query", "--questions", questions.toString());
        assertEquals(0, answers.exitCode(), answers.err());
        Map<String, Row> jobRows = new HashMap<>();
        for (Row r : Outputs.rows(out)) {
            jobRows.put(r.getAs("task") + ":" + r.getAs("prompt"), r);
        }
        assertEquals(4, jobRows.size(), "the job's caption row and three answer rows");

        Asked asked = ask(String.join("\n", QUESTIONS) + "\n", "--model", model, "--image", IMAGE.toString(),
                "--max-new-tokens", "12", "--json");
        assertEquals(0, asked.exitCode(), asked.err());
        List<JsonNode> got = asked.json();
        assertEquals(QUESTIONS.size(), got.size(), "one answer per stdin question: " + asked.lines());
        assertEquals(1, asked.imagesEncoded(), "the image vision-encoded once for " + QUESTIONS.size() + " questions");
        for (int i = 0; i < QUESTIONS.size(); i++) {
            assertEquals(QUESTIONS.get(i), got.get(i).get("prompt").asText());
            assertSameAsJob(jobRows.get("query:" + QUESTIONS.get(i)), got.get(i));
        }

        Asked caption = ask("", "--model", model, "--image", IMAGE.toString(), "--max-new-tokens", "12", "--json");
        assertEquals(0, caption.exitCode(), caption.err());
        assertEquals(1, caption.lines().size(), "empty stdin: the family's caption");
        JsonNode c = caption.json().get(0);
        assertEquals("caption", c.get("task").asText());
        Row jobCaption = jobRows.values().stream().filter(r -> "caption".equals(r.getAs("task"))).findFirst().orElseThrow();
        assertEquals((String) jobCaption.getAs("prompt"), c.get("prompt").asText(), "the job's caption prompt");
        assertSameAsJob(jobCaption, c);

        Asked plain = ask("", "--model", model, "--image", IMAGE.toString(), "--max-new-tokens", "12",
                "--prompt", QUESTIONS.get(0));
        assertEquals(0, plain.exitCode(), plain.err());
        Row first = jobRows.get("query:" + QUESTIONS.get(0));
        assertEquals(List.of(first.getAs("text") + "\tconfidence "
                + String.format(java.util.Locale.ROOT, "%.2f", (double) first.getAs("confidence"))), plain.lines());
    }

    /** The demo model only captions: its caption (stdin unread) is the job's. */
    @Test
    void demoModelGivesTheJobsCaption() throws Exception {
        Path in = tmp.resolve("in");
        Files.createDirectories(in);
        Path image = TestPaths.root().resolve("sample-data/images/rocket.jpg");
        Files.copy(image, in.resolve(image.getFileName()));
        Path out = tmp.resolve("out");
        CliRun job = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model",
                TestPaths.demoModel().toString(), "--master", "local[1]");
        assertEquals(0, job.exitCode(), job.err());
        Row row = Outputs.rows(out).get(0);

        Asked asked = ask("What is this?\n", "--model", TestPaths.demoModel().toString(), "--image", image.toString(), "--json");
        assertEquals(0, asked.exitCode(), asked.err());
        assertEquals(1, asked.lines().size(), asked.lines().toString());
        assertSameAsJob(row, asked.json().get(0));
    }

    private static void assertSameAsJob(Row job, JsonNode asked) {
        assertEquals((String) job.getAs("text"), asked.get("text").asText(), "text of " + job.getAs("prompt"));
        assertEquals((String) job.getAs("finish_reason"), asked.get("finish_reason").asText());
        // the job decodes an image's questions as one padded batch: equal up to float rounding
        assertEquals((double) job.getAs("confidence"), asked.get("confidence").asDouble(), 1e-4);
    }

    @Test
    void aQuestionTheModelCannotRunGetsAnErrorLineAndTheSessionGoesOn() throws Exception {
        // blip2-tiny has 256 positions: a question of ~3,000 tokens cannot run, the next one can
        String tooLong = "What colour is it? " + "very ".repeat(3000);
        String blip2 = TestPaths.root().resolve("sample-data/models/blip2-tiny").toString();
        Asked session = ask(tooLong + "\nWhat colour is the object?\n", "--model", blip2, "--image", IMAGE.toString());
        assertEquals(1, session.exitCode(), session.err());
        assertEquals(2, session.lines().size(), session.lines().toString());
        assertTrue(session.lines().get(0).startsWith("ERROR\tINFERENCE_FAILED: "), session.lines().get(0));
        Asked alone = ask("", "--model", blip2, "--image", IMAGE.toString(), "--prompt", "What colour is the object?");
        assertEquals(0, alone.exitCode(), alone.err());
        assertEquals(alone.lines().get(0), session.lines().get(1), "the next question is answered as if asked alone");

        Asked asJson = ask(tooLong + "\n", "--model", blip2, "--image", IMAGE.toString(), "--json");
        assertEquals(1, asJson.exitCode());
        JsonNode error = asJson.json().get(0);
        assertTrue(error.get("error").asText().startsWith("INFERENCE_FAILED: "), error.toString());
        assertFalse(error.has("text"), error.toString());
    }

    @Test
    void badOptionsExit2NamingTheOption() throws Exception {
        String demo = TestPaths.demoModel().toString();
        Path corrupt = tmp.resolve("corrupt.jpg");
        byte[] jpeg = Files.readAllBytes(TestPaths.root().resolve("sample-data/images/rocket.jpg"));
        Files.write(corrupt, Arrays.copyOf(jpeg, 600));
        Path notImage = tmp.resolve("notes.png");
        Files.writeString(notImage, "not an image at all");

        assertBad(ask("", "--model", demo, "--image", corrupt.toString()), "--image", "CORRUPT");
        assertBad(ask("", "--model", demo, "--image", notImage.toString()), "--image", "UNSUPPORTED_FORMAT");
        assertBad(ask("", "--model", demo, "--image", tmp.resolve("missing.png").toString()), "--image", "missing.png");
        assertBad(ask("", "--model", tmp.resolve("no-model").toString(), "--image", IMAGE.toString()), "--model", "no-model");
        assertBad(ask("", "--model", demo, "--image", IMAGE.toString(), "--prompt", "What is it?"), "--prompt", "only captions");
        assertBad(ask("", "--model", demo, "--image", IMAGE.toString(), "--max-new-tokens", "0"), "--max-new-tokens", "1");
        Asked noImage = ask("", "--model", demo);
        assertEquals(2, noImage.exitCode(), noImage.err());
        assertTrue(noImage.err().contains("--image"), noImage.err());
    }

    private static void assertBad(Asked asked, String option, String detail) {
        assertEquals(2, asked.exitCode(), asked.err());
        assertTrue(asked.lines().isEmpty(), "no answer: " + asked.lines());
        String[] errLines = asked.err().strip().split("\n");
        assertEquals(1, errLines.length, "one message: " + asked.err());
        assertTrue(errLines[0].startsWith("moonbatch: " + option + ":") || errLines[0].startsWith("moonbatch: " + option + " "),
                errLines[0]);
        assertTrue(errLines[0].contains(detail), errLines[0]);
    }

    /** {@code moonbatch ask} in a JVM of its own answers without loading a single Spark class. */
    @Test
    void loadsNoSparkClass() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-verbose:class", "-DOPT_OUT_TRACKING=true", "-Dmoonbatch.hoist.cache=" + System.getProperty("moonbatch.hoist.cache", ""),
                "-cp", System.getProperty("java.class.path"), MoonbatchCli.class.getName(), "ask",
                "--model", TestPaths.demoModel().toString(), "--image", TestPaths.root().resolve("sample-data/images/rocket.jpg").toString()));
        Path log = tmp.resolve("ask.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Files.createFile(tmp.resolve("empty")).toFile())).start();
        assertEquals(0, p.waitFor(), Files.readString(log));
        List<String> lines = Files.readAllLines(log);
        assertTrue(lines.stream().anyMatch(l -> l.contains("\tconfidence ")), "an answer line");
        List<String> spark = lines.stream().filter(l -> l.contains(" org.apache.spark.")).toList();
        assertTrue(spark.isEmpty(), spark.size() + " Spark classes loaded, first: " + spark.stream().findFirst().orElse(""));
        assertFalse(lines.stream().anyMatch(l -> l.contains(" scala.")), "no Scala classes either");
    }
}
