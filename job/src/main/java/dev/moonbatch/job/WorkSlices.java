package dev.moonbatch.job;

import java.util.ArrayList;
import java.util.List;

/**
 * How a run's work is cut into partitions so that copies of one photo meet in one partition, where
 * the model answers them once ({@link PartitionCaptioner} dedupes by content hash within a
 * partition). Nothing is read for this: the work is sorted by file size (copies have one size), and
 * each cut between partitions moves to the nearest place where the size changes, at most half a
 * partition's share (rounded up) away. A run of equal-size files longer than that (fixed-size formats, a
 * synthetic catalogue) is cut anyway, so the partitions stay within 1.5x of their share and every
 * executor gets work; copies split by such a cut are inferred once per partition (still one row
 * each, all correct).
 */
final class WorkSlices {
    private WorkSlices() {
    }

    /**
     * @param work       sorted by {@link WorkItem#size()} (unknown sizes, -1, first)
     * @param partitions how many slices to aim for; fewer come back when there are fewer items
     * @return at least one slice (empty for no work), in order, together exactly {@code work}
     */
    static List<List<WorkItem>> cut(List<WorkItem> work, int partitions) {
        int n = work.size();
        int parts = Math.max(1, partitions);
        int reach = (int) (((long) n + 2L * parts - 1) / (2L * parts)); // half a share, rounded up
        List<List<WorkItem>> slices = new ArrayList<>();
        int from = 0;
        for (int p = 1; p <= parts && from < n; p++) {
            int to = n;
            if (p < parts) {
                int ideal = Math.max(from + 1, (int) ((long) n * p / parts));
                to = nearestSizeChange(work, from, ideal, reach);
            }
            slices.add(new ArrayList<>(work.subList(from, to)));
            from = to;
        }
        if (slices.isEmpty()) {
            slices.add(new ArrayList<>());
        }
        return slices;
    }

    /** The cut nearest {@code ideal} (after index {@code from}) that does not split a size, else {@code ideal}. */
    private static int nearestSizeChange(List<WorkItem> work, int from, int ideal, int reach) {
        for (int d = 0; d <= reach; d++) {
            if (ideal + d <= work.size() && splitsNoSize(work, ideal + d)) {
                return ideal + d;
            }
            if (d > 0 && ideal - d > from && splitsNoSize(work, ideal - d)) {
                return ideal - d;
            }
        }
        return Math.min(ideal, work.size());
    }

    /** True when a cut before index {@code at} leaves no two files of one known size on both sides. */
    private static boolean splitsNoSize(List<WorkItem> work, int at) {
        if (at <= 0 || at >= work.size()) {
            return true;
        }
        long before = work.get(at - 1).size();
        long after = work.get(at).size();
        return after < 0 || before != after;
    }
}
