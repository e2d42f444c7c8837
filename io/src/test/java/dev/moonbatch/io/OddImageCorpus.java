package dev.moonbatch.io;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * A corpus of awkward image files (odd formats, odd names, broken files) written into a
 * folder, with what {@link ImageDecoder} must make of each. Shared with the job module's
 * tests through the io test-jar.
 *
 * <p>Almost everything is generated here with ImageIO or by hand; the few files Java
 * cannot write (CMYK/YCCK JPEG, WebP) are test resources made by
 * {@code tools/fixtures/make_odd_images.py}. The 40000x40000 PNG is generated at each
 * call (about 200 KB) and never committed.
 *
 * <p>The returned map's keys are exactly the files {@link ImageLister} must list: the
 * corpus also holds decoys (hidden files and folders, {@code _SUCCESS}, non-image
 * extensions) that must not be listed. Entries whose names the platform cannot encode
 * (non-ASCII names under a POSIX locale) are left out.
 */
public final class OddImageCorpus {
    /** Relative name of the 40000x40000 PNG that must be refused from its header. */
    public static final String HUGE_PNG = "bad/huge-40000x40000.png";

    public static final int RED = 0xff0000;
    public static final int GREEN = 0x00ff00;
    public static final int BLUE = 0x0000ff;
    public static final int WHITE = 0xffffff;

    /** Expected RGB of the four corner pixels after decoding, each channel within {@code tolerance}. */
    public record Corners(int topLeft, int topRight, int bottomLeft, int bottomRight, int tolerance) {
        public static Corners quadrants(int tolerance) {
            return new Corners(RED, GREEN, BLUE, WHITE, tolerance);
        }

        public static Corners all(int rgb, int tolerance) {
            return new Corners(rgb, rgb, rgb, rgb, tolerance);
        }
    }

    /**
     * What decoding one file must give: either its size after orientation (and, where known,
     * its corner colours), or the kind of {@link ImageError}.
     */
    public record Expectation(int width, int height, ImageError.Kind error, Corners corners) {
        public static Expectation decodes(int width, int height) {
            return new Expectation(width, height, null, null);
        }

        public static Expectation decodes(int width, int height, Corners corners) {
            return new Expectation(width, height, null, corners);
        }

        public static Expectation fails(ImageError.Kind kind) {
            return new Expectation(0, 0, kind, null);
        }

        public boolean decodes() {
            return error == null;
        }
    }

    private OddImageCorpus() {
    }

    /** Writes the corpus: {@code java ... OddImageCorpus <dir>}. */
    public static void main(String[] args) throws IOException {
        Map<String, Expectation> written = writeTo(Path.of(args[0]));
        written.forEach((name, e) -> System.out.println(name + "\t" + e));
    }

    /** Writes every corpus file under {@code dir} (created if needed); keys use {@code /}. */
    public static Map<String, Expectation> writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Expectation> out = new TreeMap<>();
        Writer w = new Writer(dir, out);

        // --- JPEG -------------------------------------------------------------------------
        w.put("jpeg/cmyk.jpg", resource("cmyk.jpg"), Expectation.decodes(32, 24, Corners.quadrants(80)));
        w.put("jpeg/ycck.jpg", resource("ycck.jpg"), Expectation.decodes(32, 24, Corners.quadrants(80)));
        w.put("jpeg/progressive.jpg", progressiveJpeg(quadrants(48, 32)),
                Expectation.decodes(48, 32, Corners.quadrants(40)));
        int[][] displayed = { // corners TL, TR, BL, BR for EXIF orientation 1..8 of the stored quadrants
            {RED, GREEN, BLUE, WHITE}, {GREEN, RED, WHITE, BLUE}, {WHITE, BLUE, GREEN, RED},
            {BLUE, WHITE, RED, GREEN}, {RED, BLUE, GREEN, WHITE}, {BLUE, RED, WHITE, GREEN},
            {WHITE, GREEN, BLUE, RED}, {GREEN, WHITE, RED, BLUE}};
        byte[] stored = jpeg(quadrants(40, 20), 0.95f);
        for (int o = 1; o <= 8; o++) {
            int[] c = displayed[o - 1];
            w.put("jpeg/exif-orientation-" + o + ".jpg", withExifOrientation(stored, o),
                    Expectation.decodes(o >= 5 ? 20 : 40, o >= 5 ? 40 : 20, new Corners(c[0], c[1], c[2], c[3], 40)));
        }

