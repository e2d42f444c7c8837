package dev.moonbatch.job;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README's option blocks are the CLI's own {@code --help} (picocli's model of the options), so an
 * option cannot be added without appearing there. {@code tools/update-readme-options.sh} rewrites them.
 */
class ReadmeOptionsTest {
    @Test
    void mainHelp() throws Exception {
        assertBlockIsHelp("./run.sh --help", "--help");
    }

    @Test
    void reviewHelp() throws Exception {
        assertBlockIsHelp("./run.sh review --help", "review", "--help");
    }

    @Test
    void askHelp() throws Exception {
        assertBlockIsHelp("./run.sh ask --help", "ask", "--help");
    }

    /** The text between {@code <!-- BEGIN marker -->} and {@code <!-- END marker -->}, inside its code fence. */
    private static void assertBlockIsHelp(String marker, String... args) throws Exception {
        String readme = Files.readString(TestPaths.root().resolve("README.md"));
        String begin = "<!-- BEGIN " + marker + " -->\n```text\n";
        String end = "\n```\n<!-- END " + marker + " -->";
        int from = readme.indexOf(begin);
        int to = readme.indexOf(end, Math.max(0, from));
        assertTrue(from >= 0 && to > from, "README.md lacks the block " + begin.strip() + " … " + end.strip());
        CliRun help = CliRun.withEnv(Map.of(), args);
        assertEquals(0, help.exitCode(), help.err());
        assertEquals(help.out().strip(), readme.substring(from + begin.length(), to).strip(),
                "README.md's block for `" + marker + "` differs from the CLI's help: run tools/update-readme-options.sh");
    }
}
