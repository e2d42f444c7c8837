package dev.moonbatch.runtime.family;

import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.generate.GenerationOptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Questions about one image asked one call at a time (as {@code moonbatch ask} does) encode the
 * image once, and get the answers that one call with all of them gives; a new image is encoded.
 */
class LastImageFeaturesTest {

    @ParameterizedTest
    @ValueSource(strings = {"smolvlm-tiny", "moondream2-tiny", "blip2-tiny", "florence2-tiny"})
    void questionsAskedOneCallAtATimeEncodeTheImageOnce(String bundle) throws Exception {
        var root = ReferenceRunner.root();
        try (VisionLanguageModel model = ModelLoader.load(root.resolve("sample-data/models/" + bundle),
                RuntimeOptions.defaults())) {
            PreparedImage image = model.prepare(ImageIO.read(root.resolve("sample-data/heldout-vqa/images/vqa_000.png").toFile()));
            List<Task> tasks = bundle.startsWith("florence2")
                    ? List.of(new Task(Task.CAPTION, "<CAPTION>"), new Task(Task.CAPTION, "<DETAILED_CAPTION>"),
                    new Task(Task.OCR, "<OCR>"))
                    : List.of(new Task(Task.QUERY, "What colour is the object?"), new Task(Task.QUERY, "What shape is the object?"),
                    new Task(Task.QUERY, "What is the background?"));
            GenerationOptions options = model.options(8);

            List<Generation> together = model.generate(tasks.stream().map(t -> new Query(image, t)).toList(), options);
            long before = model.imagesEncoded();
            PreparedImage again = model.prepare(ImageIO.read(root.resolve("sample-data/heldout-vqa/images/vqa_000.png").toFile()));
            List<Generation> oneByOne = new ArrayList<>();
            for (Task t : tasks) {
                oneByOne.add(model.generate(List.of(new Query(again, t)), options).get(0));
            }
            assertEquals(1, model.imagesEncoded() - before, "a freshly prepared image is encoded, then reused for the next calls");
            for (int i = 0; i < tasks.size(); i++) {
                assertEquals(together.get(i).text(), oneByOne.get(i).text(), tasks.get(i).prompt());
                assertArrayEquals(together.get(i).tokenIds(), oneByOne.get(i).tokenIds(), tasks.get(i).prompt());
            }

            PreparedImage other = model.prepare(ImageIO.read(root.resolve("sample-data/heldout-vqa/images/vqa_001.png").toFile()));
            model.generate(List.of(new Query(other, tasks.get(0))), options);
            model.generate(List.of(new Query(again, tasks.get(0))), options);
            assertEquals(3, model.imagesEncoded() - before, "only the last image is kept: back to the first one encodes it again");
        }
    }
}
