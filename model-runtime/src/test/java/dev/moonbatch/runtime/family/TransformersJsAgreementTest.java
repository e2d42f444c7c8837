package dev.moonbatch.runtime.family;

import com.fasterxml.jackson.databind.JsonNode;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.ModelLoader;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.ModelBundle;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.moonbatch.runtime.family.ReferenceRunner.root;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our greedy token ids against transformers.js 4.3.1 (tools/reference/generate.mjs) on every
 * held-out image: same bundle, same image files, each side with its own decoding and preprocessing;
 * and on each extreme-aspect image ({@link ExtremeImages}), which transformers.js reads already
 * resized as we resize it (with Pillow, as Python transformers does; sharp's resize differs there).
 * CI installs the reference; elsewhere the test is skipped when it is missing.
 */
class TransformersJsAgreementTest {
    static final int MAX_NEW_TOKENS = 20;

    @Test
    void greedyTokenIdsMatchTransformersJs() throws Exception {
        ReferenceRunner.assumeInstalled();
        Path bundle = root().resolve("sample-data/models/vit-gpt2-tiny");
        List<Path> images = new ArrayList<>();
        try (Stream<Path> s = Files.list(root().resolve("sample-data/heldout/images"))) {
            images.addAll(s.filter(p -> p.toString().endsWith(".png")).sorted().toList());
        }
        // What transformers.js reads for each image: itself, or for an extreme shape its Pillow-resized stand-in.
        List<Path> referenceImages = new ArrayList<>(images);
        for (ExtremeImages.Image e : ExtremeImages.pillowResized(Files.createTempDirectory("moonbatch-extreme"),
                ModelBundle.open(bundle).preprocessor())) {
            images.add(e.ours());
            referenceImages.add(e.reference());
        }
        Path list = Files.createTempFile("moonbatch-images", ".txt");
        Files.write(list, referenceImages.stream().map(Path::toString).toList());
        JsonNode expected = ReferenceRunner.run("generate.mjs", "--model", bundle.toString(),
                "--max-new-tokens", String.valueOf(MAX_NEW_TOKENS), "--images-file", list.toString());
        assertEquals(images.size(), expected.size());

        List<long[]> ours = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        try (VisionLanguageModel model = ModelLoader.load(bundle, RuntimeOptions.defaults())) {
            for (int from = 0; from < images.size(); from += 8) {
                List<PreparedImage> batch = new ArrayList<>();
                for (Path p : images.subList(from, Math.min(from + 8, images.size()))) {
                    batch.add(model.prepare(ImageIO.read(p.toFile())));
                }
                for (Generation g : model.generate(batch.stream().map(p -> new Query(p, Task.caption())).toList(), model.options(MAX_NEW_TOKENS))) {
                    ours.add(g.tokenIds());
                    texts.add(g.text());
                }
            }
        }
        int agree = 0;
        List<String> disagreements = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            JsonNode ref = expected.get(i);
            assertEquals(referenceImages.get(i).toString(), ref.get("image").asText());
            long[] refIds = ReferenceRunner.tokenIds(ref);
            if (Arrays.equals(refIds, ours.get(i))) {
                agree++;
                assertEquals(ref.get("text").asText().strip(), texts.get(i));
            } else {
                disagreements.add(new File(images.get(i).toString()).getName() + ": ours " + Arrays.toString(ours.get(i))
                        + " transformers.js " + Arrays.toString(refIds));
            }
        }
        System.out.printf("transformers.js agreement: %d/%d images token-for-token%n", agree, images.size());
        assertEquals(List.of(), disagreements);
    }
}