        // --- PNG --------------------------------------------------------------------------
        w.put("png/rgba.png", png(rgbaHalfTransparent(20, 10)), Expectation.decodes(20, 10,
                new Corners(WHITE, RED, WHITE, RED, 0)));
        w.put("png/grey-alpha.png", png(greyAlphaHalfTransparent(20, 10)), Expectation.decodes(20, 10,
                new Corners(WHITE, 0x404040, WHITE, 0x404040, 0)));
        w.put("png/palette.png", png(paletteQuadrants(16, 16)), Expectation.decodes(16, 16,
                new Corners(RED, GREEN, BLUE, WHITE, 0)));
        w.put("png/grey8.png", png(grey8Quadrants(20, 20)), Expectation.decodes(20, 20,
                new Corners(0x000000, 0x646464, 0xc8c8c8, WHITE, 0)));
        w.put("png/grey16.png", png(grey16Quadrants(20, 20)), Expectation.decodes(20, 20,
                new Corners(0x000000, 0x808080, 0x404040, WHITE, 0)));
        w.put("png/rgb16.png", png(rgb16Quadrants(20, 20)), Expectation.decodes(20, 20,
                new Corners(0xff8000, 0x0080ff, 0x123456, WHITE, 0)));
        w.put("png/1x1.png", png(solid(1, 1, BLUE)), Expectation.decodes(1, 1, Corners.all(BLUE, 0)));
        w.put("png/wide-6000x12.png", png(solid(6000, 12, GREEN)), Expectation.decodes(6000, 12, Corners.all(GREEN, 0)));
        // More extreme aspect ratios (1000:1 and beyond, 1-pixel rows and columns): valid images every
        // family must caption (SmolVLM's resize once rounded their short side to 0 pixels).
        w.put("png/tall-12x6000.png", png(solid(12, 6000, BLUE)), Expectation.decodes(12, 6000, Corners.all(BLUE, 0)));
        w.put("png/row-2000x1.png", png(solid(2000, 1, RED)), Expectation.decodes(2000, 1, Corners.all(RED, 0)));
        w.put("png/column-1x2000.png", png(solid(1, 2000, WHITE)), Expectation.decodes(1, 2000, Corners.all(WHITE, 0)));
        w.put("png/tall-3x5000.png", png(quadrants(3, 5000)), Expectation.decodes(3, 5000, Corners.quadrants(0)));

        // --- GIF, BMP, TIFF, WebP -----------------------------------------------------------
        w.put("gif/animated.gif", animatedGif(solid(30, 20, RED), solid(30, 20, BLUE)),
                Expectation.decodes(30, 20, Corners.all(RED, 0)));
        w.put("bmp/rgb.bmp", write(bgr(quadrants(24, 16)), "bmp"), Expectation.decodes(24, 16, Corners.quadrants(0)));
        w.put("tiff/lzw.tif", tiff("LZW", quadrants(24, 16)), Expectation.decodes(24, 16, Corners.quadrants(0)));
        w.put("tiff/multipage.tiff", tiff("LZW", solid(30, 20, GREEN), solid(50, 50, BLUE)),
                Expectation.decodes(30, 20, Corners.all(GREEN, 0)));
        w.put("tiff/grey16.tif", tiff(null, grey16Quadrants(20, 20)), Expectation.decodes(20, 20,
                new Corners(0x000000, 0x808080, 0x404040, WHITE, 0)));
        w.put("webp/lossy.webp", resource("lossy.webp"), Expectation.decodes(32, 24, Corners.quadrants(40)));
        w.put("webp/alpha.webp", resource("alpha.webp"), Expectation.decodes(32, 24,
                new Corners(WHITE, RED, WHITE, RED, 0)));

