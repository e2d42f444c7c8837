package dev.moonbatch.job;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchTimesTest {
    @Test
    void mergingKeepsTheEarliestBatchWithItsRowsAndTheLatestEnd() {
        BatchTimes.Span a = new BatchTimes.Span(1_000, 8, 5_000, 40);
        BatchTimes.Span b = new BatchTimes.Span(2_000, 4, 9_000, 20);
        BatchTimes.Span merged = a.plus(b);
        assertEquals(new BatchTimes.Span(1_000, 8, 9_000, 60), merged);
        assertEquals(merged, b.plus(a), "order does not matter");
        assertEquals(52 / 8.0, merged.steadyRowsPerSecond(), 1e-9, "rows after the first batch over the time between");

        BatchTimes.Span tie = new BatchTimes.Span(1_000, 3, 1_000, 3);
        assertEquals(11, merged.plus(tie).firstRows(), "two first batches at the same instant");
        assertEquals(merged, BatchTimes.Span.NONE.plus(merged));
        assertFalse(BatchTimes.Span.NONE.any());
        assertEquals(0, tie.steadyRowsPerSecond(), "one batch: no steady rate");
    }

    @Test
    void theAccumulatorMergesCopiesAsSparkDoes() {
        BatchTimes driver = new BatchTimes();
        assertTrue(driver.isZero());
        BatchTimes task = driver.copy();
        task.add(8L);
        task.add(8L);
        driver.merge(task);
        assertEquals(16, driver.value().rows());
        assertTrue(driver.value().last() >= driver.value().first());
    }
}
