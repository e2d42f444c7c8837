package dev.moonbatch.job;

import dev.moonbatch.runtime.Task;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One token limit for every task cut detailed captions and OCR mid-sentence: the default depends on
 * the family, task, mode and Florence-2 task token; the bundle's own generation config and an
 * explicit flag win.
 */
class GenerationLengthsTest {
    @TempDir
    Path tmp;

    private static final Properties SHIPPED = CaptionPrompts.load(null);

    @Test
    void theShippedDefaultsDependOnFamilyTaskAndMode() {
        assertEquals(20, tokens("vit-gpt2", Task.caption(), "normal"));
        assertEquals(32, tokens("smolvlm", new Task(Task.CAPTION, "Give a short caption for this image."), "short"));
        assertEquals(500, tokens("smolvlm", new Task(Task.CAPTION, "Describe this image in detail."), "detailed"));
        assertEquals(128, tokens("moondream2", new Task(Task.QUERY, "What colour is it?"), "normal"));
        assertEquals(64, tokens("florence2", new Task(Task.CAPTION, "<CAPTION>"), "short"));
        assertEquals(512, tokens("florence2", new Task(Task.CAPTION, "<MORE_DETAILED_CAPTION>"), "normal"),
                "the task token decides, whatever the mode");
        assertEquals(1024, tokens("florence2", new Task(Task.OCR, "<OCR>"), "normal"));
        assertEquals(1024, tokens("florence2", new Task(Task.CAPTION, "<CAPTION_TO_PHRASE_GROUNDING>a red mug"), "normal"));
        assertEquals(20, tokens("some-new-family", Task.caption(), "normal"), "default.max_new_tokens");
    }

    @Test
    void theBundlesGenerationConfigWinsOverTheShippedDefaults() {
        var choice = GenerationLengths.resolve(SHIPPED, "smolvlm", Task.caption(), "detailed", OptionalInt.of(77));
        assertEquals(77, choice.maxNewTokens());
        assertEquals("generation_config.json", choice.source());
    }

    @Test
    void aBadValueInTheConfNamesTheKey() {
        Properties conf = new Properties();
        conf.setProperty("default.max_new_tokens", "lots");
        var e = assertThrows(IllegalArgumentException.class,
                () -> GenerationLengths.resolve(conf, "vit-gpt2", Task.caption(), "normal", OptionalInt.empty()));
        assertTrue(e.getMessage().contains("default.max_new_tokens: expected a whole number >= 1 but got 'lots'"), e.getMessage());
    }

    @Test
    void theJobUsesTheFamilyDefaultUnlessTheFlagIsGiven() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        String[] common = {"--input", in.toString(), "--output", tmp.resolve("out").toString()};
        assertEquals(1024, config(common, "--model", TestPaths.root().resolve("sample-data/models/florence2-tiny").toString(),
                "--task", "ocr").maxNewTokens());
        assertEquals(128, config(common, "--model", TestPaths.root().resolve("sample-data/models/smolvlm-tiny").toString(),
                "--task", "query", "--prompt", "What colour is it?").maxNewTokens());
        JobConfig explicit = config(common, "--model", TestPaths.root().resolve("sample-data/models/florence2-tiny").toString(),
                "--task", "ocr", "--max-new-tokens", "7");
        assertEquals(7, explicit.maxNewTokens());
        assertTrue(explicit.optionsKey().contains("max_new_tokens=7"), explicit.optionsKey());
    }

    @Test
    void helpExplainsTheDefault() {
        String help = new CommandLine(new MoonbatchCli(System.out, System.err)).getUsageMessage();
        assertTrue(help.contains("--max-new-tokens") && help.contains("conf/prompts.properties"), help);
    }

    private static int tokens(String family, Task task, String mode) {
        return GenerationLengths.resolve(SHIPPED, family, task, mode, OptionalInt.empty()).maxNewTokens();
    }

    private static JobConfig config(String[] common, String... more) {
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        MoonbatchCli cli = new MoonbatchCli(quiet, quiet);
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(common), java.util.Arrays.stream(more))
                .toArray(String[]::new);
        new CommandLine(cli).parseArgs(args);
        return cli.validate();
    }
}
