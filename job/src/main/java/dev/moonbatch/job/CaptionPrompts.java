package dev.moonbatch.job;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The per-family caption prompts: {@code conf/prompts.properties} as shipped inside the jar, with the
 * copy under {@code MOONBATCH_HOME/conf} (if any) overriding it key by key.
 */
final class CaptionPrompts {
    private CaptionPrompts() {
    }

    static Properties load(String home) {
        Properties props = new Properties();
        try (InputStream in = CaptionPrompts.class.getResourceAsStream("/moonbatch/prompts.properties")) {
            if (in != null) {
                props.load(in);
            }
            if (home != null) {
                Path local = Path.of(home, "conf", "prompts.properties");
                if (Files.isRegularFile(local)) {
                    try (Reader r = Files.newBufferedReader(local)) {
                        props.load(r);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the caption prompts", e);
        }
        return props;
    }
}
