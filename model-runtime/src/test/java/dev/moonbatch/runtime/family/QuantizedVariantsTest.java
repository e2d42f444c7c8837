package dev.moonbatch.runtime.family;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import com.google.protobuf.CodedInputStream;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.ModelBundle;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quantised variants as the real exports make them, in ONNX Runtime Java: florence2-tiny's
 * {@code _quantized} files (dynamic 8-bit: DynamicQuantizeLinear + MatMulInteger, ConvInteger in the
 * vision encoder, uint8 embedding tables) and {@code _q4} files (com.microsoft MatMulNBits, 4-bit blocks
 * of 32), committed under {@code src/test/resources/quantized/florence2-tiny} as
 * {@code tools/bench-models/make_quantized_variant.py} wrote them (no embed_tokens variant, as in the
 * trimmed real Florence-2 repos: that file falls back to fp32). The merged decoder's weights sit in the
 * outer graph and both If branches use the quantised ones. Each variant loads, captions every held-out
 * image, and its greedy ids are fp32's on most of them.
 */
class QuantizedVariantsTest {
    @TempDir
    static Path tmp;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"quantized, MatMulInteger", "q4, MatMulNBits"})
    void variantLoadsRunsAndAgreesWithFp32(String label, String op) throws Exception {
        Path bundle = bundleWithVariants(tmp.resolve(label));
        Precision precision = Precision.parse(label);
        assertQuantized(bundle.resolve("onnx/" + precision.fileName("decoder_model_merged")), op, true);
        assertQuantized(bundle.resolve("onnx/" + precision.fileName("vision_encoder")), op, false);

        List<String> warnings = new ArrayList<>();
        PrecisionChoice resolved = ModelLoader.resolve(ModelBundle.open(bundle), new RuntimeOptions(precision, 1), warnings::add)
                .precision();
        assertEquals(Map.of("vision_encoder", precision, "encoder_model", precision, "decoder_model_merged", precision,
                "embed_tokens", Precision.FP32), resolved.files(), "the variant files are the ones loaded");
        assertEquals(1, warnings.size(), warnings.toString());

        List<Path> files;
        try (Stream<Path> list = Files.list(ReferenceRunner.root().resolve("sample-data/heldout-florence2/images/caption"))) {
            files = list.filter(p -> p.toString().endsWith(".png")).sorted().limit(8).toList();
        }
        Task caption = new Task("caption", "<CAPTION>");
        List<long[]> fp32 = run(bundle, Precision.FP32, files, caption);
        List<long[]> variant = run(bundle, precision, files, caption);
        int same = 0;
        for (int i = 0; i < files.size(); i++) {
            same += Arrays.equals(fp32.get(i), variant.get(i)) ? 1 : 0;
        }
        System.out.printf("florence2-tiny %s: %d/%d images give fp32's greedy ids%n", label, same, files.size());
        assertTrue(same >= files.size() * 3 / 4, label + ": greedy ids equal fp32's for only " + same + "/" + files.size());
    }

    /** A copy of florence2-tiny with the committed variant files beside its fp32 ones. */
    private static Path bundleWithVariants(Path parent) throws Exception {
        Path source = ReferenceRunner.root().resolve("sample-data/models/florence2-tiny");
        Path copy = parent.resolve("florence2-tiny");
        try (Stream<Path> walk = Files.walk(source)) {
            for (Path f : walk.toList()) {
                Path target = copy.resolve(source.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
        Path variants = Path.of(QuantizedVariantsTest.class.getResource("/quantized/florence2-tiny").toURI());
        try (Stream<Path> list = Files.list(variants)) {
            for (Path f : list.toList()) {
                Files.copy(f, copy.resolve("onnx").resolve(f.getFileName().toString()));
            }
        }
        return copy;
    }

    /**
     * The file really is quantised (else agreement would prove nothing): the quantised op is there, no
     * float MatMul reads a weight any more, and for a merged decoder the If branches hold the op.
     */
    private static void assertQuantized(Path file, String op, boolean merged) throws Exception {
        CodedInputStream in = CodedInputStream.newInstance(Files.readAllBytes(file));
        in.setSizeLimit(Integer.MAX_VALUE);
        ModelProto model = ModelProto.parseFrom(in);
        GraphProto g = model.getGraph();
        Set<String> weights = new HashSet<>();
        g.getInitializerList().forEach(t -> weights.add(t.getName()));
        List<NodeProto> nodes = new ArrayList<>();
        collect(g, nodes);
        for (NodeProto n : nodes) { // weights as the fixtures' exports feed them: Cast / Transpose of an initializer
            if (Set.of("Cast", "Transpose", "Identity").contains(n.getOpType()) && weights.contains(n.getInput(0))) {
                weights.addAll(n.getOutputList());
            }
        }
        assertTrue(nodes.stream().anyMatch(n -> n.getOpType().equals(op)), file.getFileName() + " has no " + op);
        assertFalse(nodes.stream().anyMatch(n -> n.getOpType().equals("MatMul") && weights.contains(n.getInput(1))),
                file.getFileName() + " still multiplies by a float weight");
        if (merged) {
            NodeProto ifNode = g.getNodeList().stream().filter(n -> n.getOpType().equals("If")).findFirst().orElseThrow();
            for (AttributeProto branch : ifNode.getAttributeList()) {
                assertTrue(branch.getG().getNodeList().stream().anyMatch(n -> n.getOpType().equals(op)), branch.getName() + " has no " + op);
                assertEquals(0, branch.getG().getInitializerCount(), "the weights stay in the outer graph, shared by both branches");
            }
        }
    }

    private static void collect(GraphProto g, List<NodeProto> out) {
        for (NodeProto n : g.getNodeList()) {
            out.add(n);
            for (AttributeProto a : n.getAttributeList()) {
                if (a.getType() == AttributeProto.AttributeType.GRAPH) {
                    collect(a.getG(), out);
                }
            }
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
