package dev.moonbatch.runtime;

/**
 * An image after the family's preprocessing, ready to batch: CHW pixel values. Kept apart from
 * inference so that a bad image fails alone, before it joins a batch.
 */
public record PreparedImage(float[] pixelValues) {
}
