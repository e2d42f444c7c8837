package dev.moonbatch.io;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorConvertOp;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferInt;
import java.awt.image.Raster;

/**
 * Pixel layout conversions behind {@link ImageDecoder}.
 *
 * <p>Grey and sRGB samples of any bit depth are scaled by hand ({@code v * 255 / max},
 * rounded) rather than drawn with Java2D: Java's grey colour space is linear, so
 * {@code drawImage}/{@code getRGB} would brighten every grey or 16-bit image, while
 * the files store gamma-encoded values like every other image library assumes.
 */
final class Pixels {
    private Pixels() {
    }

    /** A TYPE_INT_RGB copy; alpha, if any, is composited on white. */
    static BufferedImage toOpaqueRgb(BufferedImage src) {
        int w = src.getWidth();
        int h = src.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] dst = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
        ColorModel cm = src.getColorModel();
        ColorSpace cs = cm.getColorSpace();
        Raster raster = src.getRaster();
        int transfer = raster.getTransferType();
        boolean plainSamples = cm instanceof ComponentColorModel
                && (transfer == DataBuffer.TYPE_BYTE || transfer == DataBuffer.TYPE_USHORT)
                && raster.getNumBands() == cm.getNumComponents()
                && (cs.getType() == ColorSpace.TYPE_GRAY || cs.isCS_sRGB());
        if (plainSamples) {
            scaleSamples(raster, cm, dst, w, h);
        } else if (cm instanceof ComponentColorModel && cs.getType() != ColorSpace.TYPE_GRAY && !cs.isCS_sRGB()) {
            // e.g. an embedded ICC profile (Adobe RGB, CMYK): let the colour management convert it
            BufferedImage argb = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
            new ColorConvertOp(null).filter(src, argb);
            compositeArgbRows(argb, dst, w, h);
        } else {
            // packed (INT_RGB/ARGB), indexed (palette) and anything else: the colour model knows best
            compositeArgbRows(src, dst, w, h);
        }
        return out;
    }

    private static void scaleSamples(Raster raster, ColorModel cm, int[] dst, int w, int h) {
        int colours = cm.getNumColorComponents();
        boolean alpha = cm.hasAlpha();
        boolean premultiplied = cm.isAlphaPremultiplied();
        int bands = raster.getNumBands();
        double[] max = new double[bands];
        for (int b = 0; b < bands; b++) {
            max[b] = (1L << cm.getComponentSize(b)) - 1;
        }
        int[] row = new int[w * bands];
        int minX = raster.getMinX();
        int minY = raster.getMinY();
        for (int y = 0; y < h; y++) {
            raster.getPixels(minX, minY + y, w, 1, row);
            for (int x = 0, i = 0; x < w; x++, i += bands) {
                double a = alpha ? row[i + bands - 1] / max[bands - 1] : 1.0;
                int r;
                int g;
                int b;
                if (colours == 1) {
                    r = g = b = channel(row[i] / max[0], a, premultiplied);
                } else {
                    r = channel(row[i] / max[0], a, premultiplied);
                    g = channel(row[i + 1] / max[1], a, premultiplied);
                    b = channel(row[i + 2] / max[2], a, premultiplied);
                }
                dst[y * w + x] = r << 16 | g << 8 | b;
            }
        }
    }

    /** One 0..1 colour value composited on white, as 0..255. */
    private static int channel(double value, double alpha, boolean premultiplied) {
        double v = premultiplied ? value + (1 - alpha) : value * alpha + (1 - alpha);
        long rounded = Math.round(v * 255);
        return (int) Math.max(0, Math.min(255, rounded));
    }

    private static void compositeArgbRows(BufferedImage src, int[] dst, int w, int h) {
        int[] row = new int[w];
        boolean alpha = src.getColorModel().hasAlpha();
        for (int y = 0; y < h; y++) {
            src.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int a = p >>> 24;
                if (!alpha || a == 255) {
                    dst[y * w + x] = p & 0xffffff;
                } else {
                    int r = ((p >> 16 & 0xff) * a + 255 * (255 - a) + 127) / 255;
                    int g = ((p >> 8 & 0xff) * a + 255 * (255 - a) + 127) / 255;
                    int b = ((p & 0xff) * a + 255 * (255 - a) + 127) / 255;
                    dst[y * w + x] = r << 16 | g << 8 | b;
                }
            }
        }
    }

    /**
     * Applies an EXIF orientation (1–8) to a TYPE_INT_RGB image, giving the image as it
     * should be displayed; 5–8 swap width and height.
     */
    static BufferedImage orient(BufferedImage src, int orientation) {
        if (orientation < 2 || orientation > 8) {
            return src;
        }
        int w = src.getWidth();
        int h = src.getHeight();
        int[] s = ((DataBufferInt) src.getRaster().getDataBuffer()).getData();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        BufferedImage out = new BufferedImage(ow, oh, BufferedImage.TYPE_INT_RGB);
        int[] d = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - ox; sy = oy; }          // mirror horizontally
                    case 3 -> { sx = w - 1 - ox; sy = h - 1 - oy; }  // rotate 180
                    case 4 -> { sx = ox; sy = h - 1 - oy; }          // mirror vertically
                    case 5 -> { sx = oy; sy = ox; }                  // transpose
                    case 6 -> { sx = oy; sy = h - 1 - ox; }          // rotate 90 clockwise
                    case 7 -> { sx = w - 1 - oy; sy = h - 1 - ox; }  // transverse
                    default -> { sx = w - 1 - oy; sy = ox; }         // 8: rotate 90 counter-clockwise
                }
                d[oy * ow + ox] = s[sy * w + sx];
            }
        }
        return out;
    }
}
