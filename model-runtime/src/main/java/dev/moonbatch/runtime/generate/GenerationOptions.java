package dev.moonbatch.runtime.generate;

import java.util.List;

/**
 * How long to generate and when to stop.
 *
 * @param maxNewTokens generated tokens at most (EOS counts as one)
 * @param eosTokenIds  tokens that end a sequence; empty means run to {@code maxNewTokens}
 */
public record GenerationOptions(int maxNewTokens, List<Long> eosTokenIds) {
    public GenerationOptions {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("--max-new-tokens: expected a number ≥ 1 but got " + maxNewTokens);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    boolean isEos(long token) {
        return eosTokenIds.contains(token);
    }
}
