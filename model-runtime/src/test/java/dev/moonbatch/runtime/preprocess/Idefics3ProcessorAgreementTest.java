package dev.moonbatch.runtime.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.moonbatch.runtime.text.ChatTemplate;
import dev.moonbatch.runtime.text.TextTokenizer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our SmolVLM (Idefics3) processor against transformers.js 4.3.1's own processor
 * (tools/reference/smolvlm-processor.mjs) on SmolVLM-256M-Instruct's real configs and tokenizer
 * (src/test/resources/smolvlm-256m-configs) and on the same configs changed to SmolVLM-2.2B's
 * numbers (tile 384, 81 tokens, longest edge 1536): tile layout, rendered chat template, input ids
 * and pixel values, all exact. CI installs the reference; elsewhere the test is skipped when it is missing.
 */
class Idefics3ProcessorAgreementTest {
    static final String QUESTION = "Can you describe this image?";
    @TempDir
    static Path tmp;
    static Path reference;

    static Path root() {
        return Path.of(System.getProperty("moonbatch.root", "..")).toAbsolutePath().normalize();
    }

    @BeforeAll
    static void referenceInstalled() {
        reference = root().resolve("tools/reference");
        boolean installed = Files.isDirectory(reference.resolve("node_modules/@huggingface/transformers"));
        if (!installed && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("CI must install tools/reference (npm ci --ignore-scripts) for this test");
        }
        Assumptions.assumeTrue(installed, "transformers.js not installed: run `cd tools/reference && npm ci --ignore-scripts`");
    }

    static Path configs256m() throws Exception {
        return Path.of(Idefics3ProcessorAgreementTest.class.getResource("/smolvlm-256m-configs/tokenizer.json").toURI()).getParent();
    }

    /** name, width, height. */
    static final Object[][] IMAGES = {
            {"wide", 1500, 400},
            {"tall", 300, 1400},
            {"small", 200, 150},
            {"exact2048", 2048, 700},   // longest edge already 2048: no 8-bit resize, only the float resizes
            {"shrink", 2600, 1900},     // downscaled by lanczos3
    };

    /**
     * 1000:1 and beyond, either way, and a single pixel: the short side resizes to a few pixels
     * (or to 0, see {@link #compareExtreme}) and is padded up to one tile. Run without
     * {@code --batch}: a batch of 17-crop images would be about 1 GB of dumps.
     */
    static final Object[][] EXTREME = {
            {"wide-6000x12", 6000, 12},
            {"tall-12x6000", 12, 6000},
            {"column-1x2000", 1, 2000}, // grows to 1x2048 at 256M; 0x1536 at 2.2B
            {"row-2000x1", 2000, 1},
            {"tall-3x5000", 3, 5000},
            {"wide-5000x3", 5000, 3},
            {"row-6000x1", 6000, 1},    // 6000 -> 2048 floors the 1 to 0
            {"column-1x6000", 1, 6000},
            {"pixel-1x1", 1, 1},        // grows to 2048x2048: 4x4 tiles
    };

