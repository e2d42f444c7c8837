package dev.moonbatch.job;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The {@code --attributes} file, YAML or JSON (JSON is YAML; one parser reads both):
 * <pre>
 * attributes:
 *   - name: colour
 *     question: What colour is the object?
 *     choices: [red, green, blue]
 *   - name: notes
 *     question: Describe the object.
 *     max_new_tokens: 32
 * </pre>
 * Checked in full before Spark starts; every problem is one {@link IllegalArgumentException} naming
 * the file, the attribute and the key (unknown keys, empty or repeated choices, repeated names, …).
 */
final class AttributesFile {
    static final List<String> KEYS = List.of("name", "question", "choices", "max_new_tokens");
    private static final String NAME = "[A-Za-z][A-Za-z0-9_]*";

    private AttributesFile() {
    }

    static List<Attribute> read(String file, Configuration conf) {
        JsonNode root;
        Path path = new Path(file);
        try (InputStream in = path.getFileSystem(conf).open(path)) {
            // yes / no / on / off stay words (choices), not YAML 1.1 booleans
            ObjectMapper yaml = new ObjectMapper(YAMLFactory.builder()
                    .enable(com.fasterxml.jackson.dataformat.yaml.YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS).build());
            yaml.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            root = yaml.readTree(in);
        } catch (JsonProcessingException e) {
            String at = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")";
            throw bad(file, "not valid YAML or JSON" + at + ": " + e.getOriginalMessage().lines().findFirst().orElse("").strip());
        } catch (IOException e) {
            throw bad(file, "cannot read it: " + e.getMessage());
        }
        return parse(file, root);
    }

    static List<Attribute> parse(String file, JsonNode root) {
        if (root == null || !root.isObject()) {
            throw bad(file, "expected a mapping with the key 'attributes' (a list of attributes)");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!key.equals("attributes")) {
                throw bad(file, "unknown key '" + key + "' (expected 'attributes')");
            }
        }
        JsonNode list = root.path("attributes");
        if (!list.isArray() || list.isEmpty()) {
            throw bad(file, "'attributes' must be a non-empty list");
        }
        List<Attribute> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int n = 0;
        for (JsonNode a : list) {
            n++;
            String where = "attribute " + n;
            if (!a.isObject()) {
                throw bad(file, where + ": expected a mapping with " + KEYS);
            }
            String name = text(file, where, a, "name");
            if (name == null || !name.matches(NAME)) {
                throw bad(file, where + ": 'name' must be letters, digits and _ starting with a letter (it names the column attr_<name>), got "
                        + (name == null ? "none" : "'" + name + "'"));
            }
            where += " ('" + name + "')";
            for (Iterator<String> it = a.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!KEYS.contains(key)) {
                    throw bad(file, where + ": unknown key '" + key + "' (expected " + String.join(", ", KEYS) + ")");
                }
            }
            if (!names.add(name.toLowerCase(Locale.ROOT))) {
                throw bad(file, where + ": the name '" + name + "' is used twice (names are compared ignoring case)");
            }
            String question = text(file, where, a, "question");
            if (question == null || question.isBlank()) {
                throw bad(file, where + ": needs a 'question'");
            }
            List<String> choices = null;
            if (a.has("choices")) {
                JsonNode c = a.get("choices");
                if (!c.isArray() || c.isEmpty()) {
                    throw bad(file, where + ": 'choices' must be a non-empty list (leave it out for a free-text answer)");
                }
                Set<String> seen = new LinkedHashSet<>();
                for (JsonNode v : c) {
                    if (!v.isValueNode() || v.isNull() || v.asText().isBlank()) {
                        throw bad(file, where + ": every choice must be a non-empty text, got " + v);
                    }
                    if (!seen.add(v.asText().strip())) {
                        throw bad(file, where + ": the choice '" + v.asText().strip() + "' is listed twice");
                    }
                }
                choices = List.copyOf(seen);
            }
            Integer maxNewTokens = null;
            if (a.has("max_new_tokens")) {
                JsonNode m = a.get("max_new_tokens");
                if (!m.isIntegralNumber() || m.asInt() < 1) {
                    throw bad(file, where + ": 'max_new_tokens' must be a whole number >= 1, got " + m);
                }
                if (choices != null) {
                    throw bad(file, where + ": 'max_new_tokens' is for free-text attributes; closed choices are scored, not generated");
                }
                maxNewTokens = m.asInt();
            }
            out.add(new Attribute(name, question.strip(), choices, maxNewTokens));
        }
        return List.copyOf(out);
    }

    private static String text(String file, String where, JsonNode a, String key) {
        JsonNode v = a.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw bad(file, where + ": '" + key + "' must be text, got " + v);
        }
        return v.asText();
    }

    private static IllegalArgumentException bad(String file, String what) {
        return new IllegalArgumentException("--attributes: " + file + ": " + what);
    }
}
