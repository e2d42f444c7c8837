package dev.moonbatch.runtime.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.util.List;
import java.util.Locale;

/**
 * How to search, how long to generate and when to stop. The names follow transformers'
 * {@code GenerationConfig}; validation messages name the CLI option that sets each value.
 *
 * @param maxNewTokens      generated tokens at most (EOS counts as one)
 * @param eosTokenIds       tokens that end a sequence; empty means run to {@code maxNewTokens}
 * @param numBeams          1 = greedy search, more = beam search ({@code num_beams})
 * @param lengthPenalty     beam search only: a finished hypothesis scores
 *                          {@code sum of log-probs / generatedLength ** lengthPenalty} ({@code length_penalty})
 * @param earlyStopping     beam search only: when an input stops searching ({@code early_stopping})
 * @param noRepeatNgramSize n-grams of this size occur at most once in a sequence; 0 = off ({@code no_repeat_ngram_size})
 * @param repetitionPenalty scores of tokens already in the sequence are divided (positive) or multiplied
 *                          (negative) by this; 1 = off ({@code repetition_penalty})
 * @param forcedBosTokenId  the first generated token of a sequence whose context is one token long
 *                          (an encoder-decoder's start token); -1 = off ({@code forced_bos_token_id})
 * @param forcedEosTokenId  the token forced at the last of {@code maxNewTokens}; -1 = off ({@code forced_eos_token_id})
 */
