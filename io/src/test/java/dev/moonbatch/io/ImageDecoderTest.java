package dev.moonbatch.io;

import static dev.moonbatch.io.OddImageCorpus.BLUE;
import static dev.moonbatch.io.OddImageCorpus.GREEN;
import static dev.moonbatch.io.OddImageCorpus.RED;
import static dev.moonbatch.io.OddImageCorpus.WHITE;
import static dev.moonbatch.io.OddImageCorpus.close;
import static dev.moonbatch.io.OddImageCorpus.rgb;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {
    private final ImageDecoder decoder = new ImageDecoder(ImageDecoder.DEFAULT_MAX_PIXELS);

    private static String hex(int rgb) {
        return String.format("%06x", rgb);
    }

    private static void assertColour(int expected, int actual, int tolerance, String what) {
        assertTrue(close(expected, actual, tolerance), what + ": got " + hex(actual) + ", want " + hex(expected));
    }

    @Test
    void exifOrientation6RotatesClockwiseAndMovesTheCorners() throws Exception {
        // stored 40x20: red top-left, green top-right, blue bottom-left, white bottom-right
        byte[] jpeg = OddImageCorpus.withExifOrientation(OddImageCorpus.jpeg(OddImageCorpus.quadrants(40, 20), 0.95f), 6);
        DecodedImage img = decoder.decode(jpeg);
        assertEquals(20, img.width());
        assertEquals(40, img.height());
        BufferedImage i = img.image();
        assertColour(BLUE, rgb(i, 0, 0), 40, "top-left");
        assertColour(RED, rgb(i, 19, 0), 40, "top-right");
        assertColour(WHITE, rgb(i, 0, 39), 40, "bottom-left");
        assertColour(GREEN, rgb(i, 19, 39), 40, "bottom-right");
    }

    @Test
    void withoutExifTheSameJpegIsNotRotated() throws Exception {
        DecodedImage img = decoder.decode(OddImageCorpus.jpeg(OddImageCorpus.quadrants(40, 20), 0.95f));
        assertEquals("40x20", img.width() + "x" + img.height());
        assertColour(RED, rgb(img.image(), 0, 0), 40, "top-left");
        assertEquals("jpeg", img.format());
    }

    @Test
    void transparentPixelsComeOutWhiteAndHalfTransparentOnesAreBlended() throws Exception {
        BufferedImage argb = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00000000); // fully transparent black
        argb.setRGB(1, 0, 0x800000ff); // half-transparent blue
        argb.setRGB(2, 0, 0xff00ff00); // opaque green
        DecodedImage img = decoder.decode(OddImageCorpus.png(argb));
        assertEquals(0xffffff, rgb(img.image(), 0, 0));
        // 0x80/255 of blue over white: 255 * (1 - 128/255) = 127
        assertColour(0x7f7fff, rgb(img.image(), 1, 0), 1, "half-transparent blue on white");
        assertEquals(0x00ff00, rgb(img.image(), 2, 0));
    }

    @Test
    void sixteenBitSamplesAreScaledNotGammaShiftedOrTruncated() throws Exception {
        DecodedImage img = decoder.decode(OddImageCorpus.png(OddImageCorpus.grey16Quadrants(20, 20)));
        // 0x8080 → 128 (a linear-grey conversion would give ~188, taking the low byte 0x80 by luck,
        // so check 0x4000 → 64 as well, whose low byte is 0)
        assertEquals(0x808080, rgb(img.image(), 19, 0));
        assertEquals(0x404040, rgb(img.image(), 0, 19));
        assertEquals(0xffffff, rgb(img.image(), 19, 19));
        assertEquals(0x000000, rgb(img.image(), 0, 0));
    }

    @Test
    void eightBitGreyKeepsItsValues() throws Exception {
        BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(0, 0, 0, 100);
        grey.getRaster().setSample(1, 0, 0, 30);
        DecodedImage img = decoder.decode(OddImageCorpus.png(grey));
        assertEquals(0x646464, rgb(img.image(), 0, 0));
        assertEquals(0x1e1e1e, rgb(img.image(), 1, 0));
    }

    @Test
    void hugePngIsRefusedFromItsHeaderQuicklyWithoutAllocating() throws Exception {
        byte[] png = OddImageCorpus.hugePng(40000, 40000);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        decoder.decode(OddImageCorpus.png(OddImageCorpus.quadrants(4, 4))); // warm up class loading
        long allocatedBefore = threads.getThreadAllocatedBytes(thread);
        long start = System.nanoTime();
        ImageError e = assertThrows(ImageError.class, () -> decoder.decode(png));
        long millis = (System.nanoTime() - start) / 1_000_000;
        long allocated = threads.getThreadAllocatedBytes(thread) - allocatedBefore;
        assertEquals(ImageError.Kind.TOO_LARGE, e.kind());
        assertEquals("TOO_LARGE: 40000x40000 = 1600.0 MP exceeds the limit of 50.0 MP", e.describe());
        assertTrue(millis < 2000, "took " + millis + " ms");
        // the pixels would be 200 MB even at 1 bit per pixel; reading the header needs little
        assertTrue(allocated < 32L << 20, "allocated " + allocated + " bytes");
    }

    @Test
    void pixelLimitIsConfigurable() throws Exception {
        byte[] png = OddImageCorpus.png(OddImageCorpus.solid(100, 100, RED));
        assertEquals(100, new ImageDecoder(10_000).decode(png).width());
        ImageError e = assertThrows(ImageError.class, () -> new ImageDecoder(9_999).decode(png));
        assertEquals(ImageError.Kind.TOO_LARGE, e.kind());
        assertThrows(IllegalArgumentException.class, () -> new ImageDecoder(0));
    }

    @Test
    void emptyHtmlAndTextGiveClearMessages() {
        ImageError empty = assertThrows(ImageError.class, () -> decoder.decode(new byte[0]));
        assertEquals("EMPTY_FILE: the file is empty (0 bytes)", empty.describe());
        ImageError html = assertThrows(ImageError.class, () -> decoder.decode(
                "<!doctype html><html><body>Moved</body></html>".getBytes(StandardCharsets.UTF_8)));
        assertEquals("UNSUPPORTED_FORMAT: not an image (content looks like HTML)", html.describe());
        ImageError pdf = assertThrows(ImageError.class, () -> decoder.decode(
                "%PDF-1.7\n%\u00e2\u00e3\n1 0 obj".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals("UNSUPPORTED_FORMAT: not an image (content looks like a PDF document)", pdf.describe());
        ImageError zip = assertThrows(ImageError.class, () -> decoder.decode(new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0}));
        assertTrue(zip.getMessage().contains("ZIP"), zip.describe());
    }

    @Test
    void truncatedFilesAreCorruptNotHalfGrey() throws Exception {
        byte[] jpeg = OddImageCorpus.jpeg(OddImageCorpus.noise(64, 64, 1), 0.9f);
        ImageError e = assertThrows(ImageError.class, () -> decoder.decode(Arrays.copyOf(jpeg, jpeg.length * 2 / 3)));
        assertEquals(ImageError.Kind.CORRUPT, e.kind());
        assertTrue(e.getMessage().startsWith("truncated jpeg data"), e.describe());
        byte[] png = OddImageCorpus.png(OddImageCorpus.noise(64, 64, 2));
        ImageError p = assertThrows(ImageError.class, () -> decoder.decode(Arrays.copyOf(png, png.length - 100)));
        assertEquals(ImageError.Kind.CORRUPT, p.kind());
        assertTrue(p.getMessage().startsWith("truncated png data"), p.describe());
    }

    @Test
    void lyingHeaderIsCorrupt() throws Exception {
        assertEquals(10, decoder.decode(OddImageCorpus.rawGreyPng(10, 10, 10, 10)).width()); // the honest one decodes
        ImageError e = assertThrows(ImageError.class, () -> decoder.decode(OddImageCorpus.rawGreyPng(300, 300, 10, 10)));
        assertEquals(ImageError.Kind.CORRUPT, e.kind());
    }

    @Test
    void everyPrefixOfAValidFileFailsCleanly() throws Exception {
        // No prefix may throw anything but ImageError (no RuntimeException or Error escapes).
        for (byte[] file : List.of(OddImageCorpus.png(OddImageCorpus.noise(16, 16, 3)),
                OddImageCorpus.jpeg(OddImageCorpus.noise(16, 16, 4), 0.8f))) {
            for (int n = 0; n < file.length; n += 7) {
                try {
                    decoder.decode(Arrays.copyOf(file, n));
                } catch (ImageError expected) {
                    assertTrue(expected.kind() != ImageError.Kind.TOO_LARGE, expected.describe());
                }
            }
        }
    }

    @Test
    void oneDecoderIsSafeToShareBetweenThreads() throws Exception {
        List<byte[]> files = List.of(OddImageCorpus.png(OddImageCorpus.quadrants(30, 20)),
                OddImageCorpus.withExifOrientation(OddImageCorpus.jpeg(OddImageCorpus.quadrants(40, 20), 0.95f), 6),
                OddImageCorpus.png(OddImageCorpus.grey16Quadrants(20, 20)));
        List<int[]> expected = new ArrayList<>();
        for (byte[] f : files) {
            expected.add(pixels(decoder.decode(f)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int k = i % files.size();
                results.add(pool.submit(() -> Arrays.equals(expected.get(k), pixels(decoder.decode(files.get(k))))));
            }
            for (Future<Boolean> r : results) {
                assertTrue(r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int[] pixels(DecodedImage d) {
        return d.image().getRGB(0, 0, d.width(), d.height(), null, 0, d.width());
    }

    @Test
    void realScikitImageTestFiles() throws Exception {
        // 16-bit greyscale whose samples are 0..255: scaled to 8 bits they are 0 or 1, never garbage
        DecodedImage chess = decoder.decode(scikitImage("chessboard_GRAY_U16.tif"));
        assertEquals("200x200", chess.width() + "x" + chess.height());
        assertEquals(0x010101, rgb(chess.image(), 0, 0));   // sample 255
        assertEquals(0x000000, rgb(chess.image(), 30, 0));  // sample 0
        DecodedImage multipage = decoder.decode(scikitImage("multipage_rgb.tif"));
        assertEquals("10x10", multipage.width() + "x" + multipage.height());
        ImageError e = assertThrows(ImageError.class, () -> decoder.decode(scikitImage("truncated.jpg")));
        assertEquals(ImageError.Kind.CORRUPT, e.kind());
    }

    /** One of scikit-image's real test files, committed as test resources (see their LICENSES.md). */
    private static byte[] scikitImage(String name) throws java.io.IOException {
        try (var in = ImageDecoderTest.class.getResourceAsStream("scikit-image/" + name)) {
            assertTrue(in != null, "test resource scikit-image/" + name);
            return in.readAllBytes();
        }
    }

    @Test
    void decodedImageRejectsInconsistentData() {
        BufferedImage rgb = new BufferedImage(2, 3, BufferedImage.TYPE_INT_RGB);
        assertThrows(IllegalArgumentException.class, () -> new DecodedImage(rgb, 3, 2, "png"));
        BufferedImage argb = new BufferedImage(2, 3, BufferedImage.TYPE_INT_ARGB);
        assertThrows(IllegalArgumentException.class, () -> new DecodedImage(argb, 2, 3, "png"));
        assertEquals(3, new DecodedImage(rgb, 2, 3, "png").height());
    }
}
