package dev.moonbatch.io;

import com.drew.imaging.ImageMetadataReader;
import com.drew.imaging.jpeg.JpegMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifReader;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes image bytes into the uniform {@link DecodedImage} layout, and turns every way
 * an input file can be bad into an {@link ImageError} instead of an exception that would
 * fail a Spark task. Uses ImageIO with the TwelveMonkeys plugins (CMYK/YCCK and
 * progressive JPEG, WebP, TIFF) and metadata-extractor for the EXIF orientation.
 *
 * <p>Thread-safe: every call uses its own {@link ImageReader}; the only field is the limit.
 */
public final class ImageDecoder {
    /** Default pixel limit: 50 MP (a 50 MP TYPE_INT_RGB image alone takes 200 MB of heap). */
    public static final long DEFAULT_MAX_PIXELS = 50_000_000L;

    /** Reader warnings that mean the pixel data ended early (the reader filled the rest with grey). */
    private static final Pattern TRUNCATION_WARNING =
            Pattern.compile("(?i).*(premature end|truncat|missing eoi|unexpected end|end of (file|stream)).*");

    private final long maxPixels;

    public ImageDecoder() {
        this(DEFAULT_MAX_PIXELS);
    }

    /** @param maxPixels images with more pixels (width × height from the header) are refused */
    public ImageDecoder(long maxPixels) {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be >= 1: " + maxPixels);
        }
        this.maxPixels = maxPixels;
        Plugins.ensureRegistered();
    }

    public long maxPixels() {
        return maxPixels;
    }

    /**
     * Decodes the first image (first frame of a GIF, first page of a TIFF).
     *
     * @throws ImageError {@code EMPTY_FILE}, {@code UNSUPPORTED_FORMAT}, {@code TOO_LARGE}
     *     (checked from the header, before any pixel is decoded) or {@code CORRUPT}
     */
    public DecodedImage decode(byte[] bytes) throws ImageError {
        if (bytes == null || bytes.length == 0) {
            throw new ImageError(ImageError.Kind.EMPTY_FILE, "the file is empty (0 bytes)");
        }
        String format = "image";
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageError(ImageError.Kind.UNSUPPORTED_FORMAT,
                        "not an image (" + FormatSniffer.hint(bytes) + ")");
            }
            ImageReader reader = readers.next();
            format = formatName(reader);
            try {
                return decodeWith(reader, in, bytes, format);
            } finally {
                reader.dispose();
            }
        } catch (ImageError e) {
            throw e;
        } catch (OutOfMemoryError | LinkageError e) {
            // Out of memory, or a broken deployment (a missing class): not the file's fault, so no
            // image row may blame the file; let the task fail loudly instead.
            throw e;
        } catch (IOException | RuntimeException | StackOverflowError e) {
            throw corrupt(format, e);
        } catch (Error e) {
            // Plugins throw odd Errors on hostile input (e.g. InternalError from native JPEG code);
            // one bad file must not kill the executor.
            throw new ImageError(ImageError.Kind.CORRUPT,
                    "the " + format + " decoder failed: " + Messages.of(e), e);
        }
    }

    private DecodedImage decodeWith(ImageReader reader, ImageInputStream in, byte[] bytes, String format)
            throws IOException, ImageError {
        reader.setInput(in, false, true);
        int width = reader.getWidth(0);
        int height = reader.getHeight(0);
        if (width < 1 || height < 1) {
            throw new ImageError(ImageError.Kind.CORRUPT,
                    "invalid " + format + " header: size " + width + "x" + height);
        }
        checkPixels(width, height);
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        BufferedImage raw = reader.read(0, reader.getDefaultReadParam());
        for (String w : warnings) {
            if (w != null && TRUNCATION_WARNING.matcher(w).matches()) {
                throw new ImageError(ImageError.Kind.CORRUPT, "truncated " + format + " data (" + w.strip() + ")");
            }
        }
        if (raw == null || raw.getWidth() < 1 || raw.getHeight() < 1) {
            throw new ImageError(ImageError.Kind.CORRUPT, "the " + format + " decoder returned no image");
        }
        checkPixels(raw.getWidth(), raw.getHeight());
        BufferedImage rgb = Pixels.toOpaqueRgb(raw);
        raw = null; // let the decoder's copy go before the rotated copy is made
        BufferedImage oriented = Pixels.orient(rgb, orientation(bytes, format));
        return new DecodedImage(oriented, oriented.getWidth(), oriented.getHeight(), format);
    }

    private void checkPixels(int width, int height) throws ImageError {
        long pixels = (long) width * height;
        if (pixels > maxPixels) {
            throw new ImageError(ImageError.Kind.TOO_LARGE, String.format(Locale.ROOT,
                    "%dx%d = %.1f MP exceeds the limit of %.1f MP", width, height, pixels / 1e6, maxPixels / 1e6));
        }
    }

    private static ImageError corrupt(String format, Throwable e) {
        String what = Messages.endedEarly(e) ? "truncated " + format + " data" : "cannot decode " + format + " data";
        return new ImageError(ImageError.Kind.CORRUPT, what + ": " + Messages.of(e), e);
    }

    /** EXIF orientation 1–8; 1 when absent or unreadable (metadata must never fail a decode). */
    static int orientation(byte[] bytes, String format) {
        if (format.equals("gif") || format.equals("bmp")) {
            return 1;
        }
        try {
            Metadata metadata = format.equals("jpeg")
                    ? JpegMetadataReader.readMetadata(new ByteArrayInputStream(bytes), List.of(new ExifReader()))
                    : ImageMetadataReader.readMetadata(new ByteArrayInputStream(bytes), bytes.length);
            for (ExifIFD0Directory dir : metadata.getDirectoriesOfType(ExifIFD0Directory.class)) {
                Integer value = dir.getInteger(ExifIFD0Directory.TAG_ORIENTATION);
                if (value != null && value >= 1 && value <= 8) {
                    return value;
                }
            }
        } catch (Exception | StackOverflowError e) {
            // no usable EXIF: show the image as stored
        }
        return 1;
    }

    private static String formatName(ImageReader reader) throws IOException {
        String name = reader.getFormatName();
        name = name == null ? "image" : name.toLowerCase(Locale.ROOT);
        return switch (name) {
            case "jpg" -> "jpeg";
            case "tif" -> "tiff";
            default -> name;
        };
    }

    /**
     * Registers the ImageIO plugins visible to this class's class loader once per JVM. ImageIO
     * scans only the class path it saw first (or the thread's context loader); in a Spark
     * executor the application jar may come later, so the TwelveMonkeys readers would be missing.
     */
    private static final class Plugins {
        static {
            IIORegistry registry = IIORegistry.getDefaultInstance();
            Iterator<ImageReaderSpi> it =
                    ServiceLoader.load(ImageReaderSpi.class, ImageDecoder.class.getClassLoader()).iterator();
            while (true) {
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    ImageReaderSpi spi = it.next();
                    if (registry.getServiceProviderByClass(spi.getClass()) == null) {
                        registry.registerServiceProvider(spi, ImageReaderSpi.class);
                    }
                } catch (ServiceConfigurationError e) {
                    // a broken provider on the class path: skip it, the others still work
                }
            }
        }

        static void ensureRegistered() {
            // class initialisation above runs exactly once
        }
    }
}
