package dev.moonbatch.runtime;

import java.util.Arrays;
import java.util.Objects;

/**
 * A located answer of a region task (Florence-2 {@code <OD>}, {@code <OCR_WITH_REGION>}, …): its label
 * and where it is, in pixels of the original image (the decoded image, EXIF orientation applied).
 * {@code box} is {@code [x1, y1, x2, y2]} (4 values) or, for OCR lines, a quadrilateral
 * {@code [x1, y1, x2, y2, x3, y3, x4, y4]} (8 values), as Florence2Processor's {@code bboxes} and
 * {@code quad_boxes}. {@code confidence} is the line's mean character probability for a PP-OCR line,
 * NaN where the family gives none (Florence-2). Value semantics (equals on the box's values), unlike a
 * plain record of an array.
 */
public record Region(String label, float[] box, double confidence) {
    /** A region without a confidence (Florence-2). */
    public Region(String label, float[] box) {
        this(label, box, Double.NaN);
    }

    public Region {
        Objects.requireNonNull(label, "label");
        if (box.length != 4 && box.length != 8) {
            throw new IllegalArgumentException("a region box has 4 or 8 values, not " + box.length);
        }
        box = box.clone();
    }

    /** A copy: the record stays immutable. */
    @Override
    public float[] box() {
        return box.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Region r && label.equals(r.label) && Arrays.equals(box, r.box)
                && Double.compare(confidence, r.confidence) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * label.hashCode() + Arrays.hashCode(box)) + Double.hashCode(confidence);
    }

    @Override
    public String toString() {
        return "Region[" + label + ", " + Arrays.toString(box) + (Double.isNaN(confidence) ? "" : ", " + confidence) + "]";
    }
}
