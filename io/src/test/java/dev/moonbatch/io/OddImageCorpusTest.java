package dev.moonbatch.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.moonbatch.io.OddImageCorpus.Corners;
import dev.moonbatch.io.OddImageCorpus.Expectation;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every corpus file, read through Hadoop and decoded, gives exactly what the corpus promises. */
class OddImageCorpusTest {
    private static Path dir;
    private static Map<String, Expectation> corpus;
    private static final Configuration CONF = new Configuration();
    private static final ImageDecoder DECODER = new ImageDecoder(ImageDecoder.DEFAULT_MAX_PIXELS);

    @BeforeAll
    static void writeCorpus() throws IOException {
        dir = Files.createTempDirectory("odd-corpus");
        corpus = OddImageCorpus.writeTo(dir);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCorpusFileDecodesOrFailsAsExpected() {
        return corpus.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> check(e.getKey(), e.getValue())));
    }

    private static void check(String name, Expectation expected) throws Exception {
        // Hadoop path strings are not percent-encoded: "file:///tmp/a b.png" names "a b.png".
        String uri = "file://" + dir.resolve(name).toAbsolutePath();
        byte[] bytes;
        try {
            bytes = ImageFiles.readAll(uri, CONF, 64L << 20);
        } catch (ImageError e) {
            fail(name + ": read failed: " + e.describe());
            return;
        }
        if (!expected.decodes()) {
            ImageError error = assertThrows(ImageError.class, () -> DECODER.decode(bytes), name);
            assertEquals(expected.error(), error.kind(), name + ": " + error.describe());
            assertTrue(error.describe().startsWith(expected.error() + ": "), error.describe());
            return;
        }
        DecodedImage img;
        try {
            img = DECODER.decode(bytes);
        } catch (ImageError e) {
            fail(name + ": " + e.describe(), e);
            return;
        }
        assertEquals(BufferedImage.TYPE_INT_RGB, img.image().getType(), name);
        assertEquals(expected.width() + "x" + expected.height(), img.width() + "x" + img.height(), name);
        Corners c = expected.corners();
        if (c != null) {
            int w = img.width() - 1;
            int h = img.height() - 1;
            int[] want = {c.topLeft(), c.topRight(), c.bottomLeft(), c.bottomRight()};
            int[] got = {OddImageCorpus.rgb(img.image(), 0, 0), OddImageCorpus.rgb(img.image(), w, 0),
                OddImageCorpus.rgb(img.image(), 0, h), OddImageCorpus.rgb(img.image(), w, h)};
            for (int i = 0; i < 4; i++) {
                if (!OddImageCorpus.close(want[i], got[i], c.tolerance())) {
                    fail(String.format("%s: corner %s is %06x, want %06x ± %d (all corners: %06x %06x %06x %06x)",
                            name, List.of("top-left", "top-right", "bottom-left", "bottom-right").get(i),
                            got[i], want[i], c.tolerance(), got[0], got[1], got[2], got[3]));
                }
            }
        }
    }

    @Test
    void corpusCoversTheCasesTheJobRelyOn() {
        for (String name : List.of("jpeg/cmyk.jpg", "jpeg/ycck.jpg", "jpeg/progressive.jpg", "jpeg/exif-orientation-6.jpg",
                "png/grey16.png", "png/palette.png", "png/grey-alpha.png", "png/rgba.png", "webp/lossy.webp",
                "gif/animated.gif", "bmp/rgb.bmp", "tiff/lzw.tif", "tiff/multipage.tiff", "tiff/grey16.tif",
                "png/1x1.png", "png/wide-6000x12.png", "a/b/c/deep.png", "bad/empty.jpg", "bad/html-page.jpg",
                "bad/random.png", "bad/truncated.png", "bad/truncated.jpg", OddImageCorpus.HUGE_PNG,
                "bad/lying-ihdr.png")) {
            assertTrue(corpus.containsKey(name), name);
        }
        assertTrue(corpus.size() >= 45, "corpus has " + corpus.size() + " entries");
    }
}
