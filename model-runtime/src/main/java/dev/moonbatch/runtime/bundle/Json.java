package dev.moonbatch.runtime.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the bundle's JSON files, turning every failure into a {@link BundleException} that names the file. */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    public static JsonNode read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new BundleException("model bundle lacks " + file.getFileName() + " (looked for " + file + ")");
        }
        try {
            JsonNode node = MAPPER.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new BundleException("malformed " + file.getFileName() + ": expected a JSON object (" + file + ")");
            }
            return node;
        } catch (IOException e) {
            throw new BundleException("malformed " + file.getFileName() + ": " + e.getMessage().lines().findFirst().orElse("") + " (" + file + ")", e);
        }
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
