package dev.moonbatch.job;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The progress line in both modes, driven by a fake clock and counters. */
class ProgressListenerTest {
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong nanos = new AtomicLong();

    @Test
    void aTerminalGetsOneBarRedrawnInPlace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream terminal = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        List<String> log = new ArrayList<>();
        ProgressListener p = new ProgressListener(10, done::get, errors::get, terminal, log::add, nanos::get);
        step(p, 2, 0, 1);
        step(p, 5, 1, 1);
        step(p, 10, 1, 1);
        p.stop();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(3, out.chars().filter(c -> c == '\r').count(), "redrawn once per update: " + out);
        assertTrue(out.contains("[######                        ] 2/10 rows (20%), 2.00 rows/s, 0 errors, ETA 0m04s"), out);
        assertTrue(out.contains("5/10 rows (50%), 2.50 rows/s, 1 error, ETA 0m02s"), out);
        assertTrue(out.contains("[##############################] 10/10 rows (100%)"), out);
        assertTrue(out.endsWith("\n"), "the bar's line is closed when the run ends");
        assertTrue(log.isEmpty(), "no log lines on a terminal");
    }

    @Test
    void logsGetAPlainLineEveryFewSecondsAndAtTheEnd() {
        List<String> log = new ArrayList<>();
        ProgressListener p = new ProgressListener(100, done::get, errors::get, null, log::add, nanos::get);
        step(p, 10, 0, 6);   // first line
        step(p, 20, 0, 1);   // 1 s later: too soon
        step(p, 30, 2, 5);   // 6 s after the first
        step(p, 100, 2, 1);  // the end always prints
        assertEquals(3, log.size(), log.toString());
        assertEquals("10/100 rows (10%), 1.67 rows/s, 0 errors, ETA 0m54s", log.get(0));
        assertTrue(log.get(1).startsWith("30/100 rows (30%), 2.50 rows/s, 2 errors, ETA 0m28s"), log.get(1));
        assertTrue(log.get(2).startsWith("100/100 rows (100%)") && log.get(2).endsWith("ETA 0m00s"), log.get(2));
        assertTrue(log.stream().noneMatch(l -> l.contains("\r")));
    }

    private void step(ProgressListener p, long rows, long errs, long seconds) {
        nanos.addAndGet(seconds * 1_000_000_000L);
        done.set(rows);
        errors.set(errs);
        p.update();
    }
}