    static List<Path> writeImages(Path dir, Object[][] specs) throws IOException {
        Files.createDirectories(dir);
        List<Path> paths = new ArrayList<>();
        Random random = new Random(42);
        for (Object[] spec : specs) {
            int w = (int) spec[1];
            int h = (int) spec[2];
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int r = (x * 7 + y * 3) & 0xFF;
                    int g = (x * x / 50 + y) & 0xFF;
                    int b = ((x / 20 + y / 20) % 3 == 0) ? random.nextInt(256) : (y * 5) & 0xFF;
                    img.setRGB(x, y, (r << 16) | (g << 8) | b);
                }
            }
            Path p = dir.resolve(spec[0] + ".png");
            ImageIO.write(img, "png", p.toFile());
            paths.add(p);
        }
        return paths;
    }

    static JsonNode runReference(Path model, List<Path> images, Path dump, boolean batch) throws Exception {
        Process node = startReference(model, images, dump, batch, ProcessBuilder.Redirect.INHERIT);
        byte[] stdout = node.getInputStream().readAllBytes();
        assertTrue(node.waitFor(5, TimeUnit.MINUTES), "reference finished");
        assertEquals(0, node.exitValue(), "reference exit code");
        return new ObjectMapper().readTree(stdout);
    }

    static Process startReference(Path model, List<Path> images, Path dump, boolean batch,
                                  ProcessBuilder.Redirect stderr) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("node", reference.resolve("smolvlm-processor.mjs").toString(),
                "--model", model.toString(), "--prompt", QUESTION, "--dump", dump.toString()));
        if (batch) {
            cmd.add("--batch");
        }
        images.forEach(p -> cmd.add(p.toString()));
        return new ProcessBuilder(cmd).redirectError(stderr).start();
    }

    static float[] readFloats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    @Test
    void smolvlm256mMatchesTransformersJs() throws Exception {
        compare(configs256m(), "256M");
    }

    @Test
    void smolvlm2bNumbersMatchTransformersJs() throws Exception {
        compare(configs2bLike(), "2.2B-like");
    }

    @Test
    void extremeAspectRatios256mMatchTransformersJs() throws Exception {
        compareExtreme(configs256m(), "256M-extreme");
    }

    @Test
    void extremeAspectRatios2bNumbersMatchTransformersJs() throws Exception {
        compareExtreme(configs2bLike(), "2.2B-like-extreme");
    }

    /**
     * {@code --image-splitting off} and {@code --image-longest-edge 1024} applied to the 256M configs
     * give what transformers.js gives with those values written into preprocessor_config.json: one
     * 512-px view, and 2 x 2 tiles + the global view.
     */
    @Test
    void imageOptionsMatchTransformersJsWithTheSameSettingsInTheConfig() throws Exception {
        Object[][] cases = {{new dev.moonbatch.runtime.ImageOptions(false, 0), "do_image_splitting", false},
                {new dev.moonbatch.runtime.ImageOptions(null, 1024), "longest_edge", 1024},
                {new dev.moonbatch.runtime.ImageOptions(false, 1024), "both", 0}};
        for (Object[] c : cases) {
            var options = (dev.moonbatch.runtime.ImageOptions) c[0];
            String label = "256M-" + options.key().substring(1).replace(';', '-');
            Path dir = copyOf256m(tmp.resolve(label + "-configs"));
            ObjectMapper m = new ObjectMapper();
            ObjectNode pre = (ObjectNode) m.readTree(dir.resolve("preprocessor_config.json").toFile());
            if (options.splitting() != null) {
                pre.put("do_image_splitting", options.splitting());
            }
            if (options.longestEdge() > 0) {
                ((ObjectNode) pre.get("size")).put("longest_edge", options.longestEdge());
            }
            m.writeValue(dir.resolve("preprocessor_config.json").toFile(), pre);

            Path work = tmp.resolve(label);
            List<Path> images = writeImages(work.resolve("images"), IMAGES);
            JsonNode expected = runReference(dir, images, work.resolve("dump"), false);
            Idefics3Processor ours = new Idefics3Processor(Idefics3Processor.Config.load(configs256m()).with(options));
            List<Idefics3Processor.Crops> crops = checkImages(configs256m(), ours, label, images, expected, new boolean[images.size()]);
            for (Idefics3Processor.Crops image : crops) {
                if (options.splitting() == Boolean.FALSE) {
                    assertEquals(1, image.crops(), label);
                } else {
                    assertTrue(image.crops() <= 5, label + ": at most 2 x 2 tiles + the global view, got " + image.crops());
                }
            }
        }
    }

    /** A copy of the 256M configs in {@code dir}, to change. */
    static Path copyOf256m(Path dir) throws Exception {
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(configs256m())) {
            for (Path f : s.toList()) {
                Files.copy(f, dir.resolve(f.getFileName().toString()));
            }
        }
        return dir;
    }

    /** Same tokenizer and template, SmolVLM(-Instruct, 2.2B)'s processor numbers. */
    static synchronized Path configs2bLike() throws Exception {
        Path dir = tmp.resolve("smolvlm-2b-like");
        if (Files.isDirectory(dir)) {
            return dir;
        }
        copyOf256m(dir);
        ObjectMapper m = new ObjectMapper();
        ObjectNode pre = (ObjectNode) m.readTree(dir.resolve("preprocessor_config.json").toFile());
        ((ObjectNode) pre.get("size")).put("longest_edge", 1536);
        ((ObjectNode) pre.get("max_image_size")).put("longest_edge", 384);
        m.writeValue(dir.resolve("preprocessor_config.json").toFile(), pre);
        ObjectNode proc = (ObjectNode) m.readTree(dir.resolve("processor_config.json").toFile());
        proc.put("image_seq_len", 81);
        m.writeValue(dir.resolve("processor_config.json").toFile(), proc);
        return dir;
    }

    void compare(Path model, String label) throws Exception {
        Path work = tmp.resolve(label);
        List<Path> images = writeImages(work.resolve("images"), IMAGES);
        JsonNode expected = runReference(model, images, work.resolve("dump"), true);
        assertEquals(images.size() + 1, expected.size());
        List<Idefics3Processor.Crops> all = checkImages(model, label, images, expected, new boolean[images.size()]);
        // The batch: padding crops and mask.
        JsonNode ref = expected.get(images.size());
        Idefics3Processor.Batch batch = Idefics3Processor.batch(all);
        assertEquals(ref.get("pixel_values_shape").toString(), Arrays.toString(batch.pixelValuesShape()).replace(" ", ""));
        int plane = batch.tile() * batch.tile();
        for (int c = 0; c < batch.batch() * batch.maxCrops(); c++) {
            int trues = 0;
            for (int k = c * plane; k < (c + 1) * plane; k++) {
                trues += batch.pixelAttentionMask()[k] ? 1 : 0;
            }
            assertEquals(ref.get("pixel_attention_mask_sums").get(c).asInt(), trues, "mask of crop " + c);
        }
    }

    /**
     * {@link #EXTREME} through both processors. Where transformers.js's resize floors a side to 0
     * pixels it throws (checked: it must still exit non-zero, naming the 0); there the reference
     * reads a stand-in, the image already resized by {@link SharpResize} to our clamped size, which
     * it keeps untouched, so tiles, ids and every pixel after that resize must be identical.
     */
    void compareExtreme(Path model, String label) throws Exception {
        Path work = tmp.resolve(label);
        List<Path> images = writeImages(work.resolve("images"), EXTREME);
        Idefics3Processor.Config config = Idefics3Processor.load(model).config();
        List<Path> fed = new ArrayList<>();
        boolean[] standIn = new boolean[images.size()];
        for (int i = 0; i < images.size(); i++) {
            BufferedImage img = ImageIO.read(images.get(i).toFile());
            int w = img.getWidth();
            int h = img.getHeight();
            double f = Math.min((double) config.longestEdge() / w, (double) config.longestEdge() / h);
            standIn[i] = Idefics3Processor.floorToFixed2(w * f) == 0 || Idefics3Processor.floorToFixed2(h * f) == 0;
            if (!standIn[i]) {
                fed.add(images.get(i));
                continue;
            }
            String stderr = referenceFailure(model, images.get(i), work.resolve("dump-failing"));
            assertTrue(stderr.contains("received 0"), label + " " + images.get(i).getFileName()
                    + ": transformers.js should refuse the 0-pixel side; its stderr:\n" + stderr);
            int[] size = Idefics3Processor.resizeOutputSize(w, h, config.shortestEdge(), config.longestEdge());
            int[] rgb = SharpResize.resize(img.getRGB(0, 0, w, h, null, 0, w), w, h, size[0], size[1], config.resample());
            BufferedImage resized = new BufferedImage(size[0], size[1], BufferedImage.TYPE_INT_RGB);
            resized.setRGB(0, 0, size[0], size[1], rgb, 0, size[0]);
            Path p = work.resolve("stand-in").resolve(images.get(i).getFileName());
            Files.createDirectories(p.getParent());
            ImageIO.write(resized, "png", p.toFile());
            fed.add(p);
        }
        JsonNode expected = runReference(model, fed, work.resolve("dump"), false);
        assertEquals(images.size(), expected.size());
        checkImages(model, label, images, expected, standIn);
    }

    /** The reference's stderr on one image it must refuse (non-zero exit). */
    static String referenceFailure(Path model, Path image, Path dump) throws Exception {
        Path log = Files.createTempFile(tmp, "reference", ".log");
        Process node = startReference(model, List.of(image), dump, false, ProcessBuilder.Redirect.to(log.toFile()));
        node.getInputStream().readAllBytes();
        assertTrue(node.waitFor(5, TimeUnit.MINUTES), "reference finished");
        String stderr = Files.readString(log);
        assertTrue(node.exitValue() != 0, image.getFileName() + ": transformers.js accepted it now; stderr:\n" + stderr);
        return stderr;
    }

    /**
     * Each image through our processor against the reference's row for it: tiles, input ids and
     * pixel values, all identical. {@code standIn[i]}: the reference read image i's stand-in.
     */
    List<Idefics3Processor.Crops> checkImages(Path model, String label, List<Path> images, JsonNode expected,
                                             boolean[] standIn) throws Exception {
        return checkImages(model, Idefics3Processor.load(model), label, images, expected, standIn);
    }

    /** {@link #checkImages} with our side's processor given (the configs of {@code model} changed by options). */
    List<Idefics3Processor.Crops> checkImages(Path model, Idefics3Processor processor, String label, List<Path> images,
                                             JsonNode expected, boolean[] standIn) throws Exception {
        ChatTemplate template = ChatTemplate.load(model);
        String prompt = template.renderUserImageQuestion(QUESTION, true);
        List<Idefics3Processor.Crops> all = new ArrayList<>();
        List<String> report = new ArrayList<>();
        try (TextTokenizer tokenizer = TextTokenizer.load(model)) {
            for (int i = 0; i < images.size(); i++) {
                JsonNode ref = expected.get(i);
                String name = images.get(i).getFileName().toString();
                assertEquals(ref.get("prompt").asText(), prompt, "rendered chat template");
                BufferedImage img = ImageIO.read(images.get(i).toFile());
                Idefics3Processor.Crops crops = processor.process(img);
                all.add(crops);
                assertEquals(ref.get("rows").asInt(), crops.rows(), name + " rows");
                assertEquals(ref.get("cols").asInt(), crops.cols(), name + " cols");
                JsonNode shape = ref.get("pixel_values_shape");
                assertEquals(crops.crops(), shape.get(1).asInt(), name + " crops");
                assertEquals(crops.tile(), shape.get(3).asInt(), name + " tile");
                long[] refIds = new long[ref.get("input_ids").size()];
                for (int t = 0; t < refIds.length; t++) {
                    refIds[t] = ref.get("input_ids").get(t).asLong();
                }
                long[] ours = tokenizer.encode(processor.expandPrompt(prompt, List.of(crops)), true);
                assertArrayEquals(refIds, ours, name + " input_ids");
                float[] refPixels = readFloats(Path.of(ref.get("dump").asText()));
                assertEquals(refPixels.length, crops.pixels().length, name + " pixel count");
                double maxDiff = 0;
                long differing = 0;
                for (int k = 0; k < refPixels.length; k++) {
                    double d = Math.abs(refPixels[k] - crops.pixels()[k]);
                    maxDiff = Math.max(maxDiff, d);
                    if (d != 0) {
                        differing++;
                    }
                }
                report.add(String.format("%s %s %dx%d%s: %dx%d tiles + global, %d ids identical, pixels max |diff| %.3g (%d of %d differ)",
                        label, name, img.getWidth(), img.getHeight(), standIn[i] ? " (reference read the resized stand-in)" : "",
                        crops.rows(), crops.cols(), ours.length, maxDiff, differing, refPixels.length));
                assertEquals(0, differing, report.get(report.size() - 1));
            }
        } finally {
            report.forEach(System.out::println);
        }
        return all;
    }
}
