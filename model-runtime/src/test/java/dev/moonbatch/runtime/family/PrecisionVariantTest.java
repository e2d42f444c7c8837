package dev.moonbatch.runtime.family;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.Precision;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --precision fp16} on smolvlm-tiny's {@code _fp16} files (made by
 * tools/bench-models/make_fp16_variant.py: float16 inputs, outputs and KV cache): the files are
 * picked by suffix, pixel values and embeddings go in as float16, the KV cache stays float16
 * through padding and row dropping, and the answers are those of fp32 but for float16 rounding.
 */
class PrecisionVariantTest {
    @Test
    void fp16VariantLoadsRunsAndAgreesWithFp32() throws Exception {
        Path root = ReferenceRunner.root();
        Path bundle = root.resolve("sample-data/models/smolvlm-tiny");
        Path decoderFile = bundle.resolve("onnx/decoder_model_merged_fp16.onnx");
        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(decoderFile.toString(), new OrtSession.SessionOptions())) {
            assertEquals(OnnxJavaType.FLOAT16, ((TensorInfo) s.getInputInfo().get("past_key_values.0.key").getInfo()).type);
            assertEquals(OnnxJavaType.FLOAT16, ((TensorInfo) s.getInputInfo().get("inputs_embeds").getInfo()).type);
        }
        Path heldout = root.resolve("sample-data/heldout-vqa");
        List<String> lines = Files.readAllLines(heldout.resolve("questions.csv"));
        List<String[]> rows = new ArrayList<>();
        for (String line : lines.subList(1, 41)) {
            String[] f = line.split(",", 3);
            rows.add(new String[] {f[0], f[1].isEmpty() ? "Can you describe this image?" : f[1]});
        }
        List<long[]> fp32 = run(bundle, Precision.FP32, heldout, rows);
        List<long[]> fp16 = run(bundle, Precision.FP16, heldout, rows);
        int same = 0;
        for (int i = 0; i < rows.size(); i++) {
            assertTrue(fp16.get(i).length > 0);
            same += Arrays.equals(fp32.get(i), fp16.get(i)) ? 1 : 0;
        }
        System.out.printf("fp16 variant: %d/%d queries give fp32's ids%n", same, rows.size());
        assertTrue(same >= rows.size() * 9 / 10, "fp16 ids equal fp32 ids for only " + same + "/" + rows.size());
    }

    /** The queries in batches of 8 (mixed prompt lengths, rows finishing at different steps). */
    private static List<long[]> run(Path bundle, Precision precision, Path heldout, List<String[]> rows) throws Exception {
        List<long[]> out = new ArrayList<>();
        try (VisionLanguageModel model = ModelLoader.load(bundle, new RuntimeOptions(precision, 1))) {
            List<Query> queries = new ArrayList<>();
            PreparedImage image = null;
            String last = null;
            for (String[] r : rows) {
                if (!r[0].equals(last)) {
                    image = model.prepare(ImageIO.read(heldout.resolve(r[0]).toFile()));
                    last = r[0];
                }
                queries.add(new Query(image, new Task("query", r[1])));
            }
            for (int from = 0; from < queries.size(); from += 8) {
                for (Generation g : model.generate(queries.subList(from, Math.min(from + 8, queries.size())), model.options(12))) {
                    out.add(g.tokenIds());
                }
            }
        }
        return out;
    }
}
