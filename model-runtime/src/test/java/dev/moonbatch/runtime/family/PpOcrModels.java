package dev.moonbatch.runtime.family;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real PP-OCRv4 weights for the tests: the folder {@code tools/models/fetch-ppocr.sh} makes
 * ({@code models/ppocr-v4}, or {@code -Dmoonbatch.ppocr=DIR}). They are not committed (16 MB);
 * {@code .ci/run} fetches them before the tests, so under CI a missing folder is a failure.
 */
public final class PpOcrModels {
    private PpOcrModels() {
    }

    public static Path dir() {
        String given = System.getProperty("moonbatch.ppocr");
        return given != null ? Path.of(given) : ReferenceRunner.root().resolve("models/ppocr-v4");
    }

    /** The folder, or the test is skipped (a failure under CI=true, through CiNeverSkips). */
    public static Path assumeFetched() {
        Path dir = dir();
        Assumptions.assumeTrue(Files.isRegularFile(dir.resolve("ppocr.json")),
                "PP-OCRv4 not fetched: run tools/models/fetch-ppocr.sh (looked in " + dir + ")");
        return dir;
    }

    /** The OCR test images and their ground truth ({@code tools/fixtures/make_ocr_images.py}). */
    public static Path samples() {
        return ReferenceRunner.root().resolve("sample-data/ocr");
    }
}
