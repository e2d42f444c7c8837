package dev.moonbatch.runtime.bundle;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The generation defaults of a bundle: {@code generation_config.json}, falling back to the
 * model's {@code config.json} (top level, then its {@code decoder} section) as transformers does.
 */
public record GenerationConfig(long decoderStartTokenId, long bosTokenId, List<Long> eosTokenIds,
                               long padTokenId, int maxLength) {

    public static GenerationConfig from(JsonNode generation, JsonNode config) {
        JsonNode[] sources = {generation, config, config.path("decoder"), config.path("text_config")};
        long bos = firstLong(sources, "bos_token_id", -1);
        long start = firstLong(sources, "decoder_start_token_id", bos);
        long pad = firstLong(sources, "pad_token_id", -1);
        List<Long> eos = new ArrayList<>();
        for (JsonNode source : sources) {
            JsonNode node = source.path("eos_token_id");
            if (node.isArray()) {
                node.forEach(n -> eos.add(n.asLong()));
            } else if (node.isIntegralNumber()) {
                eos.add(node.asLong());
            }
            if (!eos.isEmpty()) {
                break;
            }
        }
        int maxLength = (int) firstLong(sources, "max_length", 20);
        return new GenerationConfig(start, bos, List.copyOf(eos), pad, maxLength);
    }

    private static long firstLong(JsonNode[] sources, String key, long fallback) {
        for (JsonNode source : sources) {
            JsonNode node = source.path(key);
            if (node.isIntegralNumber()) {
                return node.asLong();
            }
        }
        return fallback;
    }

    public boolean isEos(long token) {
        return eosTokenIds.contains(token);
    }
}