        // --- odd names, odd folders -----------------------------------------------------------
        byte[] small = png(quadrants(8, 6));
        Expectation smallOk = Expectation.decodes(8, 6, Corners.quadrants(0));
        for (String name : new String[] {"with space.png", "comma,name.png", "double\"quote.png",
            "single'quote.png", "=1+1.png", "-minus.png", "@at.png", "café é.png", "日本.png", "Mixed.PnG",
            "percent%20.png", "hash#.png", "colon:name.png", "semi;colon.png", "back\\slash.png"}) {
            w.put("names/" + name, small, smallOk);
        }
        w.put("names/UPPER.JPG", jpeg(quadrants(16, 16), 0.95f), Expectation.decodes(16, 16, Corners.quadrants(40)));
        w.put("names/long.JPEG", jpeg(quadrants(16, 16), 0.95f), Expectation.decodes(16, 16, Corners.quadrants(40)));
        w.put("a/b/c/deep.png", small, smallOk);
        w.put("a/b/sibling.gif", write(bgr(solid(5, 5, RED)), "gif"), Expectation.decodes(5, 5, Corners.all(RED, 0)));
        w.put("album.png/inside.png", small, smallOk); // a folder named like an image

        // --- broken files -----------------------------------------------------------------
        w.put("bad/empty.jpg", new byte[0], Expectation.fails(ImageError.Kind.EMPTY_FILE));
        w.put("bad/html-page.jpg", ("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                + "<body><h1>Not Found</h1></body></html>\n").getBytes(StandardCharsets.UTF_8),
                Expectation.fails(ImageError.Kind.UNSUPPORTED_FORMAT));
        w.put("bad/random.png", randomBytes(4096, 42), Expectation.fails(ImageError.Kind.UNSUPPORTED_FORMAT));
        w.put("bad/text.gif", "just some notes, not a picture\n".getBytes(StandardCharsets.UTF_8),
                Expectation.fails(ImageError.Kind.UNSUPPORTED_FORMAT));
        byte[] noisyPng = png(noise(64, 64, 7));
        w.put("bad/truncated.png", Arrays.copyOf(noisyPng, noisyPng.length / 2), Expectation.fails(ImageError.Kind.CORRUPT));
        byte[] noisyJpeg = jpeg(noise(64, 64, 8), 0.9f);
        w.put("bad/truncated.jpg", Arrays.copyOf(noisyJpeg, noisyJpeg.length / 2), Expectation.fails(ImageError.Kind.CORRUPT));
        w.put("bad/lying-ihdr.png", rawGreyPng(300, 300, 10, 10), Expectation.fails(ImageError.Kind.CORRUPT));
        w.put("bad/zero-width.png", rawGreyPng(0, 10, 0, 10), Expectation.fails(ImageError.Kind.CORRUPT));
        w.put(HUGE_PNG, hugePng(40000, 40000), Expectation.fails(ImageError.Kind.TOO_LARGE));

        // --- decoys: present on disk, must not be listed ------------------------------------
        w.decoy(".hidden/inside.png", small);
        w.decoy(".dotfile.png", small);
        w.decoy("_SUCCESS", new byte[0]);
        w.decoy("_temporary/0/part.png", small);
        w.decoy("a/.cache.jpg", small);
        w.decoy("notes.txt", "not an image".getBytes(StandardCharsets.UTF_8));
        w.decoy("png/no-extension", small);
        w.decoy("png/image.png.bak", small);
        return Collections.unmodifiableMap(out);
    }

    /** Writes files and records expectations; skips names this platform cannot encode. */
    private record Writer(Path dir, Map<String, Expectation> expectations) {
        void put(String name, byte[] bytes, Expectation expectation) throws IOException {
            if (write(name, bytes)) {
                expectations.put(name, expectation);
            }
        }

        void decoy(String name, byte[] bytes) throws IOException {
            write(name, bytes);
        }

        private boolean write(String name, byte[] bytes) throws IOException {
            Path target;
            try {
                target = dir.resolve(name);
            } catch (InvalidPathException e) {
                return false; // e.g. 日本.png when sun.jnu.encoding is not UTF-8
            }
            Files.createDirectories(target.getParent());
            Files.write(target, bytes);
            return true;
        }
    }

    // ------------------------------------------------------------------------------------
    // Pictures

