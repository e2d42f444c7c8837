package dev.moonbatch.runtime.family;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.preprocess.Idefics3Processor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.ImageIO;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our greedy token ids against transformers.js 4.3.1 (tools/reference/vlm-generate.mjs) for the
 * decoder-only test bundles: every held-out image, its caption prompt and its three questions, and
 * the caption of each extreme-aspect image ({@link ExtremeImages}: 1000:1 either way, 1-pixel rows
 * and columns, 1x1).
 */
class DecoderOnlyAgreementTest {
    static final int MAX_NEW_TOKENS = 16;

    @ParameterizedTest
    @CsvSource({"smolvlm-tiny,smolvlm", "moondream2-tiny,moondream2"})
    void greedyTokenIdsMatchTransformersJs(String bundleName, String family) throws Exception {
        ReferenceRunner.assumeInstalled();
        Path root = ReferenceRunner.root();

        Path bundle = root.resolve("sample-data/models/" + bundleName);
        Path heldout = root.resolve("sample-data/heldout-vqa");
        Properties prompts = new Properties();
        try (Reader r = Files.newBufferedReader(root.resolve("conf/prompts.properties"))) {
            prompts.load(r);
        }
        String caption = prompts.getProperty(family + ".caption.normal");
        // Each query: the image we read, the question, the image transformers.js reads.
        List<String[]> queries = new ArrayList<>();
        List<String> lines = Files.readAllLines(heldout.resolve("questions.csv"));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", 3);
            String image = heldout.resolve(f[0]).toString();
            queries.add(new String[] {image, f[1].isEmpty() ? caption : f[1], image});
        }
        Path extremeDir = Files.createTempDirectory("moonbatch-extreme");
        List<ExtremeImages.Image> extreme = family.equals("smolvlm")
                ? ExtremeImages.forSmolVlm(extremeDir, Idefics3Processor.load(bundle))
                : ExtremeImages.write(extremeDir);
        for (ExtremeImages.Image e : extreme) {
            queries.add(new String[] {e.ours().toString(), caption, e.reference().toString()});
        }
        Path csv = Files.createTempFile("moonbatch-queries", ".csv");
        StringBuilder sb = new StringBuilder("image_path,question\n");
        queries.forEach(q -> sb.append(q[2]).append(',').append(q[1]).append('\n'));
        Files.writeString(csv, sb);

        int imageTokens;
        try (OrtSession vision = OrtEnvironment.getEnvironment().createSession(
                bundle.resolve("onnx/vision_encoder.onnx").toString(), new OrtSession.SessionOptions())) {
            long[] shape = ((TensorInfo) vision.getOutputInfo().values().iterator().next().getInfo()).getShape();
            imageTokens = (int) shape[1];
        }
        JsonNode expected = ReferenceRunner.run("vlm-generate.mjs",
                "--model", bundle.toString(), "--family", family, "--queries", csv.toString(),
                "--max-new-tokens", String.valueOf(MAX_NEW_TOKENS), "--image-tokens", String.valueOf(imageTokens));
        assertEquals(queries.size(), expected.size());

        List<long[]> ours = new ArrayList<>();
        try (VisionLanguageModel model = ModelLoader.load(bundle, RuntimeOptions.defaults())) {
            Map<String, PreparedImage> images = new LinkedHashMap<>();
            List<Query> all = new ArrayList<>();
            for (String[] q : queries) {
                PreparedImage image = images.get(q[0]);
                if (image == null) {
                    image = model.prepare(ImageIO.read(Path.of(q[0]).toFile()));
                    images.put(q[0], image);
                }
                all.add(new Query(image, new Task("query", q[1])));
            }
            for (int from = 0; from < all.size(); from += 16) {
                for (Generation g : model.generate(all.subList(from, Math.min(from + 16, all.size())), model.options(MAX_NEW_TOKENS))) {
                    ours.add(g.tokenIds());
                }
            }
        }
        int agree = 0;
        List<String> disagreements = new ArrayList<>();
        for (int i = 0; i < queries.size(); i++) {
            long[] ref = ReferenceRunner.tokenIds(expected.get(i));
            if (Arrays.equals(ref, ours.get(i))) {
                agree++;
            } else {
                disagreements.add(Path.of(queries.get(i)[0]).getFileName() + " '" + queries.get(i)[1] + "': ours "
                        + Arrays.toString(ours.get(i)) + " transformers.js " + Arrays.toString(ref));
            }
        }
        System.out.printf("%s transformers.js agreement: %d/%d queries token-for-token%n", bundleName, agree, queries.size());
        assertEquals(List.of(), disagreements);
    }
}
