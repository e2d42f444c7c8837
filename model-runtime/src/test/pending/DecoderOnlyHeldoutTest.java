package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoder-only test bundles on the held-out VQA set: captions and answers exactly right for
 * ≥ 95%, and each image vision-encoded once however many questions it has.
 */
class DecoderOnlyHeldoutTest {
    static Path root() {
        return Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize();
    }

    record Row(String image, String question, String answer) {
    }

    @ParameterizedTest
    @ValueSource(strings = {"smolvlm-tiny", "moondream2-tiny"})
    void answersHeldOutQuestions(String bundleName) throws Exception {
        Path heldout = root().resolve("sample-data/heldout-vqa");
        List<Row> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(heldout.resolve("questions.csv"));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", 3);
            rows.add(new Row(f[0], f[1], f[2]));
        }
        Properties prompts = new Properties();
        try (Reader r = Files.newBufferedReader(root().resolve("conf/prompts.properties"))) {
            prompts.load(r);
        }
        try (VisionLanguageModel model = ModelLoader.load(root().resolve("sample-data/models/" + bundleName), RuntimeOptions.defaults())) {
            String caption = prompts.getProperty(model.family() + ".caption.normal");
            Map<String, PreparedImage> images = new LinkedHashMap<>();
            List<Query> queries = new ArrayList<>();
            for (Row r : rows) {
                PreparedImage image = images.computeIfAbsent(r.image(), k -> {
                    try {
                        return model.prepare(ImageIO.read(heldout.resolve(k).toFile()));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                queries.add(new Query(image, r.question().isEmpty() ? new Task(Task.CAPTION, caption) : new Task("query", r.question())));
            }
            List<Generation> out = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int from = 0; from < queries.size(); from += 16) {
                out.addAll(model.generate(queries.subList(from, Math.min(from + 16, queries.size())), model.options(16)));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            int right = 0;
            for (int i = 0; i < rows.size(); i++) {
                if (rows.get(i).answer().equals(out.get(i).text())) {
                    right++;
                } else {
                    System.out.println(bundleName + " wrong: " + rows.get(i) + " got '" + out.get(i).text() + "'");
                }
            }
            double accuracy = (double) right / rows.size();
            System.out.printf("%s held-out: %d/%d = %.3f (%d images, %d encodings, %.2f images/s)%n", bundleName, right,
                    rows.size(), accuracy, images.size(), model.imagesEncoded(), images.size() / seconds);
            assertEquals(images.size(), model.imagesEncoded(), "each image encoded once for all its questions");
            assertTrue(accuracy >= 0.95, bundleName + " accuracy " + accuracy);
        }
    }
}
