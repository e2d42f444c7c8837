package dev.moonbatch.job;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThreadBudgetTest {
    private static void check(int threads, int slots, boolean prefetch, ThreadBudget b) {
        assertEquals(threads + "/" + slots + "/" + prefetch, b.threads() + "/" + b.inferenceSlots() + "/" + b.prefetch(), b.toString());
    }

    @Test
    void coresAreSharedWithoutOversubscription() {
        check(2, 1, true, ThreadBudget.derive(2, 1, 0, false));    // local[1] on 2 cores
        check(1, 2, true, ThreadBudget.derive(2, 2, 0, false));    // local[2]
        check(2, 1, false, ThreadBudget.derive(2, 4, 0, false));   // local[4]: 1 slot with both cores, 3 tasks preparing meanwhile
        check(4, 4, true, ThreadBudget.derive(16, 4, 0, false));
        check(3, 5, false, ThreadBudget.derive(16, 8, 3, false));  // --threads 3
        for (int cores = 1; cores <= 32; cores++) {
            for (int tasks = 1; tasks <= 40; tasks++) {
                ThreadBudget b = ThreadBudget.derive(cores, tasks, 0, false);
                assertTrue(b.threads() * b.inferenceSlots() <= cores, cores + " cores, " + tasks + " tasks: " + b);
                assertTrue(b.inferenceSlots() >= 1 && b.inferenceSlots() <= tasks);
            }
        }
    }

    @Test
    void aLargeModelGetsOneSlotWithEveryCore() {
        check(2, 1, false, ThreadBudget.derive(2, 2, 0, true));   // local[2]: the other task prepares meanwhile
        check(16, 1, false, ThreadBudget.derive(16, 4, 0, true));
        check(2, 1, true, ThreadBudget.derive(2, 1, 0, true));
        check(1, 2, true, ThreadBudget.derive(2, 2, 1, true));    // --threads 1 still gives a slot per task
        check(2, 1, true, ThreadBudget.derive(2, 2, 0, true).forPartitions(1));
    }

    @Test
    void fewerPartitionsThanTasksGiveEachTaskMoreThreads() {
        check(2, 1, true, ThreadBudget.derive(2, 2, 0, false).forPartitions(1));
        check(2, 1, false, ThreadBudget.derive(2, 4, 0, false).forPartitions(8));
        check(1, 2, true, ThreadBudget.derive(2, 4, 0, false).forPartitions(2));
        check(3, 1, true, ThreadBudget.derive(8, 4, 3, false).forPartitions(1)); // --threads stays fixed
    }
}
