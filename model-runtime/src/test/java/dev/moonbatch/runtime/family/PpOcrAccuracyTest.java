package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.Region;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.ocr.CharacterErrorRate;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real PP-OCRv4 weights on the project's OCR images: character accuracy (1 − CER) of at
 * least 0.90 over the clear printed-text ones, every line's box inside its image, text = the
 * regions' labels joined by newlines. Prints one line per image (bench/ocr-accuracy.sh prints the
 * same figure from a job run).
 */
class PpOcrAccuracyTest {
    @Test
    void readsTheClearPrintedTextImages() throws Exception {
        Path models = PpOcrModels.assumeFetched();
        Path samples = PpOcrModels.samples();
        List<CSVRecord> truth;
        try (Reader r = Files.newBufferedReader(samples.resolve("truth.csv"))) {
            truth = new ArrayList<>(CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(r).getRecords());
        }
        long edits = 0;
        long chars = 0;
        try (VisionLanguageModel ocr = ModelLoader.load(models, new RuntimeOptions(dev.moonbatch.runtime.bundle.Precision.FP32, 2))) {
            assertEquals("ppocr", ocr.family());
            for (CSVRecord row : truth) {
                var image = ImageIO.read(samples.resolve("images").resolve(row.get("file")).toFile());
                Generation g = ocr.generate(List.of(new Query(ocr.prepare(image), new Task(Task.OCR, ""))),
                        ocr.options(1)).get(0);
                assertEquals(String.join("\n", g.regions().stream().map(Region::label).toList()), g.text());
                for (Region region : g.regions()) {
                    float[] box = region.box();
                    assertEquals(8, box.length);
                    for (int k = 0; k < 8; k += 2) {
                        assertTrue(box[k] >= 0 && box[k] <= image.getWidth() && box[k + 1] >= 0 && box[k + 1] <= image.getHeight(),
                                () -> row.get("file") + ": box outside the image: " + region);
                    }
                }
                int d = CharacterErrorRate.distance(row.get("text"), g.text());
                int n = CharacterErrorRate.length(row.get("text"));
                boolean clear = row.get("clear").equals("1");
                System.out.printf("%-22s %s 1-CER %.3f  %s%n", row.get("file"), clear ? "clear" : "hard ", 1 - (double) d / n,
                        g.text().replace("\n", " | "));
                if (clear) {
                    edits += d;
                    chars += n;
                }
            }
        }
        double accuracy = 1 - (double) edits / chars;
        System.out.printf("clear printed text: 1-CER = %.4f (%d edits over %d characters)%n", accuracy, edits, chars);
        assertTrue(accuracy >= 0.90, "1-CER " + accuracy);
    }
}
