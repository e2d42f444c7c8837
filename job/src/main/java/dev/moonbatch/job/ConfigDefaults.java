package dev.moonbatch.job;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Where an option's value comes from when the command line does not give it, in this order:
 * the environment ({@code MOONBATCH_BATCH_SIZE} for {@code --batch-size}), then the config file
 * ({@code batch-size = 8} in {@code --config FILE}, default {@code conf/moonbatch.properties}),
 * then the built-in default. The command line always wins.
 */
final class ConfigDefaults implements CommandLine.IDefaultValueProvider {
    static final String CONFIG_ENV = "MOONBATCH_CONFIG";

    private final Map<String, String> env;
    private final Properties file;
    private final Path fileUsed;

    private ConfigDefaults(Map<String, String> env, Properties file, Path fileUsed) {
        this.env = env;
        this.file = file;
        this.fileUsed = fileUsed;
    }

    /**
     * @param explicit the {@code --config} value if given (it must exist), else null: then
     *                 {@code MOONBATCH_CONFIG}, then {@code conf/moonbatch.properties} under home if present
     */
    static ConfigDefaults load(String explicit, Map<String, String> env, String home) {
        Path path = null;
        if (explicit != null) {
            path = Path.of(explicit);
        } else if (env.get(CONFIG_ENV) != null) {
            path = Path.of(env.get(CONFIG_ENV));
        } else if (home != null && Files.isRegularFile(Path.of(home, "conf", "moonbatch.properties"))) {
            path = Path.of(home, "conf", "moonbatch.properties");
        }
        Properties props = new Properties();
        if (path != null) {
            if (!Files.isRegularFile(path)) {
                throw new IllegalArgumentException("--config: no such file: " + path);
            }
            try (Reader r = Files.newBufferedReader(path)) {
                props.load(r);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException("--config: cannot read " + path + ": " + e.getMessage(), e);
            }
        }
        return new ConfigDefaults(env, props, path);
    }

    /** Keys in the config file that name no option: a typo there must not pass silently. */
    void checkKeys(CommandLine.Model.CommandSpec spec) {
        for (String key : file.stringPropertyNames()) {
            if (spec.findOption("--" + key) == null || "config".equals(key)) {
                throw new IllegalArgumentException(key + " (in " + fileUsed + "): no such setting; settings are the long "
                        + "option names without '--', e.g. batch-size = 8");
            }
        }
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option) || !option.longestName().startsWith("--")) {
            return null;
        }
        String key = option.longestName().substring(2);
        String fromEnv = env.get(envName(key));
        if (fromEnv != null) {
            return fromEnv;
        }
        String fromFile = file.getProperty(key);
        return fromFile != null ? fromFile.strip() : null;
    }

    static String envName(String key) {
        return "MOONBATCH_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }
}
