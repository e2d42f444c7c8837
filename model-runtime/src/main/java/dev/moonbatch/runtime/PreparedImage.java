package dev.moonbatch.runtime;

/**
 * An image after its family's preprocessing (pixel values, tiles, …), ready for the vision
 * encoder. Kept apart from inference so that a bad image fails alone, before it joins a batch.
 * Each family has its own implementation; the job only carries it from {@code prepare} to
 * {@code generate}.
 */
public interface PreparedImage {
}
