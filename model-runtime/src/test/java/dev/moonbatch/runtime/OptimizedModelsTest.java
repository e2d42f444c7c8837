package dev.moonbatch.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ONNX Runtime's optimised graphs, saved once and loaded with optimisation off ({@link OptimizedModels}). */
class OptimizedModelsTest {
    private static final Path BUNDLE = Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize()
            .resolve("sample-data/models/vit-gpt2-tiny/onnx");
    private static final Path ENCODER = BUNDLE.resolve("encoder_model.onnx");
    private static final Path MERGED_DECODER = BUNDLE.resolve("decoder_model_merged.onnx");
    private static final RuntimeOptions CPU = new RuntimeOptions(dev.moonbatch.runtime.bundle.Precision.FP32, 1);

    @Test
    void theFirstSessionSavesTheGraphAndLaterOnesLoadItWithTheSameOutputs(@TempDir Path cache) throws Exception {
        float[] fresh;
        try (OrtSession s = OrtSessions.open(ENCODER, CPU, Optional.empty())) {
            fresh = encode(s);
        }
        float[] first;
        try (OrtSession s = OrtSessions.open(ENCODER, CPU, Optional.of(cache))) {
            first = encode(s);
        }
        Path entry = onlyEntry(cache);
        assertTrue(Files.size(entry.resolve(OptimizedModels.MODEL)) > 0);
        assertTrue(Files.size(entry.resolve(OptimizedModels.DATA)) > 0, "weights beside the graph");
        long savedAt = Files.getLastModifiedTime(entry.resolve(OptimizedModels.MODEL)).toMillis();

        float[] cached;
        try (OrtSession s = OrtSessions.open(ENCODER, CPU, Optional.of(cache))) {
            cached = encode(s);
        }
        assertEquals(savedAt, Files.getLastModifiedTime(entry.resolve(OptimizedModels.MODEL)).toMillis(), "loaded, not saved again");
        assertArrayEquals(fresh, first);
        assertArrayEquals(fresh, cached);
    }

    @Test
    void aMergedDecoderWithAnIfIsRecordedAsNotCacheable(@TempDir Path cache) throws Exception {
        assertTrue(OptimizedModels.hasControlFlow(MERGED_DECODER));
        assertFalse(OptimizedModels.hasControlFlow(ENCODER));
        for (int i = 0; i < 2; i++) {
            try (OrtSession s = OrtSessions.open(MERGED_DECODER, CPU, Optional.of(cache))) {
                assertTrue(s.getInputNames().contains("use_cache_branch"));
            }
        }
        Path entry = onlyEntry(cache);
        assertTrue(Files.isRegularFile(entry.resolve(OptimizedModels.UNUSABLE)));
        assertFalse(Files.exists(entry.resolve(OptimizedModels.MODEL)));
    }

    @Test
    void aDamagedEntryIsReplacedAndTheSessionStillOpens(@TempDir Path cache) throws Exception {
        try (OrtSession ignored = OrtSessions.open(ENCODER, CPU, Optional.of(cache))) {
            // saves the entry
        }
        Path entry = onlyEntry(cache);
        Files.write(entry.resolve(OptimizedModels.MODEL), new byte[] {1, 2, 3, 4});
        float[] fresh;
        try (OrtSession s = OrtSessions.open(ENCODER, CPU, Optional.empty())) {
            fresh = encode(s);
        }
        try (OrtSession s = OrtSessions.open(ENCODER, CPU, Optional.of(cache))) {
            assertArrayEquals(fresh, encode(s));
        }
        assertTrue(Files.size(onlyEntry(cache).resolve(OptimizedModels.MODEL)) > 4, "saved again");
    }

    @Test
    void theKeyFollowsTheFilesContentAndTheOptimisationLevel(@TempDir Path dir) throws Exception {
        Path copy = Files.copy(ENCODER, dir.resolve("encoder_model.onnx"));
        Path root = dir.resolve("cache");
        Path a = OptimizedModels.entry(root, copy, "ALL_OPT");
        assertEquals(a, OptimizedModels.entry(root, ENCODER, "ALL_OPT"), "same bytes, same entry");
        assertNotEquals(a, OptimizedModels.entry(root, copy, "BASIC_OPT"));
        byte[] bytes = Files.readAllBytes(copy);
        bytes[bytes.length - 1] ^= 1;
        Files.write(copy, bytes);
        Files.setLastModifiedTime(copy, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertNotEquals(a, OptimizedModels.entry(root, copy, "ALL_OPT"));
        Files.writeString(dir.resolve("encoder_model.onnx_data"), "weights");
        Path withData = OptimizedModels.entry(root, copy, "ALL_OPT");
        Files.writeString(dir.resolve("encoder_model.onnx_data"), "other weights");
        assertNotEquals(withData, OptimizedModels.entry(root, copy, "ALL_OPT"), "external data is part of the key");
    }

    private static Path onlyEntry(Path cache) throws Exception {
        try (Stream<Path> entries = Files.list(cache)) {
            List<Path> all = entries.toList();
            assertEquals(1, all.size(), all.toString());
            return all.get(0);
        }
    }

    /** The encoder's first output for one fixed random image. */
    private static float[] encode(OrtSession session) throws Exception {
        long[] shape = {1, 3, 224, 224};
        float[] pixels = new float[3 * 224 * 224];
        Random random = new Random(7);
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = random.nextFloat() * 2 - 1;
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), shape);
             OrtSession.Result out = session.run(Map.of("pixel_values", in))) {
            return dev.moonbatch.runtime.generate.Tensors.floatArray((OnnxTensor) out.get(0));
        }
    }
}
