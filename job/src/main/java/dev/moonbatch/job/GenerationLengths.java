package dev.moonbatch.job;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.bundle.ModelBundle;

import java.util.List;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How many tokens a task may generate when {@code --max-new-tokens} is not given. One limit for
 * every task cut detailed captions and OCR mid-sentence, so the default depends on what is asked:
 * the bundle's own {@code generation_config.json} {@code max_new_tokens} where it has one (no real
 * export does), else {@code conf/prompts.properties}, by the most specific key that is set:
 * <ol>
 *   <li>{@code FAMILY.prompt.<TOKEN>.max_new_tokens}: a Florence-2 task token in the prompt
 *       ({@code <OD>}, {@code <OCR_WITH_REGION>}, …);</li>
 *   <li>{@code FAMILY.caption.MODE.max_new_tokens}, {@code FAMILY.query.max_new_tokens},
 *       {@code FAMILY.ocr.max_new_tokens};</li>
 *   <li>{@code FAMILY.caption.max_new_tokens} (families without caption modes);</li>
 *   <li>{@code default.max_new_tokens}.</li>
 * </ol>
 * Rows that reach the limit say so ({@code finish_reason = length}).
 */
final class GenerationLengths {
    private static final Pattern TASK_TOKEN = Pattern.compile("^\\s*(<[A-Z_]+>)");

    private GenerationLengths() {
    }

    /** Where a default came from, for {@code --help}-style explanations and logs. */
    record Choice(int maxNewTokens, String source) {
    }

    /**
     * The limit a task generates with: {@code --max-new-tokens} where given, else {@link #resolve} from
     * the bundle and {@code conf/prompts.properties} (under {@code home}, may be null). The job and
     * {@code moonbatch ask} both take it from here.
     */
    static int forTask(Integer flag, ModelBundle bundle, Task task, String mode, String home) {
        return flag != null ? flag
                : resolve(CaptionPrompts.load(home), ModelLoader.familyOf(bundle), task, mode, bundle.declaredMaxNewTokens())
                .maxNewTokens();
    }

    static Choice resolve(Properties conf, String family, Task task, String mode, OptionalInt fromBundle) {
        if (fromBundle.isPresent()) {
            return new Choice(fromBundle.getAsInt(), "generation_config.json");
        }
        for (String key : keys(family, task, mode)) {
            String value = conf.getProperty(key);
            if (value != null && !value.isBlank()) {
                return new Choice(parse(key, value.strip()), "conf/prompts.properties " + key);
            }
        }
        throw new IllegalArgumentException("--max-new-tokens: not given and conf/prompts.properties has no "
                + String.join(" or ", keys(family, task, mode)));
    }

    private static List<String> keys(String family, Task task, String mode) {
        List<String> keys = new java.util.ArrayList<>();
        Matcher token = TASK_TOKEN.matcher(task.prompt());
        if (token.find()) {
            keys.add(family + ".prompt." + token.group(1) + ".max_new_tokens");
        }
        if (Task.CAPTION.equals(task.name())) {
            keys.add(family + ".caption." + mode + ".max_new_tokens");
            keys.add(family + ".caption.max_new_tokens");
        } else {
            keys.add(family + "." + task.name() + ".max_new_tokens");
        }
        keys.add("default.max_new_tokens");
        return keys;
    }

    private static int parse(String key, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("conf/prompts.properties " + key + ": expected a whole number >= 1 but got '"
                + value + "'");
    }
}
