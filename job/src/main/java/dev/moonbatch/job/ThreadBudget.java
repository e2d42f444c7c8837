package dev.moonbatch.job;

import java.io.Serializable;

/**
 * How an executor's cores are shared: {@code threads} ONNX Runtime intra-op threads per inference
 * and at most {@code inferenceSlots} inferences at once on the executor's one shared model, so
 * threads × slots never exceeds the cores. Up to one task per core each task has a slot; beyond that
 * there is one slot with every core. Tasks beyond the slots are not idle: they read, decode
 * and preprocess their next batch while they wait for a slot, and hold no inference memory.
 *
 * @param prefetch        whether each task prepares its next batch in the background while its current
 *                        one is inferred: only when every task has a slot of its own (otherwise the tasks
 *                        waiting for a slot already overlap preprocessing with inference, and a prefetched
 *                        batch per task would only cost memory)
 * @param cores           the executor's cores
 * @param tasks           the tasks it runs at once
 * @param threadsOverride {@code --threads}, 0 = derived
 */
public record ThreadBudget(int threads, int inferenceSlots, boolean prefetch, int cores, int tasks, int threadsOverride)
        implements Serializable {
    /**
     * @param cores           the executor's cores
     * @param concurrentTasks tasks the executor runs at once
     * @param threadsOverride {@code --threads}: threads per inference, 0 = derive
     */
    public static ThreadBudget derive(int cores, int concurrentTasks, int threadsOverride) {
        int c = Math.max(1, cores);
        int tasks = Math.max(1, concurrentTasks);
        // More tasks than cores: the extra tasks are there to read and preprocess while others infer, so
        // one inference at a time gets every core (as fast on CPU-bound graphs, and one set of
        // activations in memory instead of one per slot).
        int threads = threadsOverride > 0 ? threadsOverride : tasks > c ? c : Math.max(1, c / tasks);
        int slots = Math.max(1, Math.min(tasks, c / threads));
        return new ThreadBudget(threads, slots, slots >= tasks, c, tasks, threadsOverride);
    }

    /**
     * The budget once the job knows its partitions: no executor runs more tasks at once than there are
     * partitions, so a small job (one partition on local[2]) gives its one task every core.
     */
    public ThreadBudget forPartitions(int partitions) {
        return partitions >= tasks ? this : derive(cores, partitions, threadsOverride);
    }
}
