package dev.moonbatch.job;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The driver JVM is killed (SIGKILL) in the middle of a job; the rerun with the same output
 * finishes with every image exactly once. Every image the killed run had saved is reused; the
 * only work redone is the batches that were in flight at the kill (at most tasks × batch size,
 * well under one partition).
 */
class DriverKillTest {
    @TempDir
    Path tmp;

    @Test
    void rerunAfterDriverKillLosesNothingAndRedoesLittle() throws Exception {
        Path in = tmp.resolve("in");
        int images = Outputs.copyHeldout(in, 4);
        int partitions = 8;
        int perPartition = images / partitions;
        Path out = tmp.resolve("out");
        String[] args = {"--input", in.toString(), "--output", out.toString(), "--model", TestPaths.demoModel().toString(),
                "--master", "local[2]", "--partitions", String.valueOf(partitions), "--batch-size", "4"};

        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(Arrays.asList(System.getProperty("spark.jvm.flags", "").trim().split("\\s+")));
        command.addAll(List.of("-DOPT_OUT_TRACKING=true", "-cp", System.getProperty("java.class.path"),
                MoonbatchCli.class.getName()));
        command.addAll(Arrays.asList(args));
        Process driver = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("driver.log").toFile()).start();
        Path checkpoints = out.resolve(Checkpoints.DIR);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (Outputs.checkpointFiles(checkpoints).size() < 3 && driver.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(driver.isAlive(), "the driver was still running when killed: " + Files.readString(tmp.resolve("driver.log")));
        driver.destroyForcibly().waitFor();
        int savedFiles = Outputs.checkpointFiles(checkpoints).size();
        int saved = checkpointRows(checkpoints);
        assertTrue(Files.notExists(out.resolve(CaptionJob.PARQUET)), "the killed run never finished");

        long t0 = System.nanoTime();
        CliRun rerun = CliRun.of(args);
        assertEquals(0, rerun.exitCode(), rerun.err());
        JsonNode summary = Outputs.summary(out);
        List<Row> rows = Outputs.rows(out);
        Map<String, Integer> counts = Outputs.countsByPath(rows);
        long duplicates = counts.values().stream().filter(c -> c > 1).count();
        assertEquals(images, rows.size(), "rows = images");
        assertEquals(0, duplicates, "duplicates");
        assertEquals(images, counts.size(), "none missing");
        long computed = summary.get("computed").asLong();
        long reused = summary.get("reused").asLong();
        assertTrue(saved > 0 && saved < images, "the kill landed mid-job: " + saved + " saved");
        assertEquals(saved, reused, "every image the killed run saved is reused, none recomputed");
        assertEquals(images - saved, computed, "the rerun computes only what the killed run had not saved");
        int inFlightBound = 2 * 4;
        assertTrue(inFlightBound < perPartition, "work lost at the kill is at most the in-flight batches");
        System.out.printf("driver kill: %d images, killed after %d saved (%d checkpoint files); rerun computed %d, "
                        + "reused %d, rows %d, duplicates %d, missing %d; work lost at the kill <= %d images "
                        + "(partition = %d); rerun %.1f s%n", images, saved, savedFiles, computed, reused, rows.size(),
                duplicates, images - counts.size(), inFlightBound, perPartition, (System.nanoTime() - t0) / 1e9);
    }

    private static int checkpointRows(Path dir) throws Exception {
        int n = 0;
        for (Path p : Outputs.checkpointFiles(dir)) {
            n += (int) Files.readAllLines(p).stream().filter(l -> !l.isBlank()).count();
        }
        return n;
    }
}
