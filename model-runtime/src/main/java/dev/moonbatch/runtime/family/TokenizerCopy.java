package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.Json;
import dev.moonbatch.runtime.bundle.ModelBundle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * An edited copy of a bundle's {@code tokenizer.json} and {@code tokenizer_config.json} in a
 * temporary folder, for the exports whose tokenizer files the Rust tokenizer (through DJL) cannot
 * load as shipped: the bundle itself stays untouched.
 */
final class TokenizerCopy {
    private TokenizerCopy() {
    }

    static Path of(ModelBundle bundle, Consumer<ObjectNode> editTokenizer, Consumer<ObjectNode> editConfig) {
        try {
            Path dir = Files.createTempDirectory("moonbatch-tokenizer");
            dir.toFile().deleteOnExit();
            write(Json.read(bundle.require("tokenizer.json")), dir.resolve("tokenizer.json"), editTokenizer);
            Path config = bundle.file("tokenizer_config.json");
            if (Files.isRegularFile(config)) {
                write(Json.read(config), dir.resolve("tokenizer_config.json"), editConfig);
            }
            return dir;
        } catch (IOException e) {
            throw new BundleException("cannot prepare a copy of " + bundle.name() + "'s tokenizer: " + e.getMessage(), e);
        }
    }

    private static void write(JsonNode json, Path to, Consumer<ObjectNode> edit) throws IOException {
        if (json instanceof ObjectNode o) {
            edit.accept(o);
        }
        Json.mapper().writeValue(to.toFile(), json);
        to.toFile().deleteOnExit();
    }
}
