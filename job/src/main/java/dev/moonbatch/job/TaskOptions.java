package dev.moonbatch.job;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.bundle.ModelBundle;

import java.util.List;

/**
 * {@code --task}, {@code --mode} and {@code --prompt} turned into the {@link Task} put in front of
 * the model: the one place that builds prompts (from {@code conf/prompts.properties}, see
 * {@link CaptionPrompts}), so that the job and {@code moonbatch ask} ask the same thing of an image.
 * Every failure is an {@link IllegalArgumentException} whose message names the option.
 *
 * @param prompt the question ({@code query}), or a prompt that replaces the family's; null for none
 */
record TaskOptions(String task, String mode, String prompt) {
    static final List<String> TASKS = List.of(Task.CAPTION, Task.QUERY, Task.OCR);
    static final List<String> MODES = List.of("short", "normal", "detailed");

    /** The names alone, before any bundle is looked at. */
    void validate() {
        if (!TASKS.contains(task)) {
            throw new IllegalArgumentException("--task: expected one of " + TASKS + " but got '" + task + "'");
        }
        if (!MODES.contains(mode)) {
            throw new IllegalArgumentException("--mode: expected one of " + MODES + " but got '" + mode + "'");
        }
    }

    /** The same options with another prompt (each question of {@code ask}). */
    TaskOptions withPrompt(String newPrompt) {
        return new TaskOptions(task, mode, newPrompt);
    }

    /** Questions need a family that reads prompts. */
    void requireQuestions(ModelBundle bundle) {
        if (!ModelLoader.takesPrompts(bundle)) {
            throw new IllegalArgumentException("--task: " + ModelLoader.familyOf(bundle) + " only captions; it cannot answer questions");
        }
    }

    /**
     * The task with its prompt: for {@code query} the question ({@link #prompt}, required); for
     * captions {@code --prompt}, else the family's prompt for {@code --mode} (none for a family that
     * takes no prompt); for {@code ocr} {@code --prompt}, else the family's {@code FAMILY.ocr}.
     *
     * @param home MOONBATCH_HOME, whose {@code conf/prompts.properties} overrides the shipped prompts (may be null)
     */
    Task resolve(ModelBundle bundle, String home) {
        String family = ModelLoader.familyOf(bundle);
        ModelLoader.onlyTask(bundle).filter(only -> !only.equals(task)).ifPresent(only -> {
            throw new IllegalArgumentException("--task " + task + ": " + family + " only does --task " + only);
        });
        if (Task.QUERY.equals(task)) {
            requireQuestions(bundle);
            if (prompt == null) {
                throw new IllegalArgumentException("--task query: needs a question (--prompt)");
            }
            return new Task(Task.QUERY, prompt);
        }
        if (Task.OCR.equals(task)) {
            if (!ModelLoader.supportsTask(bundle, Task.OCR)) {
                throw new IllegalArgumentException("--task ocr: " + family + " cannot read text in images; families that can: "
                        + ModelLoader.familiesWithTask(Task.OCR));
            }
            if (!ModelLoader.takesPrompts(bundle)) { // PP-OCR reads the image, no prompt
                if (prompt != null) {
                    throw new IllegalArgumentException("--prompt: " + family + " takes no prompt");
                }
                return new Task(Task.OCR, "");
            }
            return prompt != null ? new Task(Task.OCR, prompt) : new Task(Task.OCR, confPrompt(home, family + ".ocr", "--task ocr: no prompt"));
        }
        if (prompt != null) {
            return new Task(Task.CAPTION, prompt);
        }
        if (!ModelLoader.takesPrompts(bundle)) {
            return Task.caption();
        }
        return new Task(Task.CAPTION, confPrompt(home, family + ".caption." + mode, "--mode: no caption prompt"));
    }

    private static String confPrompt(String home, String key, String missing) {
        String fromConf = CaptionPrompts.load(home).getProperty(key);
        if (fromConf == null || fromConf.isBlank()) {
            throw new IllegalArgumentException(missing + " '" + key + "' in conf/prompts.properties");
        }
        return fromConf.strip();
    }
}
