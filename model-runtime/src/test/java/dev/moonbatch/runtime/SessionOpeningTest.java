package dev.moonbatch.runtime;

import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionOpeningTest {
    private static final Path ONNX = Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize()
            .resolve("sample-data/models/vit-gpt2-tiny/onnx");
    private static final RuntimeOptions CPU = new RuntimeOptions(Precision.FP32, 1);

    @Test
    void sessionsOpenSideBySideAndComeBackInOrder() throws Exception {
        List<AutoCloseable> sessions = SessionOpening.all(List.of(
                SessionOpening.open(ONNX.resolve("encoder_model.onnx"), CPU),
                SessionOpening.open(ONNX.resolve("decoder_model_merged.onnx"), CPU)));
        try {
            assertTrue(((OrtSession) sessions.get(0)).getInputNames().contains("pixel_values"));
            assertTrue(((OrtSession) sessions.get(1)).getInputNames().contains("use_cache_branch"));
        } finally {
            for (AutoCloseable s : sessions) {
                s.close();
            }
        }
    }

    @Test
    void oneFailureClosesWhatTheOthersOpenedAndIsThrown(@TempDir Path dir) throws Exception {
        Path broken = Files.write(dir.resolve("vision_encoder.onnx"), new byte[] {0, 1, 2});
        AtomicBoolean closed = new AtomicBoolean();
        BundleException e = assertThrows(BundleException.class, () -> SessionOpening.all(List.of(
                SessionOpening.start("fine", () -> (AutoCloseable) () -> closed.set(true)),
                SessionOpening.open(broken, CPU))));
        assertTrue(e.getMessage().contains("vision_encoder.onnx"), e.getMessage());
        assertTrue(closed.get(), "the part that loaded is closed");
        assertEquals(0, Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("moonbatch-load-") && t.isAlive()).count(), "every load was awaited");
    }
}
