package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.Fp16Bundles;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.Precision;
import dev.moonbatch.runtime.bundle.PrecisionChoice;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A per-file choice loads exactly the named files: in a copy of the bundle with fp32 and float16
 * variants of every file, the variant of each file that must NOT be loaded is overwritten with
 * garbage, so a wrong pick fails the session. The mixed model then runs, handing float16 outputs to
 * float32 inputs and back (image features → embeddings, {@code encoder_hidden_states} → decoder or
 * hoisted per-image graph), and its greedy ids are fp32's on most images.
 */
class MixedPrecisionTest {
    @TempDir
    static Path tmp;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = ';', value = {
            "vit-gpt2-tiny; encoder=fp16; sample-data/heldout/images; caption; ",
            "moondream2-tiny; vision=fp16,decoder_model_merged=fp16; sample-data/heldout-vqa/images; query; What colour is the object?",
            "florence2-tiny; fp16,embed=fp32,encoder=fp32; sample-data/heldout-florence2/images/caption; caption; <CAPTION>",
    })
    void theNamedFilesLoadAndRun(String bundleName, String choiceText, String images, String task, String prompt) throws Exception {
        Path bundle = Fp16Bundles.copyWithFp16(ReferenceRunner.root().resolve("sample-data/models/" + bundleName),
                tmp.resolve(bundleName));
        RuntimeOptions fp32 = new RuntimeOptions(Precision.FP32, 1);
        List<Path> files;
        try (Stream<Path> list = Files.list(ReferenceRunner.root().resolve(images))) {
            files = list.filter(p -> p.toString().endsWith(".png")).sorted().limit(6).toList();
        }
        Task t = new Task(task, prompt == null ? "" : prompt);
        List<long[]> reference = run(bundle, fp32, files, t);

        PrecisionChoice choice = PrecisionChoice.parse(choiceText);
        RuntimeOptions mixed = ModelLoader.resolve(dev.moonbatch.runtime.bundle.ModelBundle.open(bundle),
                new RuntimeOptions(choice, 1), w -> { throw new AssertionError("no fallback expected: " + w); });
        assertTrue(mixed.precision().files().containsValue(Precision.FP16) && mixed.precision().files().containsValue(Precision.FP32),
                mixed.precision().key());
        for (var e : mixed.precision().files().entrySet()) {
            Precision other = e.getValue() == Precision.FP16 ? Precision.FP32 : Precision.FP16;
            Files.writeString(bundle.resolve("onnx").resolve(other.fileName(e.getKey())), "not a model");
        }
        List<long[]> got = run(bundle, mixed, files, t);
        int same = 0;
        for (int i = 0; i < files.size(); i++) {
            same += Arrays.equals(reference.get(i), got.get(i)) ? 1 : 0;
        }
        System.out.printf("%s %s: %d/%d images give fp32's greedy ids%n", bundleName, mixed.precision().key(), same, files.size());
        assertTrue(same >= files.size() * 3 / 4, same + "/" + files.size());
    }

    private static List<long[]> run(Path bundle, RuntimeOptions options, List<Path> files, Task task) throws Exception {
        try (VisionLanguageModel model = ModelLoader.load(bundle, options)) {
            List<Query> queries = new ArrayList<>();
            for (Path f : files) {
                queries.add(new Query(model.prepare(ImageIO.read(f.toFile())), task));
            }
            List<long[]> out = new ArrayList<>();
            for (Generation g : model.generate(queries, model.options(12).withNumBeams(1))) {
                assertFalse(g.text().isBlank());
                out.add(g.tokenIds());
            }
            return out;
        }
    }
}
