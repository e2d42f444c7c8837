package dev.moonbatch.job;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.moonbatch.runtime.Device;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.OrtSessions;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.Precision;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --device cuda} on a machine or build without a usable CUDA execution provider (the CPU
 * build, or the GPU build without CUDA libraries): one clear configuration error before any work,
 * or a CPU run with a warning under {@code --device-fallback}. Skipped where CUDA works.
 */
class DeviceOptionTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void onlyWithoutCuda() {
        Assumptions.assumeTrue(OrtSessions.cudaProblem(0).isPresent(), "CUDA works here; this test is for machines without it");
    }

    @Test
    void cudaWithoutTheProviderIsAConfigError() {
        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output",
                tmp.resolve("out").toString(), "--model", TestPaths.demoModel().toString(), "--device", "cuda:0");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--device cuda:0: the CUDA execution provider is not available"), run.err());
        assertTrue(run.err().contains("-Pcuda") && run.err().contains("--device-fallback"), run.err());
    }

    @Test
    void badDeviceNameIsAConfigError() {
        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output",
                tmp.resolve("out").toString(), "--model", TestPaths.demoModel().toString(), "--device", "tpu");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--device: expected cpu, cuda or cuda:N but got 'tpu'"), run.err());
    }

    @Test
    void fallbackRunsOnTheCpuWithAWarning() throws Exception {
        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output",
                tmp.resolve("out").toString(), "--model", TestPaths.demoModel().toString(), "--device", "cuda",
                "--device-fallback", "--master", "local[1]", "--max-new-tokens", "4");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().contains("warning: --device cuda:0: the CUDA execution provider is not available"), run.err());
        assertTrue(CliRun.csv(tmp.resolve("out")).stream().allMatch(r -> r.get("error").isEmpty()));
    }

    @Test
    void executorSideLoadFailsClearlyOrFallsBack() {
        RuntimeOptions gpu = new RuntimeOptions(Precision.FP32, 1).withDevice(new Device(0, false));
        var e = assertThrows(OrtSessions.DeviceUnavailable.class, () -> ModelLoader.load(TestPaths.demoModel(), gpu));
        assertTrue(e.getMessage().startsWith("--device cuda:0: the CUDA execution provider is not available"), e.getMessage());
        try (VisionLanguageModel m = ModelLoader.load(TestPaths.demoModel(), gpu.withDevice(new Device(0, true)))) {
            assertEquals("vit-gpt2", m.family());
        }
    }

    @Test
    void theCpuBuildListsNoCudaProvider() {
        Assumptions.assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
                "the GPU build lists CUDA (its libraries are what is missing here)");
        assertTrue(OrtSessions.cudaProblem(0).orElseThrow().length() > 0);
    }
}
