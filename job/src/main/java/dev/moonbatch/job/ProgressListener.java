package dev.moonbatch.job;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress on the driver while the model works: rows done / total, rows/s, errors so far, ETA.
 * Counted from the executors' {@link RunCounters} accumulators, which Spark merges before it tells
 * listeners that a task ended, so there is no log parsing and no extra pass over the data. On a
 * terminal the line is one bar redrawn in place; otherwise (logs, cron, cluster mode) a plain
 * log line at most every few seconds.
 */
final class ProgressListener extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger("dev.moonbatch.progress");
    static final long EVERY_NANOS = 5_000_000_000L;
    private static final int BAR = 30;

    private final long total;
    private final LongSupplier done;
    private final LongSupplier errors;
    private final PrintStream terminal;
    private final java.util.function.Consumer<String> log;
    private final LongSupplier clock;
    private final long start;
    private long lastPrint = Long.MIN_VALUE / 2;
    private long lastDone = -1;
    private volatile boolean active = true;

    /** @param terminal where to redraw the bar, or null to send plain lines to {@code log} */
    ProgressListener(long total, LongSupplier done, LongSupplier errors, PrintStream terminal,
                     java.util.function.Consumer<String> log, LongSupplier clock) {
        this.total = total;
        this.done = done;
        this.errors = errors;
        this.terminal = terminal;
        this.log = log;
        this.clock = clock;
        this.start = clock.getAsLong();
    }

    /** Progress for this run: a bar on stderr when the console is a terminal, else log lines. */
    static ProgressListener of(long total, RunCounters counters) {
        return new ProgressListener(total, () -> counters.rowsDone().value(), () -> counters.errors().value(),
                System.console() != null ? System.err : null, LOG::info, System::nanoTime);
    }

    void stop() {
        active = false;
        synchronized (this) {
            if (terminal != null && lastDone >= 0) {
                terminal.println();
                terminal.flush();
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (active) {
            update();
        }
    }

    /** Reports if there is news: always on a terminal, every {@link #EVERY_NANOS} in logs, and at 100%. */
    synchronized void update() {
        long n = Math.min(done.getAsLong(), total);
        long now = clock.getAsLong();
        if (n == lastDone || (terminal == null && now - lastPrint < EVERY_NANOS && n < total)) {
            return;
        }
        lastDone = n;
        lastPrint = now;
        String line = line(n, errors.getAsLong(), (now - start) / 1e9);
        if (terminal != null) {
            int filled = (int) (BAR * n / Math.max(total, 1));
            terminal.print("\r[" + "#".repeat(filled) + " ".repeat(BAR - filled) + "] " + line + "  ");
            terminal.flush();
        } else {
            log.accept(line);
        }
    }

    String line(long n, long errorCount, double seconds) {
        double rate = n / Math.max(seconds, 1e-9);
        long eta = rate > 0 ? Math.round((total - n) / rate) : -1;
        return String.format(Locale.ROOT, "%,d/%,d rows (%.0f%%), %.2f rows/s, %,d error%s, ETA %s",
                n, total, 100.0 * n / Math.max(total, 1), rate, errorCount, errorCount == 1 ? "" : "s",
                eta < 0 ? "?" : eta / 60 + "m" + String.format(Locale.ROOT, "%02d", eta % 60) + "s");
    }
}
