package dev.moonbatch.job;

import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.bundle.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Four concurrent tasks in one executor JVM share one loaded model. */
class ModelLoadedOnceTest {
    @TempDir
    Path out;

    @Test
    void fourConcurrentTasksLoadTheModelOnce() {
        // --threads 3 makes a cache key no other test uses, so this run's load is counted alone.
        int loadsBefore = ExecutorModels.loads();
        CliRun run = CliRun.of("--input", TestPaths.heldout().resolve("images").toString(), "--output", out.toString(),
                "--model", TestPaths.demoModel().toString(), "--master", "local[4]", "--partitions", "4",
                "--batch-size", "2", "--threads", "3");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(1, ExecutorModels.loads() - loadsBefore, "model loads in this executor JVM");
        // the cache key is the options as the driver resolved them against the bundle
        RuntimeOptions resolved = ModelLoader.resolve(ModelBundle.open(TestPaths.demoModel()), new RuntimeOptions(Precision.FP32, 3),
                warning -> { });
        int peak = ExecutorModels.peakConcurrentTasks(TestPaths.demoModel().toString(), resolved);
        assertTrue(peak >= 2, "tasks that shared the model at once: " + peak);
        System.out.println("model loads: 1, tasks sharing it at once (peak): " + peak);
    }
}
