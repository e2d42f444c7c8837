package dev.moonbatch.job;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.Device;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.OrtSessions;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.Precision;
import org.apache.spark.SparkException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --device} is honoured on either kind of machine: where the CUDA execution provider cannot
 * start (the CPU build, or the GPU build without CUDA libraries), {@code --device cuda} is one clear
 * configuration error before any work, or a CPU run under {@code --device-fallback} that
 * summary.json reports as a fallback; where CUDA works, the run reports {@code cuda:0}. A job that
 * ignored the option would fail here on both.
 */
class DeviceOptionTest {
    @TempDir
    Path tmp;

    /** Why CUDA cannot start here, or empty where it can. */
    private static final Optional<String> NO_CUDA = OrtSessions.cudaProblem(0);

    @Test
    void cudaIsUsedOrRefusedWithOneMessage() throws Exception {
        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output",
                tmp.resolve("out").toString(), "--model", TestPaths.demoModel().toString(), "--device", "cuda:0",
                "--master", "local[1]", "--max-new-tokens", "4");
        if (NO_CUDA.isPresent()) {
            assertEquals(2, run.exitCode(), run.err());
            assertTrue(run.err().contains("--device cuda:0: the CUDA execution provider is not available"), run.err());
            assertTrue(run.err().contains("-Pcuda") && run.err().contains("--device-fallback"), run.err());
        } else {
            assertEquals(0, run.exitCode(), run.err());
            assertTrue(devices(tmp.resolve("out")).values().stream().allMatch("cuda:0"::equals), run.out());
        }
    }

    @Test
    void badDeviceNameIsAConfigError() {
        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output",
                tmp.resolve("out").toString(), "--model", TestPaths.demoModel().toString(), "--device", "tpu");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--device: expected cpu, cuda or cuda:N but got 'tpu'"), run.err());
    }

    @Test
    void fallbackIsDecidedWhereTheModelLoadsAndReported() throws Exception {
        Path out = tmp.resolve("out");
        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output",
                out.toString(), "--model", TestPaths.demoModel().toString(), "--device", "cuda",
                "--device-fallback", "--master", "local[1]", "--max-new-tokens", "4");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(CliRun.csv(out).stream().allMatch(r -> r.get("error").isEmpty()));
        JsonNode devices = Outputs.summary(out).get("devices");
        assertEquals(1, devices.size(), "local mode: one executor, the driver: " + devices);
        String used = devices.elements().next().asText();
        if (NO_CUDA.isPresent()) {
            assertTrue(run.err().contains("warning: --device cuda:0: the CUDA execution provider is not available"), run.err());
            assertTrue(used.startsWith("cpu (fallback from cuda:0: "), used);
        } else {
            assertEquals("cuda:0", used);
        }
        assertTrue(devices.fieldNames().next().startsWith("driver@"), devices.toString());
    }

    @Test
    void aCpuRunSaysSo() throws Exception {
        Path out = tmp.resolve("out");
        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output",
                out.toString(), "--model", TestPaths.demoModel().toString(), "--master", "local[1]", "--max-new-tokens", "2");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(devices(out).values().stream().allMatch("cpu"::equals), devices(out).toString());
    }

    @Test
    void theModelIsPlacedWhereItLoads() {
        RuntimeOptions gpu = new RuntimeOptions(Precision.FP32, 1).withDevice(new Device(0, false));
        if (NO_CUDA.isPresent()) {
            var e = assertThrows(OrtSessions.DeviceUnavailable.class, () -> ModelLoader.load(TestPaths.demoModel(), gpu));
            assertTrue(e.getMessage().startsWith("--device cuda:0: the CUDA execution provider is not available"), e.getMessage());
            assertTrue(OrtSessions.place(new Device(0, true)).label().startsWith("cpu (fallback from cuda:0"));
        } else {
            assertEquals("cuda:0", OrtSessions.place(new Device(0, false)).label());
        }
        try (VisionLanguageModel m = ModelLoader.load(TestPaths.demoModel(), gpu.withDevice(new Device(0, true)))) {
            assertEquals("vit-gpt2", m.family());
        }
    }

    @Test
    void anExecutorsDeviceErrorIsAConfigurationError() {
        String message = "--device cuda:0: the CUDA execution provider is not available (no libcudart)";
        // a cluster: Spark's stage failure carries the executor's exception as text only
        SparkException onACluster = new SparkException("Job aborted due to stage failure: Task 0 in stage 3.0 failed 4 "
                + "times, most recent failure: Lost task 0.3 (TID 9) (10.0.0.7 executor 1): "
                + OrtSessions.DeviceUnavailable.class.getName() + ": " + message + "\n\tat dev.moonbatch...");
        assertEquals(Optional.of(message), MoonbatchCli.deviceProblem(onACluster));
        // local mode: the exception itself is the cause
        assertEquals(Optional.of(message), MoonbatchCli.deviceProblem(
                new SparkException("stage failure", new OrtSessions.DeviceUnavailable(message))));
        assertEquals(Optional.empty(), MoonbatchCli.deviceProblem(new SparkException("disk full")));
    }

    @Test
    void theCpuBuildListsNoCudaProvider() {
        Assumptions.assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
                "the GPU build lists CUDA (its libraries are what is missing here)");
        assertTrue(NO_CUDA.orElseThrow().length() > 0);
    }

    private static java.util.Map<String, String> devices(Path out) throws Exception {
        java.util.Map<String, String> m = new java.util.TreeMap<>();
        Outputs.summary(out).get("devices").fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
        assertTrue(!m.isEmpty(), "summary.json names the device of every executor that ran the model");
        return m;
    }
}
