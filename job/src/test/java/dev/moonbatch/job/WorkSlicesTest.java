package dev.moonbatch.job;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cuts between partitions fall where the file size changes, without starving partitions. */
class WorkSlicesTest {
    private static List<WorkItem> sized(long... sizes) {
        List<WorkItem> work = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            work.add(new WorkItem("f" + i, List.of(""), sizes[i], 1));
        }
        return work;
    }

    private static List<Integer> lengths(List<List<WorkItem>> slices) {
        return slices.stream().map(List::size).toList();
    }

    private static List<WorkItem> concat(List<List<WorkItem>> slices) {
        return slices.stream().flatMap(List::stream).toList();
    }

    @Test
    void copiesOfOneSizeStayTogether() {
        // 12 items, 3 partitions: the ideal cuts (4, 8) fall inside the runs of size 5 and 9
        List<WorkItem> work = sized(1, 2, 3, 5, 5, 5, 7, 9, 9, 9, 10, 11);
        List<List<WorkItem>> slices = WorkSlices.cut(work, 3);
        assertEquals(work, concat(slices));
        for (List<WorkItem> s : slices) {
            for (List<WorkItem> other : slices) {
                if (s != other) {
                    s.forEach(a -> other.forEach(b -> assertTrue(a.size() != b.size(), "size " + a.size() + " split")));
                }
            }
        }
        assertEquals(3, slices.size());
    }

    @Test
    void equalSizedCatalogueIsStillSpreadOverEveryPartition() {
        long[] sizes = new long[1000];
        java.util.Arrays.fill(sizes, 307_200);
        List<List<WorkItem>> slices = WorkSlices.cut(sized(sizes), 8);
        assertEquals(List.of(125, 125, 125, 125, 125, 125, 125, 125), lengths(slices));
    }

    @Test
    void aCutMovesAtMostHalfAShare() {
        // 100 items: sizes change only at 30 and 70; 4 partitions (share 25, reach 12)
        long[] sizes = new long[100];
        for (int i = 0; i < 100; i++) {
            sizes[i] = i < 30 ? 1 : i < 70 ? 2 : 3;
        }
        List<List<WorkItem>> slices = WorkSlices.cut(sized(sizes), 4);
        // 25 -> 30 (a size change 5 away); 50 has none within 12: cut there; 75 -> 70
        assertEquals(List.of(30, 20, 20, 30), lengths(slices));
    }

    @Test
    void unknownSizesAndTinyInputs() {
        assertEquals(List.of(0), lengths(WorkSlices.cut(List.of(), 4)));
        assertEquals(List.of(1, 1), lengths(WorkSlices.cut(sized(-1, -1), 4)));
        assertEquals(List.of(3), lengths(WorkSlices.cut(sized(4, 4, 4), 1)));
        List<List<WorkItem>> three = WorkSlices.cut(sized(4, 4, 4), 3);
        assertEquals(3, concat(three).size());
    }
}
