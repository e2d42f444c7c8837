package dev.moonbatch.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.bundle.BundleException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Optional;

/** Opens ONNX Runtime sessions by file path (so external {@code .onnx_data} weights load) with our settings. */
public final class OrtSessions {
    private static final Logger LOG = LoggerFactory.getLogger(OrtSessions.class);

    /** Benchmark only: an {@code OptLevel} name instead of ALL_OPT. */
    static final String BENCH_OPT_LEVEL = "moonbatch.bench.ortOptLevel";
    /** Benchmark only: {@code false} turns ONNX Runtime's CPU memory arena off. */
    static final String BENCH_CPU_ARENA = "moonbatch.bench.ortCpuArena";

    private OrtSessions() {
    }

    /**
     * Where this JVM runs a model asked to run on {@code device}, and what to report: decided by a
     * probe here, on the machine that creates the sessions (a driver without a GPU says nothing
     * about its executors, nor one executor about another).
     *
     * @param device the device sessions are opened on: the one asked for, or the CPU after a fallback
     * @param label  {@code cpu}, {@code cuda:N}, or {@code cpu (fallback from cuda:N: why)}
     */
    public record Placement(Device device, String label) implements java.io.Serializable {
    }

    /**
     * The placement for {@code wanted} on this machine: the GPU when CUDA starts here; else the CPU
     * with a warning if {@code wanted} allows falling back, else a {@link DeviceUnavailable}.
     */
    public static Placement place(Device wanted) {
        return place(wanted, warning -> LOG.warn(warning));
    }

    /** {@link #place(Device)}, the fallback warning going to {@code warn} (a command's stderr, say). */
    public static Placement place(Device wanted, java.util.function.Consumer<String> warn) {
        if (!wanted.isGpu()) {
            return new Placement(Device.CPU, "cpu");
        }
        Optional<String> problem = cudaProblem(wanted.cudaIndex());
        if (problem.isEmpty()) {
            return new Placement(wanted, wanted.toString());
        }
        if (!wanted.cpuFallback()) {
            throw new DeviceUnavailable(cudaMessage(wanted, problem.get()));
        }
        warn.accept(cudaMessage(wanted, problem.get()) + ". --device-fallback is on: this machine runs the model on the CPU");
        return new Placement(Device.CPU, "cpu (fallback from " + wanted + ": " + problem.get() + ")");
    }

    /**
     * A session on {@code options.device()}, as {@link #place} decided it: a GPU that cannot be used
     * here is a {@link DeviceUnavailable} naming the cause.
     */
    public static OrtSession open(Path file, RuntimeOptions options) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            // ALL_OPT with the CPU arena: the alternatives (bench/session-options.sh, which sets the
            // two bench properties) are measured in docs/performance.md.
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.valueOf(
                    System.getProperty(BENCH_OPT_LEVEL, OrtSession.SessionOptions.OptLevel.ALL_OPT.name())));
            so.setCPUArenaAllocator(Boolean.parseBoolean(System.getProperty(BENCH_CPU_ARENA, "true")));
            so.setInterOpNumThreads(1);
            if (options.intraOpThreads() > 0) {
                so.setIntraOpNumThreads(options.intraOpThreads());
            }
            Device device = options.device();
            if (device.isGpu()) {
                Optional<String> problem = addCuda(so, device.cudaIndex());
                if (problem.isPresent()) {
                    throw new DeviceUnavailable(cudaMessage(device, problem.get()));
                }
            }
            return env.createSession(file.toString(), so);
        } catch (OrtException e) {
            throw new BundleException("cannot load " + file.getParent().getFileName() + "/" + file.getFileName()
                    + " into ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /**
     * Why CUDA device {@code index} cannot be used by this build on this machine, or empty when it
     * can: a cheap probe (no model loaded), run where the sessions will be created.
     */
    public static Optional<String> cudaProblem(int index) {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            return addCuda(so, index);
        }
    }

    public static String cudaMessage(Device device, String problem) {
        return "--device " + device + ": the CUDA execution provider is not available (" + problem + "). It needs the "
                + "GPU build (mvn -Pcuda package: onnxruntime_gpu) and CUDA 12 + cuDNN 9 libraries on the machine; "
                + "--device-fallback runs on the CPU instead";
    }

    private static Optional<String> addCuda(OrtSession.SessionOptions so, int index) {
        try {
            so.addCUDA(index);
            return Optional.empty();
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
            String m = e.getMessage();
            return Optional.of(m == null || m.isBlank() ? e.getClass().getSimpleName() : m.strip());
        }
    }

    /** The wanted GPU cannot be used (a configuration error: the build or the machine lacks CUDA). */
    public static final class DeviceUnavailable extends BundleException {
        public DeviceUnavailable(String message) {
            super(message);
        }
    }
}
