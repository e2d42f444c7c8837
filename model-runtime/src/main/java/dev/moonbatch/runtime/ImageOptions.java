package dev.moonbatch.runtime;

import java.io.Serializable;

/**
 * The bundle's image preprocessing as changed from the command line: SmolVLM's own processor settings
 * {@code do_image_splitting} and {@code size.longest_edge}, which decide how many 512-px crops the
 * vision encoder sees (17 for a large photo with the bundle's defaults, 1 without splitting) and so
 * most of SmolVLM's cost. Null / 0 keep the bundle's value. They change the answers, so they are part
 * of the options a result row is reused under ({@link #key()}).
 *
 * @param splitting   {@code do_image_splitting} over the bundle's, or null
 * @param longestEdge {@code size.longest_edge} over the bundle's (a multiple of the tile size,
 *                    {@code max_image_size.longest_edge}), or 0
 */
public record ImageOptions(Boolean splitting, int longestEdge) implements Serializable {
    /** The bundle's own settings. */
    public static final ImageOptions BUNDLE = new ImageOptions(null, 0);

    public ImageOptions {
        if (longestEdge < 0) {
            throw new IllegalArgumentException("--image-longest-edge: expected a number of pixels > 0 but got " + longestEdge);
        }
    }

    public boolean isBundle() {
        return splitting == null && longestEdge == 0;
    }

    /** {@code ;image_splitting=off;image_longest_edge=1024} for what is changed; empty for the bundle's settings. */
    public String key() {
        return (splitting == null ? "" : ";image_splitting=" + (splitting ? "on" : "off"))
                + (longestEdge == 0 ? "" : ";image_longest_edge=" + longestEdge);
    }
}
