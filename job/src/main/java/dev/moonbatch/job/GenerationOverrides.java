package dev.moonbatch.job;

import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.generate.GenerationOptions;

import java.io.Serializable;
import java.util.List;

/**
 * Search settings given on the command line; each null keeps the bundle's own default from
 * {@code generation_config.json}.
 */
public record GenerationOverrides(Integer numBeams, Double lengthPenalty, String earlyStopping,
                                  Integer noRepeatNgramSize, Double repetitionPenalty) implements Serializable {

    /**
     * The options a model generates with: its bundle's generation config with this token limit, then
     * these overrides. The job and {@code moonbatch ask} both take their options from here.
     */
    public GenerationOptions optionsFor(VisionLanguageModel model, int maxNewTokens) {
        return apply(model.options(maxNewTokens));
    }

    public GenerationOptions apply(GenerationOptions base) {
        GenerationOptions o = base;
        if (numBeams != null) {
            o = o.withNumBeams(numBeams);
        }
        if (lengthPenalty != null) {
            o = o.withLengthPenalty(lengthPenalty);
        }
        if (earlyStopping != null) {
            o = o.withEarlyStopping(GenerationOptions.EarlyStopping.parse(earlyStopping));
        }
        if (noRepeatNgramSize != null) {
            o = o.withNoRepeatNgramSize(noRepeatNgramSize);
        }
        if (repetitionPenalty != null) {
            o = o.withRepetitionPenalty(repetitionPenalty);
        }
        return o;
    }

    /** Fails with a message naming the option when a value is out of range. */
    void validate() {
        apply(new GenerationOptions(1, List.of()));
    }

    /** The overrides that are set, for the reuse key (they change the text). */
    String key() {
        StringBuilder sb = new StringBuilder();
        if (numBeams != null) {
            sb.append(";num_beams=").append(numBeams);
        }
        if (lengthPenalty != null) {
            sb.append(";length_penalty=").append(lengthPenalty);
        }
        if (earlyStopping != null) {
            sb.append(";early_stopping=").append(earlyStopping);
        }
        if (noRepeatNgramSize != null) {
            sb.append(";no_repeat_ngram_size=").append(noRepeatNgramSize);
        }
        if (repetitionPenalty != null) {
            sb.append(";repetition_penalty=").append(repetitionPenalty);
        }
        return sb.toString();
    }
}
