package dev.moonbatch.job;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.VisionLanguageModel;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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

    private static final Map<Key, VisionLanguageModel> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static final AtomicInteger IN_USE = new AtomicInteger();
    private static final AtomicInteger PEAK_IN_USE = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "moonbatch-close-models"));
    }

    private ExecutorModels() {
    }

    /** A lease on the shared model; closing it ends this task's use (the model stays loaded). */
    public static final class Lease implements AutoCloseable {
        private final VisionLanguageModel model;

        private Lease(VisionLanguageModel model) {
            this.model = model;
            PEAK_IN_USE.accumulateAndGet(IN_USE.incrementAndGet(), Math::max);
        }

        public VisionLanguageModel model() {
            return model;
        }

        @Override
        public void close() {
            IN_USE.decrementAndGet();
        }
    }

    public static Lease acquire(String modelDir, RuntimeOptions options) {
        VisionLanguageModel model = MODELS.computeIfAbsent(new Key(modelDir, options), key -> {
            long start = System.nanoTime();
            VisionLanguageModel loaded = ModelLoader.load(Path.of(key.modelDir()), key.options());
            LOADS.incrementAndGet();
            org.slf4j.LoggerFactory.getLogger(ExecutorModels.class).info("loaded model {} in {} ms ({} loads in this JVM)",
                    loaded.name(), (System.nanoTime() - start) / 1_000_000, LOADS.get());
            return loaded;
        });
        return new Lease(model);
    }

    /** How many models this JVM has loaded so far. */
    public static int loads() {
        return LOADS.get();
    }

    /** The most tasks that used a model at the same time in this JVM. */
    public static int peakConcurrentTasks() {
        return PEAK_IN_USE.get();
    }

    static void closeAll() {
        MODELS.values().forEach(VisionLanguageModel::close);
        MODELS.clear();
    }
}
