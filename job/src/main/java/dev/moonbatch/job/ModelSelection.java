package dev.moonbatch.job;

import dev.moonbatch.runtime.Device;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.OrtSessions;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.bundle.PrecisionChoice;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The bundle and ONNX Runtime settings from {@code --model}, {@code --precision}, {@code --threads},
 * {@code --device} and {@code --device-fallback}, checked without loading weights: one check for the
 * job and {@code moonbatch ask}, so both load the same weights the same way.
 */
record ModelSelection(ModelBundle bundle, RuntimeOptions runtime) {

    /**
     * @param model    null for the demo model under {@code home}
     * @param runsHere whether the model runs on this machine (local mode, ask): only then can this
     *                 machine's CUDA be probed; on a cluster each executor probes where it loads the model
     * @param err   where a CUDA fallback warning goes
     * @throws IllegalArgumentException or {@link dev.moonbatch.runtime.bundle.BundleException}, naming the option
     */
    static ModelSelection of(String model, String precision, int threads, String device, boolean deviceFallback,
                             boolean runsHere, String home, PrintStream err) {
        Device wanted = Device.parse(device, deviceFallback);
        if (runsHere) {
            requireDevice(wanted, err);
        }
        RuntimeOptions asked = new RuntimeOptions(PrecisionChoice.parse(precision), threads).withDevice(wanted);
        String modelDir = model != null ? model : defaultModel(home);
        ModelBundle bundle = ModelLoader.validate(Path.of(modelDir), asked);
        // a single --precision falls back per file to the nearest variant the bundle has (a warning each)
        RuntimeOptions runtime = ModelLoader.resolve(bundle, asked, w -> err.println("moonbatch: warning: " + w));
        return new ModelSelection(bundle, runtime);
    }

    /**
     * A GPU that this build or this machine cannot drive is a configuration error up front, unless
     * --device-fallback lets the model use the CPU (a warning here; where the model loads still decides).
     */
    private static void requireDevice(Device wanted, PrintStream err) {
        if (!wanted.isGpu()) {
            return;
        }
        var problem = OrtSessions.cudaProblem(wanted.cudaIndex());
        if (problem.isPresent()) {
            if (!wanted.cpuFallback()) {
                throw new IllegalArgumentException(OrtSessions.cudaMessage(wanted, problem.get()));
            }
            err.println("moonbatch: warning: " + OrtSessions.cudaMessage(wanted, problem.get()) + "; running on the CPU");
        }
    }

    private static String defaultModel(String home) {
        if (home == null) {
            throw new IllegalArgumentException("--model: no model folder given (and MOONBATCH_HOME is not set to find the demo model)");
        }
        return Path.of(home, "sample-data", "models", "vit-gpt2-tiny").toString();
    }
}
