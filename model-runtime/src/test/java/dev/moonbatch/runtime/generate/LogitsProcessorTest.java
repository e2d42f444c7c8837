package dev.moonbatch.runtime.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.moonbatch.runtime.generate.GenerationOptions.EarlyStopping;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogitsProcessorTest {
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeScoresOncePerToken() {
        // transformers: torch.where(score < 0, score * penalty, score / penalty) on the gathered tokens.
        float[] scores = {2.0f, -1.0f, 0.5f, 3.0f, 0.0f};
        new RepetitionPenaltyProcessor(2f).process(new long[] {0, 1, 1, 1, 4}, scores);
        assertArrayEquals(new float[] {1.0f, -2.0f, 0.5f, 3.0f, 0.0f}, scores);
    }

    @Test
    void noRepeatNgramBansTheTokensThatCompleteAnEarlierNgram() {
        // Context 1 2 3 1 2: the 3-grams are (1,2,3), (2,3,1), (3,1,2); the tail (1,2) bans 3.
        float[] scores = new float[5];
        new NoRepeatNGramProcessor(3).process(new long[] {1, 2, 3, 1, 2}, scores);
        assertArrayEquals(new float[] {0, 0, 0, NEG_INF, 0}, scores);
        // Bigrams: after 2, the tokens that followed 2 before (3, and 4 at the end of 2 4 ... 2) are banned.
        scores = new float[5];
        new NoRepeatNGramProcessor(2).process(new long[] {2, 3, 2, 4, 2}, scores);
        assertArrayEquals(new float[] {0, 0, 0, NEG_INF, NEG_INF}, scores);
        // Too short for any n-gram: nothing banned.
        scores = new float[5];
        new NoRepeatNGramProcessor(3).process(new long[] {1}, scores);
        assertArrayEquals(new float[5], scores);
        // n = 1: every token seen so far.
        scores = new float[5];
        new NoRepeatNGramProcessor(1).process(new long[] {0, 3}, scores);
        assertArrayEquals(new float[] {NEG_INF, 0, 0, NEG_INF, 0}, scores);
    }

    @Test
    void forcedBosAfterTheStartTokenAndForcedEosAtTheLastPosition() throws Exception {
        // Prefers token 3 always; EOS (2) never wins on its own, BOS (0) is the worst.
        TableDecodingState.Model model = (input, generated) -> new float[] {-9f, -1f, -3f, 4f, 1f};
        GenerationOptions forced = new GenerationOptions(4, List.of(2L)).withForcedTokens(0, 2);
        long[][] start = {{2}, {2}};
        List<long[]> greedy = TableDecodingState.ids(Generator.greedy(new TableDecodingState(2, model), forced, start));
        assertArrayEquals(new long[] {0, 3, 3, 2}, greedy.get(0), "BOS first, EOS as the 4th of 4 tokens");
        assertArrayEquals(new long[] {0, 3, 3, 2}, greedy.get(1));
        // Beam search: the same forced steps (every other candidate is -inf there).
        List<long[]> beam = TableDecodingState.ids(Generator.beam(new TableDecodingState(2, model), forced.withNumBeams(3), start));
        assertArrayEquals(new long[] {0, 3, 3, 2}, beam.get(0));
        // A context longer than one token (a decoder-only prompt) is never forced to BOS, as in transformers.
        float[] scores = {1f, 2f, 3f};
        ForcedTokenProcessor.bos(0).process(new long[] {5, 6}, 0, scores);
        assertArrayEquals(new float[] {1f, 2f, 3f}, scores);
        ForcedTokenProcessor.eos(2, 3).process(new long[] {5, 6, 7}, 2, scores);
        assertArrayEquals(new float[] {NEG_INF, NEG_INF, 0f}, scores);
        assertThrows(IllegalStateException.class, () -> ForcedTokenProcessor.eos(2, 3).process(new long[] {1}, new float[3]));
    }

    @Test
    void greedyAppliesTheProcessorsToTheRawLogitsWithThePrompt() throws Exception {
        // Always prefers token 1 (logit 2) over token 2 (logit 1.5): plain greedy repeats 1.
        TableDecodingState.Model model = (input, generated) -> new float[] {-5f, 2f, 1.5f};
        GenerationOptions plain = new GenerationOptions(3, List.of(0L));
        assertArrayEquals(new long[] {1, 1, 1}, Generator.greedy(new TableDecodingState(1, model), plain).get(0).ids());
        // Penalty 2: once 1 is in the sequence its logit is 2/2 = 1 < 1.5, and 2's becomes 0.75 < 1 once used.
        GenerationOptions penalised = plain.withRepetitionPenalty(2.0);
        assertArrayEquals(new long[] {1, 2, 1}, Generator.greedy(new TableDecodingState(1, model), penalised).get(0).ids());
        // A prompt holding 1 penalises it from the first step, as transformers does with input_ids.
        assertArrayEquals(new long[] {2, 1, 1},
                Generator.greedy(new TableDecodingState(1, model), penalised, new long[][] {{1}}).get(0).ids());
        // No repeated bigram: 1 1 is used once, so after 1 1 the next 1 is banned.
        assertArrayEquals(new long[] {1, 1, 2},
                Generator.greedy(new TableDecodingState(1, model), plain.withNoRepeatNgramSize(2)).get(0).ids());
    }

    @Test
    void optionsDefaultsFactoryAndValidation() throws Exception {
        GenerationOptions plain = new GenerationOptions(20, List.of(2L));
        assertEquals(new GenerationOptions(20, List.of(2L), 1, 1.0, EarlyStopping.HEURISTIC, 0, 1.0), plain);
        assertTrue(LogitsProcessor.of(plain).isEmpty());

        ObjectMapper json = new ObjectMapper();
        // Florence-2-base-ft's generation_config.json.
        GenerationOptions florence = GenerationOptions.fromGenerationConfig(json.readTree("""
                {"_from_model_config": true, "bos_token_id": 0, "decoder_start_token_id": 2,
                 "early_stopping": true, "eos_token_id": 2, "forced_bos_token_id": 0, "forced_eos_token_id": 2,
                 "no_repeat_ngram_size": 3, "num_beams": 3, "pad_token_id": 1}"""), 20, List.of(2L));
        assertEquals(new GenerationOptions(20, List.of(2L), 3, 1.0, EarlyStopping.WHEN_FULL, 3, 1.0, 0, 2), florence);
        assertEquals(3, LogitsProcessor.of(florence).size(), "n-gram ban, forced BOS, forced EOS");
        assertEquals(new GenerationOptions(9, List.of(), 4, 0.5, EarlyStopping.NEVER, 0, 1.2),
                GenerationOptions.fromGenerationConfig(json.readTree("""
                        {"num_beams": 4, "length_penalty": 0.5, "early_stopping": "never", "repetition_penalty": 1.2,
                         "no_repeat_ngram_size": null}"""), 9, List.of()));
        assertEquals(plain, GenerationOptions.fromGenerationConfig(json.readTree("{}"), 20, List.of(2L)));
        assertEquals(plain, GenerationOptions.fromGenerationConfig(null, 20, List.of(2L)));

        assertMessage("--num-beams: expected a number ≥ 1 but got 0", () -> plain.withNumBeams(0));
        assertMessage("--repetition-penalty: expected a number > 0 (1 = off) but got 0.0", () -> plain.withRepetitionPenalty(0));
        assertMessage("--no-repeat-ngram-size: expected a number ≥ 0 (0 = off) but got -1", () -> plain.withNoRepeatNgramSize(-1));
        assertMessage("--length-penalty: expected a finite number but got NaN", () -> plain.withLengthPenalty(Double.NaN));
        assertMessage("--early-stopping: expected true, false or never but got 'sometimes'", () -> EarlyStopping.parse("sometimes"));
        assertEquals(EarlyStopping.WHEN_FULL, EarlyStopping.parse("true"));
        assertEquals(EarlyStopping.HEURISTIC, EarlyStopping.parse("False"));
        assertEquals(EarlyStopping.NEVER, EarlyStopping.parse("never"));
        var textBeams = json.readTree("{\"num_beams\": \"3\"}");
        assertMessage("generation_config.json: num_beams must be an integer but is \"3\"",
                () -> GenerationOptions.fromGenerationConfig(textBeams, 5, List.of()));
    }

    private static void assertMessage(String message, Runnable action) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, action::run).getMessage());
    }
}
