package dev.moonbatch.job;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.OrtSessions;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.VisionLanguageModel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one deliberate piece of static state: the models loaded in this JVM, one per
 * (bundle, options). Every Spark task of an executor borrows the same instance, because an ONNX
 * Runtime session is thread-safe and a second copy of the weights would only cost memory.
 * Models stay loaded for the life of the executor; a shutdown hook closes them.
 */
public final class ExecutorModels {
    record Key(String modelDir, RuntimeOptions options) {
    }

    /**
     * A loaded model, how many tasks use it now and at most, and the gate that lets at most
     * {@link ThreadBudget#inferenceSlots()} of them run inference at once.
     */
    private record Loaded(VisionLanguageModel model, OrtSessions.Placement placement, AtomicInteger inUse,
                          AtomicInteger peak, Semaphore slots, AtomicInteger inferring, AtomicInteger peakInferring) {
    }

    private static final Map<Key, Loaded> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "moonbatch-close-models"));
    }

    private ExecutorModels() {
    }

    /** A lease on the shared model; closing it ends this task's use (the model stays loaded). */
    public static final class Lease implements AutoCloseable {
        private final Loaded loaded;
        private boolean closed;

        private Lease(Loaded loaded) {
            this.loaded = loaded;
            loaded.peak().accumulateAndGet(loaded.inUse().incrementAndGet(), Math::max);
        }

        public VisionLanguageModel model() {
            return loaded.model();
        }

        /** Where this JVM runs the model: decided here, when it was loaded (each executor for itself). */
        public OrtSessions.Placement placement() {
            return loaded.placement();
        }

        /**
         * Runs one inference once an executor-wide slot is free: however many tasks share the model,
         * no more inferences run at once than the cores have room for (threads × slots ≤ cores),
         * and only that many batches' activations and caches are in memory.
         */
        public <T> T infer(Inference<T> work) throws Exception {
            loaded.slots().acquireUninterruptibly();
            try {
                loaded.peakInferring().accumulateAndGet(loaded.inferring().incrementAndGet(), Math::max);
                try {
                    return work.run(loaded.model());
                } finally {
                    loaded.inferring().decrementAndGet();
                }
            } finally {
                loaded.slots().release();
            }
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                loaded.inUse().decrementAndGet();
            }
        }
    }

    /** One inference on the shared model. */
    @FunctionalInterface
    public interface Inference<T> {
        T run(VisionLanguageModel model) throws Exception;
    }

    public static Lease acquire(String modelDir, RuntimeOptions options) {
        return acquire(modelDir, options, Integer.MAX_VALUE);
    }

    /**
     * @param inferenceSlots inferences allowed at once on this model in this JVM (fixed by the
     *                       first acquire, which loads it; every task of a job passes the same)
     */
    public static Lease acquire(String modelDir, RuntimeOptions options, int inferenceSlots) {
        Loaded loaded = MODELS.computeIfAbsent(new Key(modelDir, options), key -> {
            long start = System.nanoTime();
            OrtSessions.Placement placement = OrtSessions.place(key.options().device());
            VisionLanguageModel model = ModelLoader.load(Path.of(key.modelDir()), key.options().withDevice(placement.device()));
            LOG.info("loaded model {} on {} in {} ms ({} loads in this JVM)", model.name(), placement.label(),
                    (System.nanoTime() - start) / 1_000_000, LOADS.incrementAndGet());
            return new Loaded(model, placement, new AtomicInteger(), new AtomicInteger(),
                    new Semaphore(Math.max(1, inferenceSlots)), new AtomicInteger(), new AtomicInteger());
        });
        return new Lease(loaded);
    }

    /** How many models this JVM has loaded so far. */
    public static int loads() {
        return LOADS.get();
    }

    /** The most tasks that used this model at the same time in this JVM (0 if never loaded). */
    public static int peakConcurrentTasks(String modelDir, RuntimeOptions options) {
        Loaded loaded = MODELS.get(new Key(modelDir, options));
        return loaded == null ? 0 : loaded.peak().get();
    }

    /** The most inferences that ran at the same time on this model in this JVM (0 if never loaded). */
    public static int peakConcurrentInferences(String modelDir, RuntimeOptions options) {
        Loaded loaded = MODELS.get(new Key(modelDir, options));
        return loaded == null ? 0 : loaded.peakInferring().get();
    }

    /** Images vision-encoded by every model this JVM has loaded. */
    public static long imagesEncoded() {
        return MODELS.values().stream().mapToLong(l -> l.model().imagesEncoded()).sum();
    }

    static void closeAll() {
        MODELS.values().forEach(l -> l.model().close());
        MODELS.clear();
    }
}
