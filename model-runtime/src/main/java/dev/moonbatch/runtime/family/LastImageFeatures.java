package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.PreparedImage;

import java.lang.ref.WeakReference;

/**
 * The vision features of the last image a model encoded, so that a caller asking about one image
 * in several calls (questions typed one at a time in {@code moonbatch ask}) has it encoded once.
 * Keyed by the {@link PreparedImage} object itself (identity, the same key a single
 * {@code generate} call uses), held weakly: it never keeps pixels alive, and a batch job, which
 * prepares every image afresh, misses, except between the two calls of one batch that has both
 * closed-choice and open attributes (scored, then generated). It holds, per calling thread, the
 * images of that thread's last call ({@link #keepOnly}): Spark tasks sharing one model on their own
 * threads then never evict each other's batch between its two calls. Callers must not modify the
 * arrays they get.
 */
final class LastImageFeatures {
    private record Entry(WeakReference<PreparedImage> image, float[] features) {
    }

    private final ThreadLocal<java.util.List<Entry>> last = ThreadLocal.withInitial(java.util.List::of);

    /** The features last stored for exactly this prepared image, or null. */
    float[] get(PreparedImage image) {
        for (Entry e : last.get()) {
            if (e.image().get() == image) {
                return e.features();
            }
        }
        return null;
    }

    /** Keeps this one image's features, forgetting the others. */
    void put(PreparedImage image, float[] features) {
        last.set(java.util.List.of(new Entry(new WeakReference<>(image), features)));
    }

    /** Keeps the features of exactly these images (one call's), forgetting the others. */
    void keepOnly(java.util.Map<PreparedImage, float[]> features) {
        last.set(features.entrySet().stream().map(e -> new Entry(new WeakReference<>(e.getKey()), e.getValue())).toList());
    }
}
