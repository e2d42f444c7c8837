package dev.moonbatch.job;

import java.io.Serializable;

/**
 * How an executor's cores are shared: {@code threads} ONNX Runtime intra-op threads per inference
 * and at most {@code inferenceSlots} inferences at once on the executor's one shared model, so
 * threads × slots never exceeds the cores. A small model with up to one task per core gives each
 * task a slot; a large model, or more tasks than cores, gets one slot with every core. Tasks beyond
 * the slots are not idle: they read, decode and preprocess their next batch while they wait for a
 * slot, and hold no inference memory.
 *
 * <p>Why the model's size matters (docs/performance.md, 2 cores, local[2]): the 11 MB test
 * vit-gpt2 runs 33% faster with a slot per task (its operators are too small to split over
 * threads), a real-size vit-gpt2 runs as fast either way, and a real-size SmolVLM runs 22% faster
 * with one slot and 20% less memory: a slot per task leaves a core idle whenever one task has no
 * work left (the last batch of a job), and holds one set of large activations per slot.
 *
 * @param prefetch        whether each task prepares its next batch in the background while its current
 *                        one is inferred: only when every task has a slot of its own (otherwise the tasks
 *                        waiting for a slot already overlap preprocessing with inference, and a prefetched
 *                        batch per task would only cost memory)
 * @param cores           the executor's cores
 * @param tasks           the tasks it runs at once
 * @param threadsOverride {@code --threads}, 0 = derived
 * @param largeModel      the model's weights reach {@link #LARGE_MODEL_BYTES}
 */
public record ThreadBudget(int threads, int inferenceSlots, boolean prefetch, int cores, int tasks, int threadsOverride,
                           boolean largeModel) implements Serializable {
    /** From this size of ONNX weights on, one inference at a time with every core. */
    public static final long LARGE_MODEL_BYTES = 100L << 20;

    /**
     * @param cores           the executor's cores
     * @param concurrentTasks tasks the executor runs at once
     * @param threadsOverride {@code --threads}: threads per inference, 0 = derive
     * @param largeModel      whether the model's weights reach {@link #LARGE_MODEL_BYTES}
     */
    public static ThreadBudget derive(int cores, int concurrentTasks, int threadsOverride, boolean largeModel) {
        int c = Math.max(1, cores);
        int tasks = Math.max(1, concurrentTasks);
        // One inference at a time gets every core when the extra tasks are there to read and preprocess
        // while others infer (more tasks than cores), or when the model is large enough for its
        // operators to split well over threads: as fast on CPU-bound graphs, no idle core at the end of
        // a job, and one set of activations in memory instead of one per slot.
        int threads = threadsOverride > 0 ? threadsOverride : tasks > c || largeModel ? c : Math.max(1, c / tasks);
        int slots = Math.max(1, Math.min(tasks, c / threads));
        return new ThreadBudget(threads, slots, slots >= tasks, c, tasks, threadsOverride, largeModel);
    }

    /**
     * The budget once the job knows its partitions: no executor runs more tasks at once than there are
     * partitions, so a small job (one partition on local[2]) gives its one task every core.
     */
    public ThreadBudget forPartitions(int partitions) {
        return partitions >= tasks ? this : derive(cores, partitions, threadsOverride, largeModel);
    }
}
