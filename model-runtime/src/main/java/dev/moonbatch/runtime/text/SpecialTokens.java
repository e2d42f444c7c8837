package dev.moonbatch.runtime.text;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.Json;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The {@code added_tokens} of a {@code tokenizer.json} (content → id), read with Jackson because
 * DJL's tokenizer has no API for the vocabulary. Immutable and thread-safe.
 */
public final class SpecialTokens {
    private final Map<String, Long> ids;

    private SpecialTokens(Map<String, Long> ids) {
        this.ids = Collections.unmodifiableMap(ids);
    }

    public static SpecialTokens read(Path tokenizerJson) {
        JsonNode added = Json.read(tokenizerJson).path("added_tokens");
        if (!added.isArray()) {
            throw new BundleException("malformed " + tokenizerJson.getFileName() + ": no 'added_tokens' array");
        }
        Map<String, Long> ids = new LinkedHashMap<>();
        for (JsonNode t : added) {
            if (t.hasNonNull("content") && t.path("id").canConvertToLong()) {
                ids.put(t.get("content").asText(), t.get("id").asLong());
            }
        }
        return new SpecialTokens(ids);
    }

    /** The id of an added token, if the tokenizer has it. */
    public OptionalLong id(String content) {
        Long id = ids.get(content);
        return id == null ? OptionalLong.empty() : OptionalLong.of(id);
    }

    /** The id of an added token, or a {@link BundleException} naming it. */
    public long require(String content) {
        Long id = ids.get(content);
        if (id == null) {
            throw new BundleException("tokenizer.json has no added token " + content);
        }
        return id;
    }

    public Map<String, Long> all() {
        return ids;
    }
}
