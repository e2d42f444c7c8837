package dev.moonbatch.runtime;

import java.util.List;

/**
 * A closed question about one prepared image: the model is asked {@code task} and each of
 * {@code choices} is scored as its answer ({@link VisionLanguageModel#score}); nothing is generated,
 * so the answer is one of the choices by construction.
 */
public record ChoiceQuery(PreparedImage image, Task task, List<String> choices) {
    public ChoiceQuery {
        choices = List.copyOf(choices);
        if (choices.isEmpty()) {
            throw new IllegalArgumentException("no choices");
        }
    }
}
