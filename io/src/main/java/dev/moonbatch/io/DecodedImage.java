package dev.moonbatch.io;

import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * A decoded image in the one layout every model preprocessor can rely on: 8-bit sRGB,
 * {@link BufferedImage#TYPE_INT_RGB}, no alpha (composited on white), EXIF orientation
 * already applied, so {@code width}/{@code height} are the displayed dimensions.
 *
 * @param format lowercase source format name, e.g. {@code png}, {@code jpeg}, {@code tiff}
 */
public record DecodedImage(BufferedImage image, int width, int height, String format) {
    public DecodedImage {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(format, "format");
        if (image.getType() != BufferedImage.TYPE_INT_RGB) {
            throw new IllegalArgumentException("image must be TYPE_INT_RGB, got type " + image.getType());
        }
        if (image.getWidth() != width || image.getHeight() != height) {
            throw new IllegalArgumentException("size " + width + "x" + height + " does not match the image "
                    + image.getWidth() + "x" + image.getHeight());
        }
    }
}