public record GenerationOptions(int maxNewTokens, List<Long> eosTokenIds, int numBeams, double lengthPenalty,
                                EarlyStopping earlyStopping, int noRepeatNgramSize, double repetitionPenalty,
                                long forcedBosTokenId, long forcedEosTokenId) {

    /** transformers' {@code early_stopping}: {@code false}, {@code true} or {@code "never"}. */
    public enum EarlyStopping {
        /**
         * {@code false} (the default): an input stops once it holds {@code numBeams} finished hypotheses
         * and its best running beam, scored at its current length, is no better than the worst of them.
         */
        HEURISTIC,
        /** {@code true}: an input stops as soon as it holds {@code numBeams} finished hypotheses. */
        WHEN_FULL,
        /**
         * {@code "never"}: like {@link #HEURISTIC}, but with {@code lengthPenalty > 0} the running beam is
         * scored at {@code maxNewTokens} (the best it could do), so the search is exact under the heap.
         */
        NEVER;

        /** {@code true}/{@code false}/{@code never} (the JSON and CLI spellings). */
        public static EarlyStopping parse(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "false" -> HEURISTIC;
                case "true" -> WHEN_FULL;
                case "never" -> NEVER;
                default -> throw new IllegalArgumentException(
                        "--early-stopping: expected true, false or never but got '" + value + "'");
            };
        }
    }

    public GenerationOptions {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("--max-new-tokens: expected a number ≥ 1 but got " + maxNewTokens);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
        if (numBeams < 1) {
            throw new IllegalArgumentException("--num-beams: expected a number ≥ 1 but got " + numBeams);
        }
        if (!Double.isFinite(lengthPenalty)) {
            throw new IllegalArgumentException("--length-penalty: expected a finite number but got " + lengthPenalty);
        }
        if (earlyStopping == null) {
            throw new IllegalArgumentException("--early-stopping: expected true, false or never but got nothing");
        }
        if (noRepeatNgramSize < 0) {
            throw new IllegalArgumentException("--no-repeat-ngram-size: expected a number ≥ 0 (0 = off) but got "
                    + noRepeatNgramSize);
        }
        if (!(repetitionPenalty > 0) || !Double.isFinite(repetitionPenalty)) {
            throw new IllegalArgumentException("--repetition-penalty: expected a number > 0 (1 = off) but got "
                    + repetitionPenalty);
        }
    }

    /** Options without forced tokens. */
    public GenerationOptions(int maxNewTokens, List<Long> eosTokenIds, int numBeams, double lengthPenalty,
                             EarlyStopping earlyStopping, int noRepeatNgramSize, double repetitionPenalty) {
        this(maxNewTokens, eosTokenIds, numBeams, lengthPenalty, earlyStopping, noRepeatNgramSize, repetitionPenalty,
                -1, -1);
    }

    /** Greedy search with no logits processors: 1 beam, length penalty 1, no n-gram ban, no repetition penalty. */
    public GenerationOptions(int maxNewTokens, List<Long> eosTokenIds) {
        this(maxNewTokens, eosTokenIds, 1, 1.0, EarlyStopping.HEURISTIC, 0, 1.0);
    }

    /**
     * Options with the search defaults of a bundle's {@code generation_config.json}: {@code num_beams},
     * {@code length_penalty}, {@code early_stopping}, {@code no_repeat_ngram_size},
     * {@code repetition_penalty}, {@code forced_bos_token_id}, {@code forced_eos_token_id}; a key that is
     * missing or {@code null} keeps transformers' default (1, 1.0, false, 0, 1.0, none, none). A value of
     * the wrong type is an error naming the key.
     */
    public static GenerationOptions fromGenerationConfig(JsonNode generationConfig, int maxNewTokens,
                                                         List<Long> eosTokenIds) {
        JsonNode json = generationConfig == null ? MissingNode.getInstance()
                : generationConfig;
        int beams = intKey(json, "num_beams", 1);
        double lengthPenalty = doubleKey(json, "length_penalty", 1.0);
        int ngram = intKey(json, "no_repeat_ngram_size", 0);
        double repetition = doubleKey(json, "repetition_penalty", 1.0);
        EarlyStopping early = EarlyStopping.HEURISTIC;
        JsonNode node = json.path("early_stopping");
        if (node.isBoolean()) {
            early = node.booleanValue() ? EarlyStopping.WHEN_FULL : EarlyStopping.HEURISTIC;
        } else if (node.isTextual() && node.textValue().equals("never")) {
            early = EarlyStopping.NEVER;
        } else if (!node.isMissingNode() && !node.isNull()) {
            throw new IllegalArgumentException("generation_config.json: early_stopping must be true, false or \"never\" but is "
                    + node);
        }
        long forcedBos = intKey(json, "forced_bos_token_id", -1);
        long forcedEos = intKey(json, "forced_eos_token_id", -1);
        return new GenerationOptions(maxNewTokens, eosTokenIds, beams, lengthPenalty, early, ngram, repetition,
                forcedBos, forcedEos);
    }

    private static int intKey(JsonNode json, String key, int fallback) {
        JsonNode node = json.path(key);
        if (node.isMissingNode() || node.isNull()) {
            return fallback;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new IllegalArgumentException("generation_config.json: " + key + " must be an integer but is " + node);
        }
        return node.intValue();
    }

    private static double doubleKey(JsonNode json, String key, double fallback) {
        JsonNode node = json.path(key);
        if (node.isMissingNode() || node.isNull()) {
            return fallback;
        }
        if (!node.isNumber()) {
            throw new IllegalArgumentException("generation_config.json: " + key + " must be a number but is " + node);
        }
        return node.doubleValue();
    }

    public GenerationOptions withMaxNewTokens(int value) {
        return new GenerationOptions(value, eosTokenIds, numBeams, lengthPenalty, earlyStopping, noRepeatNgramSize,
                repetitionPenalty, forcedBosTokenId, forcedEosTokenId);
    }

    public GenerationOptions withNumBeams(int value) {
        return new GenerationOptions(maxNewTokens, eosTokenIds, value, lengthPenalty, earlyStopping, noRepeatNgramSize,
                repetitionPenalty, forcedBosTokenId, forcedEosTokenId);
    }

    public GenerationOptions withLengthPenalty(double value) {
        return new GenerationOptions(maxNewTokens, eosTokenIds, numBeams, value, earlyStopping, noRepeatNgramSize,
                repetitionPenalty, forcedBosTokenId, forcedEosTokenId);
    }

    public GenerationOptions withEarlyStopping(EarlyStopping value) {
        return new GenerationOptions(maxNewTokens, eosTokenIds, numBeams, lengthPenalty, value, noRepeatNgramSize,
                repetitionPenalty, forcedBosTokenId, forcedEosTokenId);
    }

    public GenerationOptions withNoRepeatNgramSize(int value) {
        return new GenerationOptions(maxNewTokens, eosTokenIds, numBeams, lengthPenalty, earlyStopping, value,
                repetitionPenalty, forcedBosTokenId, forcedEosTokenId);
    }

    public GenerationOptions withRepetitionPenalty(double value) {
        return new GenerationOptions(maxNewTokens, eosTokenIds, numBeams, lengthPenalty, earlyStopping,
                noRepeatNgramSize, value, forcedBosTokenId, forcedEosTokenId);
    }

    /** These forced tokens ({@code forced_bos_token_id} / {@code forced_eos_token_id}); -1 = off. */
    public GenerationOptions withForcedTokens(long bos, long eos) {
        return new GenerationOptions(maxNewTokens, eosTokenIds, numBeams, lengthPenalty, earlyStopping,
                noRepeatNgramSize, repetitionPenalty, bos, eos);
    }

    boolean isEos(long token) {
        return eosTokenIds.contains(token);
    }
}
