package dev.moonbatch.runtime.family;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.moonbatch.runtime.Fp16Bundles;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.Precision;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --precision fp16} on every family, with the float16 interface the real {@code _fp16}
 * exports have (float16 pixel values, inputs_embeds, encoder_hidden_states, KV cache, logits; the
 * variants are made at test time by {@link Fp16Bundles}): each runs, gives text, and its greedy ids
 * are fp32's on most held-out images (they differ only by float16 rounding at the graph boundaries).
 */
class Fp16FamiliesTest {
    @TempDir
    static Path tmp;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "vit-gpt2-tiny, sample-data/heldout/images, caption, ''",
            "smolvlm-tiny, sample-data/heldout-vqa/images, query, What colour is the object?",
            "moondream2-tiny, sample-data/heldout-vqa/images, query, What colour is the object?",
            "blip2-tiny, sample-data/heldout-vqa/images, query, What colour is the object?",
            "florence2-tiny, sample-data/heldout-florence2/images/caption, caption, <CAPTION>",
    })
    void fp16RunsAndAgreesWithFp32(String bundleName, String images, String task, String prompt) throws Exception {
        Path bundle = Fp16Bundles.copyWithFp16(ReferenceRunner.root().resolve("sample-data/models/" + bundleName),
                tmp.resolve(bundleName));
        assertFloat16Interface(bundle);
        List<Path> files;
        try (Stream<Path> list = Files.list(ReferenceRunner.root().resolve(images))) {
            files = list.filter(p -> p.toString().endsWith(".png")).sorted().limit(8).toList();
        }
        List<long[]> fp32 = run(bundle, Precision.FP32, files, new Task(task, prompt));
        List<long[]> fp16 = run(bundle, Precision.FP16, files, new Task(task, prompt));
        int same = 0;
        for (int i = 0; i < files.size(); i++) {
            same += Arrays.equals(fp32.get(i), fp16.get(i)) ? 1 : 0;
        }
        System.out.printf("%s fp16: %d/%d images give fp32's greedy ids%n", bundleName, same, files.size());
        assertTrue(same >= files.size() * 3 / 4, bundleName + ": fp16 ids equal fp32 ids for only " + same + "/" + files.size());
    }

    /** The variant really is float16 at the boundaries, as real exports are (else the test would prove nothing). */
    private static void assertFloat16Interface(Path bundle) throws Exception {
        try (OrtSession decoder = OrtEnvironment.getEnvironment().createSession(
                bundle.resolve("onnx/decoder_model_merged_fp16.onnx").toString(), new OrtSession.SessionOptions())) {
            Map<String, NodeInfo> inputs = decoder.getInputInfo();
            int float16 = 0;
            for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
                OnnxJavaType type = ((TensorInfo) e.getValue().getInfo()).type;
                assertFalse(type == OnnxJavaType.FLOAT, e.getKey() + " is still float32");
                float16 += type == OnnxJavaType.FLOAT16 ? 1 : 0;
            }
            assertTrue(inputs.keySet().stream().anyMatch(n -> n.startsWith("past_key_values.")));
            assertTrue(float16 > 2, "the past and the embeddings / encoder states are float16: " + inputs.keySet());
            assertEquals(OnnxJavaType.FLOAT16, ((TensorInfo) decoder.getOutputInfo().get("logits").getInfo()).type);
        }
    }

    /** Greedy ids per image, all images in one batch; each generation must have text. */
    private static List<long[]> run(Path bundle, Precision precision, List<Path> files, Task task) throws Exception {
        try (VisionLanguageModel model = ModelLoader.load(bundle, new RuntimeOptions(precision, 1))) {
            List<Query> queries = new ArrayList<>();
            for (Path f : files) {
                PreparedImage image = model.prepare(ImageIO.read(f.toFile()));
                queries.add(new Query(image, task));
            }
            List<long[]> out = new ArrayList<>();
            for (Generation g : model.generate(queries, model.options(12).withNumBeams(1))) {
                assertFalse(g.text().isBlank(), precision + " gave no text");
                out.add(g.tokenIds());
            }
            return out;
        }
    }
}
