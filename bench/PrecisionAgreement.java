import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moonbatch.runtime.text.TextTokenizer;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Greedy agreement of one precision variant's results with fp32's, row by row (bench/precision-variants.sh):
 * the share of rows whose text is identical, and token-level agreement — the bundle's tokenizer re-encodes
 * both texts (results.csv carries text, not ids) and equal tokens at equal positions are counted against
 * the longer of the two sequences, summed over rows. Rows with an error in either run count as disagreeing.
 * Usage: java -cp "job/target/moonbatch-job.jar:job/target/lib/*" bench/PrecisionAgreement.java BUNDLE FP32_CSV VARIANT_CSV
 * Prints: {@code rows=N same_text=S tokens_equal=E tokens=T}.
 */
public class PrecisionAgreement {
    public static void main(String[] args) throws Exception {
        Map<String, CSVRecord> reference = read(Path.of(args[1]));
        Map<String, CSVRecord> variant = read(Path.of(args[2]));
        int rows = 0;
        int sameText = 0;
        long equal = 0;
        long tokens = 0;
        try (TextTokenizer tokenizer = tokenizer(Path.of(args[0]))) {
            for (Map.Entry<String, CSVRecord> e : reference.entrySet()) {
                rows++;
                CSVRecord v = variant.get(e.getKey());
                String a = e.getValue().get("text");
                if (v == null || !v.get("error").isEmpty() || !e.getValue().get("error").isEmpty()) {
                    tokens += Math.max(1, tokenizer.encode(a, false).length);
                    continue;
                }
                String b = v.get("text");
                sameText += a.equals(b) ? 1 : 0;
                long[] x = tokenizer.encode(a, false);
                long[] y = tokenizer.encode(b, false);
                int n = Math.max(x.length, y.length);
                for (int i = 0; i < Math.min(x.length, y.length); i++) {
                    equal += x[i] == y[i] ? 1 : 0;
                }
                tokens += Math.max(n, 1);
                equal += n == 0 ? 1 : 0;
            }
        }
        System.out.printf("rows=%d same_text=%d tokens_equal=%d tokens=%d%n", rows, sameText, equal, tokens);
    }

    /**
     * The bundle's tokenizer; where DJL cannot load it as shipped (moondream2's {@code <image>} = -200,
     * BLIP-2's model_max_length 1e30) a copy without the negative-id added tokens, the post-processor
     * (texts are encoded without special tokens) and the huge model_max_length.
     */
    private static TextTokenizer tokenizer(Path bundle) throws Exception {
        try {
            return TextTokenizer.load(bundle);
        } catch (RuntimeException e) {
            ObjectMapper json = new ObjectMapper();
            Path copy = Files.createTempDirectory("precision-agreement");
            ObjectNode tok = (ObjectNode) json.readTree(bundle.resolve("tokenizer.json").toFile());
            ArrayNode added = json.createArrayNode();
            tok.withArray("added_tokens").forEach(t -> {
                if (t.path("id").asLong() >= 0) {
                    added.add(t);
                }
            });
            tok.set("added_tokens", added);
            tok.putNull("post_processor");
            json.writeValue(copy.resolve("tokenizer.json").toFile(), tok);
            Path config = bundle.resolve("tokenizer_config.json");
            if (Files.exists(config)) {
                ObjectNode c = (ObjectNode) json.readTree(config.toFile());
                c.remove("model_max_length");
                json.writeValue(copy.resolve("tokenizer_config.json").toFile(), c);
            }
            return TextTokenizer.load(copy);
        }
    }

    /** Rows keyed by image path and prompt (one image has several rows with --questions). */
    private static Map<String, CSVRecord> read(Path csv) throws Exception {
        Map<String, CSVRecord> rows = new HashMap<>();
        try (Reader in = Files.newBufferedReader(csv)) {
            for (CSVRecord r : CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(in)) {
                rows.put(r.get("image_path") + "\u0000" + r.get("prompt"), r);
            }
        }
        return rows;
    }
}
