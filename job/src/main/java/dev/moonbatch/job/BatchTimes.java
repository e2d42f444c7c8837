package dev.moonbatch.job;

import org.apache.spark.util.AccumulatorV2;

/**
 * When the run's computed batches finished (wall clock, ms): the first one (and how many rows it
 * had) and the last one. From these {@code summary.json} separates a run's fixed cost (before the
 * first row, after the last) from its steady rate (rows after the first batch over the time between),
 * which is what a night that computes a few thousand images pays per image. On a cluster the
 * executors' clocks must roughly agree (NTP) for the figures to mean much.
 */
final class BatchTimes extends AccumulatorV2<Long, BatchTimes.Span> {
    /** First and last batch end; {@code firstRows} rows ended at {@code first}; none when {@code first} is MAX_VALUE. */
    record Span(long first, long firstRows, long last, long rows) implements java.io.Serializable {
        static final Span NONE = new Span(Long.MAX_VALUE, 0, Long.MIN_VALUE, 0);

        boolean any() {
            return rows > 0;
        }

        Span plus(Span o) {
            long f = Math.min(first, o.first);
            long fr = (first == f ? firstRows : 0) + (o.first == f ? o.firstRows : 0);
            return new Span(f, fr, Math.max(last, o.last), rows + o.rows);
        }

        /** Rows per second after the first batch, or 0 when every row came in one batch. */
        double steadyRowsPerSecond() {
            return last > first && rows > firstRows ? (rows - firstRows) * 1000.0 / (last - first) : 0;
        }
    }

    private Span span = Span.NONE;

    /** A batch of {@code rows} rows finished now. */
    void batch(int rows) {
        long now = System.currentTimeMillis();
        span = span.plus(new Span(now, rows, now, rows));
    }

    @Override
    public boolean isZero() {
        return !span.any();
    }

    @Override
    public BatchTimes copy() {
        BatchTimes c = new BatchTimes();
        c.span = span;
        return c;
    }

    @Override
    public void reset() {
        span = Span.NONE;
    }

    @Override
    public void add(Long rows) {
        batch(rows.intValue());
    }

    @Override
    public void merge(AccumulatorV2<Long, Span> other) {
        span = span.plus(other.value());
    }

    @Override
    public Span value() {
        return span;
    }
}