    /** Top-left red, top-right green, bottom-left blue, bottom-right white. */
    public static BufferedImage quadrants(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean left = x < w / 2;
                boolean top = y < h / 2;
                img.setRGB(x, y, top ? (left ? RED : GREEN) : (left ? BLUE : WHITE));
            }
        }
        return img;
    }

    static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(rgb));
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    static BufferedImage noise(int w, int h, long seed) {
        Random random = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, random.nextInt(0x1000000));
            }
        }
        return img;
    }

    private static BufferedImage bgr(BufferedImage src) {
        BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = out.createGraphics();
        g.drawImage(src, 0, 0, null);
        g.dispose();
        return out;
    }

    /** Left half fully transparent black, right half opaque red. */
    private static BufferedImage rgbaHalfTransparent(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, x < w / 2 ? 0x00000000 : 0xffff0000);
            }
        }
        return img;
    }

    /** 8-bit grey + alpha: left half transparent black, right half opaque grey 0x40. */
    private static BufferedImage greyAlphaHalfTransparent(int w, int h) {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY),
                new int[] {8, 8}, true, false, java.awt.Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        WritableRaster r = cm.createCompatibleWritableRaster(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.setPixel(x, y, x < w / 2 ? new int[] {0, 0} : new int[] {0x40, 255});
            }
        }
        return new BufferedImage(cm, r, false, null);
    }

    /** 2-bit palette: red, green, blue, and a fully transparent black in the bottom-right. */
    private static BufferedImage paletteQuadrants(int w, int h) {
        byte[] r = {(byte) 255, 0, 0, 0};
        byte[] g = {0, (byte) 255, 0, 0};
        byte[] b = {0, 0, (byte) 255, 0};
        byte[] a = {(byte) 255, (byte) 255, (byte) 255, 0};
        IndexColorModel cm = new IndexColorModel(2, 4, r, g, b, a);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_BINARY, cm);
        WritableRaster raster = img.getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                raster.setSample(x, y, 0, (y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1));
            }
        }
        return img;
    }

    /** 8-bit grey quadrants 0, 100, 200, 255 (Java's linear grey must not brighten them). */
    private static BufferedImage grey8Quadrants(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        fillQuadrantSamples(img.getRaster(), new int[][] {{0}, {100}, {200}, {255}});
        return img;
    }

    /** 16-bit grey quadrants 0, 0x8080, 0x4000, 0xffff → 0, 128, 64, 255 in 8 bits. */
    static BufferedImage grey16Quadrants(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        fillQuadrantSamples(img.getRaster(), new int[][] {{0}, {0x8080}, {0x4000}, {0xffff}});
        return img;
    }

    /** 16-bit RGB quadrants: (ffff,8000,0) (0,8000,ffff) (1234,3456,5678) white. */
    private static BufferedImage rgb16Quadrants(int w, int h) {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB),
                new int[] {16, 16, 16}, false, false, java.awt.Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        WritableRaster r = cm.createCompatibleWritableRaster(w, h);
        fillQuadrantSamples(r, new int[][] {{0xffff, 0x8000, 0}, {0, 0x8000, 0xffff},
            {0x1234, 0x3456, 0x5678}, {0xffff, 0xffff, 0xffff}});
        return new BufferedImage(cm, r, false, null);
    }

    private static void fillQuadrantSamples(WritableRaster r, int[][] tlTrBlBr) {
        int w = r.getWidth();
        int h = r.getHeight();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.setPixel(x, y, tlTrBlBr[(y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1)]);
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Encoders

    static byte[] png(BufferedImage img) throws IOException {
        return write(img, "png");
    }

    private static byte[] write(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, bytes)) {
            throw new IllegalStateException("no ImageIO writer for " + format + " and image type " + img.getType());
        }
        return bytes.toByteArray();
    }

    static byte[] jpeg(BufferedImage img, float quality) throws IOException {
        return jpeg(img, quality, false);
    }

    private static byte[] progressiveJpeg(BufferedImage img) throws IOException {
        byte[] bytes = jpeg(img, 0.95f, true);
        if (indexOf(bytes, new byte[] {(byte) 0xff, (byte) 0xc2}) < 0) {
            throw new IllegalStateException("the JPEG writer did not write a progressive (SOF2) JPEG");
        }
        return bytes;
    }

    private static byte[] jpeg(BufferedImage img, float quality, boolean progressive) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (progressive) {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
            return writeWith(writer, param, img);
        } finally {
            writer.dispose();
        }
    }

    private static byte[] tiff(String compression, BufferedImage... pages) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("tiff").next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (compression != null) {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionType(compression);
            }
            return writeWith(writer, param, pages);
        } finally {
            writer.dispose();
        }
    }

    private static byte[] animatedGif(BufferedImage... frames) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        try {
            return writeWith(writer, writer.getDefaultWriteParam(), frames);
        } finally {
            writer.dispose();
        }
    }

    private static byte[] writeWith(ImageWriter writer, ImageWriteParam param, BufferedImage... images)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            if (images.length == 1) {
                writer.write(null, new IIOImage(images[0], null, null), param);
            } else {
                writer.prepareWriteSequence(null);
                for (BufferedImage img : images) {
                    writer.writeToSequence(new IIOImage(img, null, null), param);
                }
                writer.endWriteSequence();
            }
        }
        return bytes.toByteArray();
    }

    /** Inserts an EXIF APP1 segment holding only IFD0 Orientation right after the JPEG's SOI. */
    static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        ByteArrayOutputStream tiff = new ByteArrayOutputStream();
        tiff.writeBytes("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1));
        tiff.writeBytes(new byte[] {'M', 'M', 0, 42, 0, 0, 0, 8}); // big-endian TIFF header, IFD0 at 8
        tiff.writeBytes(new byte[] {0, 1}); // one entry
        tiff.writeBytes(new byte[] {0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte) orientation, 0, 0}); // SHORT Orientation
        tiff.writeBytes(new byte[] {0, 0, 0, 0}); // no next IFD
        byte[] payload = tiff.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, 2); // SOI
        int length = payload.length + 2;
        out.writeBytes(new byte[] {(byte) 0xff, (byte) 0xe1, (byte) (length >> 8), (byte) length});
        out.writeBytes(payload);
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    /**
     * An 8-bit greyscale PNG whose IHDR says {@code headerW x headerH} but whose IDAT holds
     * {@code dataW x dataH} pixels (equal sizes give a valid file).
     */
    static byte[] rawGreyPng(int headerW, int headerH, int dataW, int dataH) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat)) {
            for (int y = 0; y < dataH; y++) {
                z.write(0); // filter: none
                for (int x = 0; x < dataW; x++) {
                    z.write((x * 25 + y * 7) & 0xff);
                }
            }
        }
        return pngFile(headerW, headerH, 8, idat.toByteArray());
    }

    /**
     * A valid 1-bit greyscale PNG of {@code w x h} black pixels, streamed through a
     * maximum-compression deflater: 40000x40000 (1.6 G pixels) is about 200 KB and takes
     * well under a second to make. 1-bit keeps it cheap; the pixel count is what matters.
     */
    public static byte[] hugePng(int w, int h) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        byte[] row = new byte[1 + (w + 7) / 8]; // filter byte 0 + w one-bit zero samples
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(Deflater.BEST_COMPRESSION), 1 << 16)) {
            for (int y = 0; y < h; y++) {
                z.write(row);
            }
        }
        return pngFile(w, h, 1, idat.toByteArray());
    }

    private static byte[] pngFile(int w, int h, int bitDepth, byte[] idat) throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(file);
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream ih = new DataOutputStream(ihdr);
        ih.writeInt(w);
        ih.writeInt(h);
        ih.write(new byte[] {(byte) bitDepth, 0, 0, 0, 0}); // greyscale, deflate, adaptive filtering, no interlace
        chunk(out, "IHDR", ihdr.toByteArray());
        chunk(out, "IDAT", idat);
        chunk(out, "IEND", new byte[0]);
        return file.toByteArray();
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt(data.length);
        out.write(t);
        out.write(data);
        out.writeInt((int) crc.getValue());
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = OddImageCorpus.class.getResourceAsStream("odd/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource dev/moonbatch/io/odd/" + name
                        + " (made by tools/fixtures/make_odd_images.py)");
            }
            return in.readAllBytes();
        }
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** RGB of a decoded pixel, for assertions. */
    public static int rgb(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xffffff;
    }

    /** True if every channel of {@code actual} is within {@code tolerance} of {@code expected}. */
    public static boolean close(int expected, int actual, int tolerance) {
        for (int shift = 0; shift <= 16; shift += 8) {
            if (Math.abs((expected >> shift & 0xff) - (actual >> shift & 0xff)) > tolerance) {
                return false;
            }
        }
        return true;
    }
}
