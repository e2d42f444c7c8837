package dev.moonbatch.job;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prints progress on the driver as partitions finish: images done / total, images/s, ETA.
 * Counts the records each successful task of the processing job wrote.
 */
final class ProgressListener extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger("dev.moonbatch.progress");
    private static final long EVERY_NANOS = 5_000_000_000L;

    private final long total;
    private final long start = System.nanoTime();
    private final AtomicLong done = new AtomicLong();
    private volatile long lastPrint;
    private volatile boolean active = true;

    ProgressListener(long total) {
        this.total = total;
    }

    void stop() {
        active = false;
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!active || end.taskMetrics() == null || !"Success".equals(String.valueOf(end.reason()))) {
            return;
        }
        long n = done.addAndGet(end.taskMetrics().outputMetrics().recordsWritten());
        long now = System.nanoTime();
        if (now - lastPrint >= EVERY_NANOS || n >= total) {
            lastPrint = now;
            double seconds = (now - start) / 1e9;
            double rate = n / Math.max(seconds, 1e-9);
            long eta = rate > 0 ? Math.round((total - Math.min(n, total)) / rate) : -1;
            LOG.info(String.format(Locale.ROOT, "%d/%d images (%.0f%%), %.2f images/s, ETA %s",
                    Math.min(n, total), total, 100.0 * Math.min(n, total) / Math.max(total, 1), rate,
                    eta < 0 ? "?" : eta / 60 + "m" + String.format(Locale.ROOT, "%02d", eta % 60) + "s"));
        }
    }
}
