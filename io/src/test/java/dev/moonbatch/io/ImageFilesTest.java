package dev.moonbatch.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFilesTest {
    private final Configuration conf = new Configuration();

    @Test
    void readsAllBytesFromPlainPathsAndUris(@TempDir Path dir) throws Exception {
        byte[] data = OddImageCorpus.png(OddImageCorpus.noise(50, 50, 9));
        Path f = Files.write(dir.resolve("a b.png"), data);
        assertArrayEquals(data, ImageFiles.readAll(f.toString(), conf, data.length));
        assertArrayEquals(data, ImageFiles.readAll("file://" + f.toAbsolutePath(), conf, 1 << 20));
        assertArrayEquals(new byte[0], ImageFiles.readAll(Files.write(dir.resolve("e.jpg"), new byte[0]).toString(), conf, 10));
    }

    @Test
    void tooLargeIsRefusedFromTheFileSizeWithoutReading(@TempDir Path dir) throws Exception {
        Path sparse = dir.resolve("sparse.tif");
        try (RandomAccessFile f = new RandomAccessFile(sparse.toFile(), "rw")) {
            f.setLength(5L << 30); // 5 GiB, sparse: reading it would take long and cannot fit an array
        }
        long start = System.nanoTime();
        ImageError e = assertThrows(ImageError.class, () -> ImageFiles.readAll(sparse.toString(), conf, 100L << 20));
        assertTrue(System.nanoTime() - start < 2_000_000_000L);
        assertEquals(ImageError.Kind.TOO_LARGE, e.kind());
        assertEquals("TOO_LARGE: file size 5368709120 bytes (5120.0 MiB) exceeds the limit of 104857600 bytes (100.0 MiB)",
                e.describe());
        Path small = Files.write(dir.resolve("s.png"), new byte[11]);
        assertEquals(ImageError.Kind.TOO_LARGE,
                assertThrows(ImageError.class, () -> ImageFiles.readAll(small.toString(), conf, 10)).kind());
    }

    @Test
    void missingFileAndDirectoryAreReadFailures(@TempDir Path dir) {
        ImageError missing = assertThrows(ImageError.class,
                () -> ImageFiles.readAll(dir.resolve("gone.png").toString(), conf, 100));
        assertEquals(ImageError.Kind.READ_FAILED, missing.kind());
        assertTrue(missing.getMessage().contains("not found"), missing.describe());
        ImageError folder = assertThrows(ImageError.class, () -> ImageFiles.readAll(dir.toString(), conf, 100));
        assertEquals(ImageError.Kind.READ_FAILED, folder.kind());
    }
}
