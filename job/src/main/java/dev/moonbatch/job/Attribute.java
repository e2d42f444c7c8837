package dev.moonbatch.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.Serializable;
import java.util.List;

/**
 * One catalogue field of {@code --attributes}: a name (the {@code attr_<name>} column), the question
 * put to the model, and either a closed list of {@code choices} (answered by scoring each choice,
 * never by parsing text) or none (an open attribute: greedy text, up to {@code maxNewTokens} tokens
 * when set, else the run's {@code --max-new-tokens}).
 *
 * <p>Rows are stored one per image and attribute (task {@link #TASK}) with {@link #key()} as their
 * prompt, so reuse works per attribute as for {@code --questions}: editing one attribute's question or
 * choices changes its key, and only that attribute is computed again.
 */
public record Attribute(String name, String question, List<String> choices, Integer maxNewTokens) implements Serializable {
    /** The task of attribute rows. */
    public static final String TASK = "attribute";
    /** The {@code finish_reason} of a closed-choice answer: scored, not generated. */
    public static final String CHOICE = "choice";
    /** Prefix of the wide columns. */
    public static final String COLUMN_PREFIX = "attr_";
    private static final ObjectMapper JSON = new ObjectMapper();

    public Attribute {
        choices = choices == null ? null : List.copyOf(choices);
    }

    public boolean closed() {
        return choices != null;
    }

    /**
     * The row's prompt: {@code name: question}, then the choices as a JSON array
     * ({@code colour: What colour is it? ["red","green"]}) or the open attribute's token limit
     * ({@code [max_new_tokens=16]}). Everything that changes an answer is in it.
     */
    public String key() {
        try {
            String tail = closed() ? " " + JSON.writeValueAsString(choices)
                    : maxNewTokens != null ? " [max_new_tokens=" + maxNewTokens + "]" : "";
            return name + ": " + question + tail;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The attribute name of an attribute row's prompt ({@link #key()}): names never contain {@code ": "}. */
    public static String nameOf(String key) {
        int at = key == null ? -1 : key.indexOf(": ");
        return at < 0 ? key : key.substring(0, at);
    }

    /** The wide column of this attribute. */
    public String column() {
        return COLUMN_PREFIX + name;
    }
}
