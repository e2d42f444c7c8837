package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.PreparedImage;

import java.lang.ref.WeakReference;

/**
 * The vision features of the last image a model encoded, so that a caller asking about one image
 * in several calls (questions typed one at a time in {@code moonbatch ask}) has it encoded once.
 * Keyed by the {@link PreparedImage} object itself (identity, the same key a single
 * {@code generate} call uses), held weakly: it never keeps pixels alive, and a batch job, which
 * prepares every image afresh, only ever misses. It holds one image's features at most; callers
 * must not modify the array they get.
 */
final class LastImageFeatures {
    private record Entry(WeakReference<PreparedImage> image, float[] features) {
    }

    private volatile Entry last;

    /** The features last stored for exactly this prepared image, or null. */
    float[] get(PreparedImage image) {
        Entry e = last;
        return e != null && e.image().get() == image ? e.features() : null;
    }

    void put(PreparedImage image, float[] features) {
        last = new Entry(new WeakReference<>(image), features);
    }
}
