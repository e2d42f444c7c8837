package dev.moonbatch.job;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThreadBudgetTest {
    @Test
    void coresAreSharedWithoutOversubscription() {
        assertEquals(new ThreadBudget(2, 1, true), ThreadBudget.derive(2, 1, 0));   // local[1] on 2 cores
        assertEquals(new ThreadBudget(1, 2, true), ThreadBudget.derive(2, 2, 0));   // local[2]
        assertEquals(new ThreadBudget(1, 2, false), ThreadBudget.derive(2, 4, 0));  // local[4]: 2 slots, 2 tasks preparing
        assertEquals(new ThreadBudget(4, 4, true), ThreadBudget.derive(16, 4, 0));
        assertEquals(new ThreadBudget(3, 5, false), ThreadBudget.derive(16, 8, 3)); // --threads 3
        for (int cores = 1; cores <= 32; cores++) {
            for (int tasks = 1; tasks <= 40; tasks++) {
                ThreadBudget b = ThreadBudget.derive(cores, tasks, 0);
                assertTrue(b.threads() * b.inferenceSlots() <= Math.max(cores, 1), cores + " cores, " + tasks + " tasks: " + b);
                assertTrue(b.inferenceSlots() >= 1 && b.inferenceSlots() <= tasks);
            }
        }
    }
}
