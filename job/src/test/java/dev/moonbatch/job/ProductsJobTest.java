package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.csv.CSVRecord;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Products with several photos: {@code --group-by folder} and {@code --products FILE} give one row
 * per product (its photos in {@code image_paths}), answered by SmolVLM in one prompt that shows them
 * all; a bad photo makes its product's row an error that names it; a rerun reuses unchanged products
 * and recomputes the one whose photo changed; families without a multi-image prompt exit 2.
 */
class ProductsJobTest {
    @TempDir
    Path tmp;

    private static final String SMOL = TestPaths.root().resolve("sample-data/models/smolvlm-tiny").toString();

    /** p1: two photos, p2: two photos, p3: a photo and a file that is not an image. */
    private Path catalogue() throws Exception {
        Path images = TestPaths.root().resolve("sample-data/heldout-vqa/images");
        Path in = tmp.resolve("catalogue");
        for (String p : List.of("p1", "p2", "p3")) {
            Files.createDirectories(in.resolve(p));
        }
        Files.copy(images.resolve("vqa_000.png"), in.resolve("p1/front.png"));
        Files.copy(images.resolve("vqa_001.png"), in.resolve("p1/back.png"));
        Files.copy(images.resolve("vqa_002.png"), in.resolve("p2/front.png"));
        Files.copy(images.resolve("vqa_003.png"), in.resolve("p2/side.png"));
        Files.copy(images.resolve("vqa_004.png"), in.resolve("p3/front.png"));
        Files.writeString(in.resolve("p3/broken.png"), "not an image");
        return in;
    }

    @Test
    void groupByFolderGivesOneRowPerProduct() throws Exception {
        Path in = catalogue();
        Path out = tmp.resolve("out");
        Path attrs = Files.writeString(tmp.resolve("a.yaml"), "attributes:\n  - name: shape\n    question: What shape is the object?\n"
                + "    choices: [mug, ball, box, bottle, star]\n");
        String[] args = {"--input", in.toString(), "--output", out.toString(), "--model", SMOL, "--master", "local[2]",
                "--group-by", "folder", "--attributes", attrs.toString()};
        CliRun run = CliRun.of(args);
        assertEquals(0, run.exitCode(), run.err());
        List<CSVRecord> rows = CliRun.csv(out);
        assertEquals(3, rows.size(), "rows = products");
        Map<String, CSVRecord> byProduct = rows.stream().collect(Collectors.toMap(r -> r.get("image_path")
                .substring(r.get("image_path").lastIndexOf('/') + 1), r -> r));
        ObjectMapper json = new ObjectMapper();
        JsonNode p1 = json.readTree(byProduct.get("p1").get("image_paths"));
        assertEquals(2, p1.size());
        assertTrue(p1.get(0).asText().endsWith("p1/back.png") && p1.get(1).asText().endsWith("p1/front.png"), p1.toString());
        for (String ok : List.of("p1", "p2")) {
            assertEquals("", byProduct.get(ok).get("error"), ok);
            assertTrue(List.of("mug", "ball", "box", "bottle", "star").contains(byProduct.get(ok).get("attr_shape")));
        }
        String error = byProduct.get("p3").get("error");
        assertTrue(error.startsWith("UNSUPPORTED_FORMAT: ") && error.contains("p3/broken.png"), error);
        assertEquals("", byProduct.get("p3").get("attr_shape"));

        // a rerun reuses the products; a changed photo recomputes its product only
        Files.copy(TestPaths.root().resolve("sample-data/heldout-vqa/images/vqa_005.png"), in.resolve("p2/side.png"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CliRun again = CliRun.of(args);
        assertEquals(0, again.exitCode(), again.err());
        JsonNode summary = Outputs.summary(out);
        assertEquals(1, summary.path("reused").asLong(), summary.toString());
        assertEquals(2, summary.path("computed").asLong(), "p2 (changed) and p3 (an error, retried)");
        List<Row> parquet = Outputs.rows(out);
        assertEquals(3, parquet.size());
    }

    @Test
    void productsFileAndFamiliesWithoutAMultiImagePrompt() throws Exception {
        Path in = catalogue();
        Path list = Files.writeString(tmp.resolve("products.csv"), "product_id,image_path\n"
                + "sku-1,p1/front.png\nsku-1,p2/front.png\nsku-2,p1/back.png\n");
        Path out = tmp.resolve("out");
        CliRun run = CliRun.of("--input", in.toString(), "--output", out.toString(), "--model", SMOL, "--master", "local[2]",
                "--products", list.toString(), "--task", "query", "--prompt", "What colour is the object?");
        assertEquals(0, run.exitCode(), run.err());
        List<CSVRecord> rows = CliRun.csv(out);
        assertEquals(List.of("sku-1", "sku-2"), rows.stream().map(r -> r.get("image_path")
                .substring(r.get("image_path").lastIndexOf('/') + 1)).toList());
        assertEquals(2, new ObjectMapper().readTree(rows.get(0).get("image_paths")).size());
        assertTrue(rows.stream().allMatch(r -> r.get("error").isEmpty() && !r.get("text").isEmpty()));

        for (String family : List.of("moondream2-tiny", "blip2-tiny", "florence2-tiny", "vit-gpt2-tiny")) {
            CliRun refused = CliRun.of("--input", in.toString(), "--output", tmp.resolve("no").toString(), "--model",
                    TestPaths.root().resolve("sample-data/models/" + family).toString(), "--group-by", "folder");
            assertEquals(2, refused.exitCode(), refused.err());
            assertTrue(refused.err().strip().lines().count() == 1 && refused.err().contains("families that can: [smolvlm]"),
                    refused.err());
        }
        assertTrue(!Files.exists(tmp.resolve("no")));
    }
}
