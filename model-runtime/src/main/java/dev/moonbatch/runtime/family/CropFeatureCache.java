package dev.moonbatch.runtime.family;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Vision features of image crops, keyed by the SHA-256 of the crop's pixel values, so that a crop
 * seen before costs no vision encoding. Why: SmolVLM cuts every image into up to 16 tiles plus a
 * global view and encodes each (most of its CPU time), and product photos on a plain background
 * have many tiles that are the same flat colour, within an image and from one image to the next.
 * A crop's features depend only on its own pixels (the vision encoder attends within a crop), so
 * a hit is exactly the features a new encoding would give.
 *
 * <p>Least recently used entries go first once the features held pass {@code maxFloats}. One cache
 * per loaded model, shared by the tasks of an executor (so it is thread-safe).
 */
final class CropFeatureCache {
    private final long maxFloats;
    private final Map<String, float[]> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long heldFloats;

    CropFeatureCache(long maxFloats) {
        this.maxFloats = maxFloats;
    }

    /** The key of {@code length} floats of {@code pixels} from {@code offset}: their bytes' SHA-256, in hex. */
    static String key(float[] pixels, int offset, int length) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        ByteBuffer chunk = ByteBuffer.allocate(4096 * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = offset, end = offset + length; i < end; ) {
            chunk.clear();
            int n = Math.min(4096, end - i);
            chunk.asFloatBuffer().put(pixels, i, n);
            sha.update(chunk.array(), 0, n * Float.BYTES);
            i += n;
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The features cached under {@code key}, or null. */
    synchronized float[] get(String key) {
        return entries.get(key);
    }

    synchronized void put(String key, float[] features) {
        if (features.length > maxFloats) {
            return;
        }
        float[] old = entries.put(key, features);
        heldFloats += features.length - (old == null ? 0 : old.length);
        var eldest = entries.entrySet().iterator();
        while (heldFloats > maxFloats && eldest.hasNext()) {
            heldFloats -= eldest.next().getValue().length;
            eldest.remove();
        }
    }
}
