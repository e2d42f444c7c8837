package dev.moonbatch.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.CacheFolders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
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
     * here is a {@link DeviceUnavailable} naming the cause. On the CPU the graph comes from
     * {@link OptimizedModels} when an earlier session saved it there (loaded with optimisation off), and
     * is saved there otherwise; a cache that cannot be written or read only costs the optimisation.
     */
    public static OrtSession open(Path file, RuntimeOptions options) {
        return open(file, options, OptimizedModels.root());
    }

    /** {@link #open(Path, RuntimeOptions)} with the optimised-model cache in {@code cacheRoot} (empty: none). */
    static OrtSession open(Path file, RuntimeOptions options, Optional<Path> cacheRoot) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        // ALL_OPT with the CPU arena: the alternatives (bench/session-options.sh, which sets the
        // two bench properties) are measured in docs/performance.md.
        String level = System.getProperty(BENCH_OPT_LEVEL, OptLevel.ALL_OPT.name());
        try {
            Optional<Path> root = options.device().isGpu() || OptLevel.NO_OPT.name().equals(level)
                    ? Optional.empty() : cacheRoot;
            Path entry = null;
            if (root.isPresent()) {
                try {
                    entry = OptimizedModels.entry(root.get(), file, level);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("{}: no optimised-model cache ({}); ONNX Runtime optimises it again", label(file), e.toString());
                }
            }
            if (entry == null) {
                return create(env, file, options, level, null);
            }
            Path cached = entry.resolve(OptimizedModels.MODEL);
            if (Files.isRegularFile(entry.resolve(OptimizedModels.UNUSABLE))) {
                return create(env, file, options, level, null); // ONNX Runtime cannot save this graph (see make)
            }
            if (Files.isRegularFile(cached)) {
                try {
                    OrtSession session = create(env, cached, options, OptLevel.NO_OPT.name(), null);
                    LOG.debug("{}: optimised graph from {}", label(file), entry);
                    return session;
                } catch (OrtException e) {
                    LOG.warn("{}: the cached optimised graph {} does not load ({}); optimising again", label(file), entry,
                            e.getMessage());
                    CacheFolders.deleteTree(entry);
                }
            }
            return createAndCache(env, file, options, level, entry);
        } catch (OrtException e) {
            throw new BundleException("cannot load " + label(file) + " into ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /**
     * A session of {@code file} that also saves its optimised graph into the cache entry. The saved
     * graph is loaded once before it is published: ONNX Runtime writes some graphs it cannot read back
     * (an {@code If} whose branches share initializer names, as in Optimum's merged decoders), and
     * such a file is recorded as {@link OptimizedModels#UNUSABLE} so later runs just optimise it; graphs
     * with control flow are recorded so without trying ({@link OptimizedModels#hasControlFlow}).
     */
    private static OrtSession createAndCache(OrtEnvironment env, Path file, RuntimeOptions options, String level,
                                             Path entry) throws OrtException {
        Path tmp;
        try {
            if (OptimizedModels.hasControlFlow(file)) {
                Path skip = Files.createDirectories(entry.getParent()).resolve(entry.getFileName() + ".skip");
                Files.createDirectories(skip);
                Files.writeString(skip.resolve(OptimizedModels.UNUSABLE), "the graph has If/Loop/Scan nodes at its top level\n");
                CacheFolders.publish(skip, entry);
                return create(env, file, options, level, null);
            }
            Files.createDirectories(entry.getParent());
            tmp = Files.createTempDirectory(entry.getParent(), entry.getFileName() + ".tmp");
        } catch (IOException e) {
            LOG.warn("{}: cannot write the optimised-model cache {} ({})", label(file), entry.getParent(), e.toString());
            return create(env, file, options, level, null);
        }
        try {
            Path saved = tmp.resolve(OptimizedModels.MODEL);
            OrtSession session = create(env, file, options, level, saved);
            try {
                if (Files.isRegularFile(saved)) {
                    String problem = loadProblem(env, saved);
                    if (problem != null) {
                        Files.delete(saved);
                        Files.deleteIfExists(tmp.resolve(OptimizedModels.DATA));
                        Files.writeString(tmp.resolve(OptimizedModels.UNUSABLE), problem + "\n");
                        LOG.debug("{}: ONNX Runtime's optimised graph does not load back; not cached ({})", label(file), problem);
                    }
                    CacheFolders.publish(tmp, entry);
                }
            } catch (IOException e) {
                LOG.warn("{}: cannot write the optimised-model cache {} ({})", label(file), entry, e.toString());
            }
            return session;
        } finally {
            CacheFolders.deleteTree(tmp);
        }
    }

    /** Why a saved optimised graph does not open (ONNX Runtime's logging kept to fatal errors), or null when it does. */
    private static String loadProblem(OrtEnvironment env, Path saved) {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OptLevel.NO_OPT);
            so.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
            so.setIntraOpNumThreads(1);
            try (OrtSession ignored = env.createSession(saved.toString(), so)) {
                return null;
            }
        } catch (OrtException e) {
            String m = e.getMessage();
            return m == null ? e.toString() : m.lines().findFirst().orElse(m);
        }
    }

    /** A session of {@code file} at optimisation {@code level}; {@code saveTo}, when given, gets the optimised graph. */
    private static OrtSession create(OrtEnvironment env, Path file, RuntimeOptions options, String level, Path saveTo)
            throws OrtException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OptLevel.valueOf(level));
            so.setCPUArenaAllocator(Boolean.parseBoolean(System.getProperty(BENCH_CPU_ARENA, "true")));
            so.setInterOpNumThreads(1);
            if (options.intraOpThreads() > 0) {
                so.setIntraOpNumThreads(options.intraOpThreads());
            }
            if (saveTo != null) {
                so.setOptimizedModelFilePath(saveTo.toString());
                // weights beside the graph: protobuf cannot hold a file over 2 GB
                so.addConfigEntry("session.optimized_model_external_initializers_file_name", OptimizedModels.DATA);
                // its one warning says the saved graph is for this machine only, which the cache key ensures
                so.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            }
            Device device = options.device();
            if (device.isGpu()) {
                Optional<String> problem = addCuda(so, device.cudaIndex());
                if (problem.isPresent()) {
                    throw new DeviceUnavailable(cudaMessage(device, problem.get()));
                }
            }
            long start = System.nanoTime();
            OrtSession session = env.createSession(file.toString(), so);
            LOG.debug("{}: session at {} in {} ms{}", label(file), level, (System.nanoTime() - start) / 1_000_000,
                    saveTo == null ? "" : ", optimised graph saved");
            return session;
        }
    }

    private static String label(Path file) {
        return file.getParent() == null ? file.toString() : file.getParent().getFileName() + "/" + file.getFileName();
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
