package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spark standalone master and two workers on 127.0.0.1 (tools/cluster/standalone.sh), the
 * shaded jar submitted with spark-submit: one row per image, also when an executor JVM is killed
 * in the middle of the job.
 */
class StandaloneClusterIT {
    @TempDir
    static Path tmp;
    static Path clusterDir;
    static Map<String, String> env;

    @BeforeAll
    static void startCluster() throws Exception {
        clusterDir = tmp.resolve("cluster");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        env = Map.of("MOONBATCH_CLUSTER_DIR", clusterDir.toString(), "MOONBATCH_MASTER_PORT", String.valueOf(port));
        Process start = script("start", "2", "1", "1g").start();
        String out = new String(start.getInputStream().readAllBytes());
        assertTrue(start.waitFor(2, TimeUnit.MINUTES) && start.exitValue() == 0, "cluster start: " + out);
        assertTrue(out.contains("spark://127.0.0.1:" + port), out);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (env != null) {
            script("stop").start().waitFor(1, TimeUnit.MINUTES);
        }
    }

    static ProcessBuilder script(String... args) {
        List<String> command = new ArrayList<>(List.of(TestPaths.root().resolve("tools/cluster/standalone.sh").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        return pb;
    }

    static String[] jobArgs(Path in, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("submit", "--input", in.toString(), "--output", out.toString(),
                "--model", TestPaths.demoModel().toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void sparkSubmitToTheClusterWritesOneRowPerImage() throws Exception {
        Path in = TestPaths.heldout().resolve("images");
        Path out = tmp.resolve("submit-out");
        long t0 = System.nanoTime();
        // --device cuda with fallback: the driver does not decide for the executors; each one probes
        // where it loads the model and summary.json says what each used
        Process submit = script(jobArgs(in, out, "--device", "cuda", "--device-fallback"))
                .redirectOutput(tmp.resolve("submit.log").toFile()).start();
        assertTrue(submit.waitFor(5, TimeUnit.MINUTES), "finished");
        assertEquals(0, submit.exitValue(), Files.readString(tmp.resolve("submit.log")));
        JsonNode devices = Outputs.summary(out).get("devices");
        assertTrue(devices.size() >= 1, devices.toString());
        String expected = dev.moonbatch.runtime.OrtSessions.cudaProblem(0).isPresent() ? "cpu (fallback from cuda:0: " : "cuda:0";
        devices.fields().forEachRemaining(e -> {
            assertFalse(e.getKey().startsWith("driver"), "the executors ran the model: " + devices);
            assertTrue(e.getValue().asText().startsWith(expected), devices.toString());
        });
        List<Row> rows = Outputs.rows(out);
        long images;
        try (Stream<Path> s = Files.list(in)) {
            images = s.count();
        }
        Map<String, Integer> counts = Outputs.countsByPath(rows);
        assertEquals(images, rows.size());
        assertEquals(images, counts.size());
        assertTrue(rows.stream().allMatch(r -> r.getAs("error") == null));
        System.out.printf("spark-submit to standalone master + 2 workers: %d images, %d rows, %d duplicates, %.1f s%n",
                images, rows.size(), rows.size() - counts.size(), (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void killingAnExecutorMidJobLosesNoRow() throws Exception {
        Path in = tmp.resolve("kill-in");
        int images = Outputs.copyHeldout(in, 4);
        Path out = tmp.resolve("kill-out");
        long t0 = System.nanoTime();
        Process submit = script(jobArgs(in, out, "--partitions", "8", "--batch-size", "2"))
                .redirectOutput(tmp.resolve("kill.log").toFile()).start();
        Path checkpoints = out.resolve(Checkpoints.DIR);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (Outputs.checkpointFiles(checkpoints).size() < 4 && submit.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        List<ProcessHandle> executors = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("CoarseGrainedExecutorBackend")
                        && c.contains(clusterDir.toString())).orElse(false))
                .toList();
        assertTrue(submit.isAlive(), "job still running at the kill: " + Files.readString(tmp.resolve("kill.log")));
        assertFalse(executors.isEmpty(), "found the executor JVMs");
        ProcessHandle victim = executors.get(0);
        victim.destroyForcibly();
        victim.onExit().get(30, TimeUnit.SECONDS);

        assertTrue(submit.waitFor(8, TimeUnit.MINUTES), "finished");
        assertEquals(0, submit.exitValue(), Files.readString(tmp.resolve("kill.log")));
        List<Row> rows = Outputs.rows(out);
        Map<String, Integer> counts = Outputs.countsByPath(rows);
        long duplicates = counts.values().stream().filter(c -> c > 1).count();
        assertEquals(images, rows.size(), "rows = images");
        assertEquals(0, duplicates);
        assertEquals(images, counts.size(), "none missing");
        assertTrue(rows.stream().allMatch(r -> r.getAs("error") == null), "no error rows");
        System.out.printf("executor kill (pid %d of %d executors): %d images, %d rows, %d duplicates, %d missing, %.1f s%n",
                victim.pid(), executors.size(), images, rows.size(), duplicates, images - counts.size(),
                (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void anExecutorWithoutTheGpuIsAConfigurationError() throws Exception {
        boolean noCuda = dev.moonbatch.runtime.OrtSessions.cudaProblem(0).isPresent();
        Path out = tmp.resolve("no-gpu-out");
        Process submit = script(jobArgs(TestPaths.heldout().resolve("images"), out, "--device", "cuda"))
                .redirectOutput(tmp.resolve("no-gpu.log").toFile()).start();
        assertTrue(submit.waitFor(5, TimeUnit.MINUTES), "finished");
        String log = Files.readString(tmp.resolve("no-gpu.log"));
        if (noCuda) {
            assertEquals(2, submit.exitValue(), log);
            assertTrue(log.contains("moonbatch: --device cuda:0: the CUDA execution provider is not available"), log);
        } else {
            assertEquals(0, submit.exitValue(), log);
        }
    }
}
