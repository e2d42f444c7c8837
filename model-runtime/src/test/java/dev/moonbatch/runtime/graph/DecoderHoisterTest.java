package dev.moonbatch.runtime.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecoderHoisterTest {
    static final DecoderHoister.Config CONFIG = DecoderHoister.Config.defaults();

    static Path root() {
        return Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize();
    }

    static Path tinyBundle() {
        return root().resolve("sample-data/models/vit-gpt2-tiny");
    }

    static Path tinyDecoder() {
        return tinyBundle().resolve("onnx/decoder_model_merged.onnx");
    }

    @Test
    void vitGpt2CrossAttentionKvLeavesTheStepAndTheRewriteIsCached(@TempDir Path cache) throws Exception {
        ModelProto original = HoistedDecoder.parse(tinyDecoder());
        int encoderLength = 50; // (224 / 32)^2 + 1 patches of the tiny ViT
        DecoderHoister.StepCost before = DecoderHoister.perStepCost(original, CONFIG, encoderLength);

        HoistedDecoder.Outcome made = HoistedDecoder.prepare(tinyDecoder(), cache, CONFIG, UnaryOperator.identity());
        assertTrue(made.hoisted().isPresent(), made.reason());
        assertFalse(made.fromCache());
        HoistedDecoder.Pair pair = made.hoisted().get();
        assertEquals(List.of("encoder_hidden_states"), pair.perImageInputs());
        ModelProto rewritten = HoistedDecoder.parse(pair.decoder());
        DecoderHoister.StepCost after = DecoderHoister.perStepCost(rewritten, CONFIG, encoderLength);
        System.out.println("vit-gpt2-tiny cached step, before: " + before);
        System.out.println("vit-gpt2-tiny cached step, after:  " + after);
        System.out.println("boundary tensors: " + pair.boundary().size());

        assertTrue(before.imageSideMatmuls() > 0, "the export recomputes cross-attention K/V per step");
        assertEquals(0, after.imageSideMatmuls(), "no MatMul on encoder_hidden_states-derived values per step");
        assertEquals(before.matmuls() - before.imageSideMatmuls(), after.matmuls());
        assertEquals(0, after.imageSideWeightFlops());
        assertEquals(before.weightFlops() - before.imageSideWeightFlops(), after.weightFlops());
        assertFalse(rewritten.getGraph().getInputList().stream().anyMatch(i -> i.getName().equals("encoder_hidden_states")),
                "the rewritten decoder no longer reads encoder_hidden_states");

        HoistedDecoder.Outcome again = HoistedDecoder.prepare(tinyDecoder(), cache, CONFIG, r -> {
            throw new AssertionError("the second load must come from the cache, not rewrite again");
        });
        assertTrue(again.fromCache());
        assertEquals(pair, again.hoisted().orElseThrow());
    }

    @Test
    void sameTokenIdsWithAndWithoutTheRewriteOnEveryHeldoutImage(@TempDir Path cache) throws Exception {
        List<Path> images;
        try (Stream<Path> s = Files.list(root().resolve("sample-data/heldout/images"))) {
            images = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        assertFalse(images.isEmpty());
        String old = System.getProperty(HoistedDecoder.CACHE_PROPERTY);
        System.setProperty(HoistedDecoder.CACHE_PROPERTY, cache.toString());
        try {
            List<long[]> plain = generate(images, RuntimeOptions.defaults().withHoistInvariants(false));
            List<long[]> hoisted = generate(images, RuntimeOptions.defaults());
            try (Stream<Path> s = Files.walk(cache)) {
                assertTrue(s.anyMatch(p -> p.getFileName().toString().equals(HoistedDecoder.PER_IMAGE)),
                        "the default options used the rewrite");
            }
            for (int i = 0; i < images.size(); i++) {
                assertArrayEquals(plain.get(i), hoisted.get(i), images.get(i).getFileName().toString());
            }
            System.out.println("identical token ids on " + images.size() + " held-out images");
        } finally {
            if (old == null) {
                System.clearProperty(HoistedDecoder.CACHE_PROPERTY);
            } else {
                System.setProperty(HoistedDecoder.CACHE_PROPERTY, old);
            }
        }
    }

    private static List<long[]> generate(List<Path> images, RuntimeOptions options) throws Exception {
        List<long[]> out = new ArrayList<>();
        try (VisionLanguageModel model = ModelLoader.load(tinyBundle(), options)) {
            for (int from = 0; from < images.size(); from += 8) {
                List<PreparedImage> batch = new ArrayList<>();
                for (Path p : images.subList(from, Math.min(from + 8, images.size()))) {
                    batch.add(model.prepare(ImageIO.read(p.toFile())));
                }
                for (Generation g : model.generate(batch.stream().map(p -> new Query(p, Task.caption())).toList(), model.options(20))) {
                    out.add(g.tokenIds());
                }
            }
        }
        return out;
    }

    @Test
    void aRewriteThatFailsItsSelfCheckRunsUnchanged(@TempDir Path cache) throws Exception {
        // break the per-image graph: zero its largest weight (a cross-attention K/V projection)
        UnaryOperator<DecoderHoister.Rewrite> corrupt = r -> {
            ModelProto.Builder m = r.perImage().toBuilder();
            var g = m.getGraphBuilder();
            int biggest = 0;
            for (int i = 0; i < g.getInitializerCount(); i++) {
                if (g.getInitializer(i).getRawData().size() > g.getInitializer(biggest).getRawData().size()) {
                    biggest = i;
                }
            }
            TensorProto w = g.getInitializer(biggest);
            g.setInitializer(biggest, w.toBuilder().setRawData(ByteString.copyFrom(new byte[w.getRawData().size()])));
            return new DecoderHoister.Rewrite(m.build(), r.decoder(), r.perImageInputs(), r.boundary(), r.removedNodes(),
                    r.perImageNodes());
        };
        HoistedDecoder.Outcome out = HoistedDecoder.prepare(tinyDecoder(), cache, CONFIG, corrupt);
        assertTrue(out.hoisted().isEmpty());
        assertTrue(out.reason().contains("self-check"), out.reason());
        System.out.println("corrupted rewrite: " + out.reason());
        HoistedDecoder.Outcome again = HoistedDecoder.prepare(tinyDecoder(), cache, CONFIG, UnaryOperator.identity());
        assertTrue(again.hoisted().isEmpty(), "the refusal is cached with the model's hash");
        assertTrue(again.fromCache());
    }

    @Test
    void aFlorence2StyleDecoderThatAlreadyCachesCrossAttentionKvHasNothingToMove(@TempDir Path dir) throws Exception {
        // Made by tools/bench-models/make_florence2_style_decoder.py and committed (it needs torch).
        Path decoder = dir.resolve("decoder_model_merged.onnx");
        try (var in = getClass().getResourceAsStream("/florence2-style/decoder_model_merged.onnx")) {
            assertNotNull(in, "test resource florence2-style/decoder_model_merged.onnx");
            Files.copy(in, decoder);
        }
        DecoderHoister.StepCost cost = DecoderHoister.perStepCost(HoistedDecoder.parse(decoder), CONFIG, 6);
        System.out.println("florence2-style cached step: " + cost);
        assertEquals(0, cost.imageSideMatmuls(), "the cached branch reads cross-attention K/V from the past");

        HoistedDecoder.Outcome out = HoistedDecoder.prepare(decoder, dir.resolve("cache"), CONFIG, UnaryOperator.identity());
        System.out.println("florence2-style: " + out.reason());
        assertTrue(out.hoisted().isEmpty(), "nothing moves, so the decoder runs unchanged (identical ids by construction)");
        assertTrue(out.reason().startsWith("nothing invariant worth hoisting"), out.reason());
    }
}
