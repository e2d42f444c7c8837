package dev.moonbatch.runtime.family;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moonbatch.runtime.Generation;
import dev.moonbatch.runtime.SessionOpening;
import dev.moonbatch.runtime.PreparedImage;
import dev.moonbatch.runtime.Query;
import dev.moonbatch.runtime.RuntimeOptions;
import dev.moonbatch.runtime.Task;
import dev.moonbatch.runtime.VisionLanguageModel;
import dev.moonbatch.runtime.bundle.BundleException;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.generate.DeclaredInputs;
import dev.moonbatch.runtime.generate.DecodingState;
import dev.moonbatch.runtime.generate.GenerationOptions;
import dev.moonbatch.runtime.generate.GeneratedSequence;
import dev.moonbatch.runtime.generate.Generator;
import dev.moonbatch.runtime.generate.MergedDecoder;
import dev.moonbatch.runtime.generate.Tensors;
import dev.moonbatch.runtime.graph.InvariantHoisting;
import dev.moonbatch.runtime.preprocess.ImagePreprocessor;
import dev.moonbatch.runtime.text.TextTokenizer;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Set;

/**
 * vit-gpt2 ({@code VisionEncoderDecoderModel}, e.g. Xenova/vit-gpt2-image-captioning):
 * {@code encoder_model} turns {@code pixel_values} into {@code last_hidden_state}, which
 * {@code decoder_model_merged} reads as {@code encoder_hidden_states} at every step, starting
 * from {@code decoder_start_token_id}. Captions only; it takes no prompt.
 */
public final class VitGpt2 implements VisionLanguageModel {
    static final String ENCODER = "encoder_model";
    static final String DECODER = "decoder_model_merged";
    public static final List<String> COMPONENTS = List.of(ENCODER, DECODER);

    private final ModelBundle bundle;
    private final ImagePreprocessor preprocessor;
    private final TextTokenizer tokenizer;
    private final OrtSession encoder;
    private final DeclaredInputs encoderInputs;
    private final MergedDecoder decoder;
    private final AtomicLong encoded = new AtomicLong();
    private final InvariantHoisting hoisting;

    public VitGpt2(ModelBundle bundle, RuntimeOptions options) {
        this.bundle = bundle;
        this.preprocessor = new ImagePreprocessor(bundle.preprocessor());
        var encoderFile = bundle.onnx(ENCODER, options.precision());
        var decoderFile = bundle.onnx(DECODER, options.precision());
        this.tokenizer = TextTokenizer.load(bundle);
        List<AutoCloseable> sessions = SessionOpening.all(List.of(
                SessionOpening.open(encoderFile, options),
                SessionOpening.start(decoderFile.getFileName().toString(),
                        () -> InvariantHoisting.open(decoderFile, options, Set.of("encoder_hidden_states")))));
        this.encoder = (OrtSession) sessions.get(0);
        this.encoderInputs = DeclaredInputs.of(encoder);
        this.hoisting = (InvariantHoisting) sessions.get(1);
        this.decoder = new MergedDecoder(hoisting.decoder(), "onnx/" + decoderFile.getFileName());
        if (!encoder.getInputNames().contains("pixel_values")) {
            close();
            throw new BundleException("onnx/" + encoderFile.getFileName() + " lacks the input 'pixel_values'");
        }
        if (bundle.generation().decoderStartTokenId() < 0) {
            close();
            throw new BundleException("generation_config.json / config.json give no decoder_start_token_id");
        }
    }

    @Override
    public String name() {
        return bundle.name();
    }

    /** vit-gpt2's prepared image: CHW pixel values. */
    record Pixels(float[] values) implements PreparedImage {
    }

    @Override
    public String family() {
        return "vit-gpt2";
    }

    @Override
    public long imagesEncoded() {
        return encoded.get();
    }

    @Override
    public PreparedImage prepare(BufferedImage image) {
        return new Pixels(preprocessor.pixelValues(image));
    }

    @Override
    public GenerationOptions options(int maxNewTokens) {
        return bundle.generationOptions(maxNewTokens);
    }

    @Override
    public List<Generation> generate(List<Query> queries, GenerationOptions options) throws OrtException {
        if (queries.isEmpty()) {
            return List.of();
        }
        for (Query q : queries) {
            if (!Task.CAPTION.equals(q.task().name())) {
                throw new IllegalArgumentException("--task: vit-gpt2 only captions, it cannot do '" + q.task().name() + "'");
            }
        }
        // A caption does not depend on a prompt, so one generation per distinct image serves all its queries.
        Map<PreparedImage, Integer> distinct = new LinkedHashMap<>();
        queries.forEach(q -> distinct.putIfAbsent(q.image(), distinct.size()));
        List<Generation> perImage = caption(new ArrayList<>(distinct.keySet()), options);
        return queries.stream().map(q -> perImage.get(distinct.get(q.image()))).toList();
    }

    private List<Generation> caption(List<PreparedImage> images, GenerationOptions options) throws OrtException {
        int n = images.size();
        encoded.addAndGet(n);
        var pixels = preprocessor.batch(images.stream().map(p -> ((Pixels) p).values()).toList());
        try (OnnxTensor pixelValues = encoderInputs.floats("pixel_values", pixels, n, 3,
                preprocessor.height(), preprocessor.width());
             OrtSession.Result encoded = encoder.run(Map.of("pixel_values", pixelValues))) {
            OnnxTensor hidden = (OnnxTensor) encoded.get("last_hidden_state").orElseGet(() -> encoded.get(0));
            long[][] start = new long[n][];
            Arrays.fill(start, new long[] {bundle.generation().decoderStartTokenId()});
            try (InvariantHoisting.RowInputs rows = hoisting.rowInputs(Map.of("encoder_hidden_states", hidden));
                 DecodingState state = decoder.start(start, rows.tensors())) {
                List<Generation> out = new ArrayList<>(n);
                for (GeneratedSequence g : Generator.generate(state, options, start)) {
                    out.add(new Generation(g.ids(), tokenizer.decode(g.ids()).strip(), g.logProbs(), g.finishReason()));
                }
                return out;
            }
        }
    }

    @Override
    public void close() {
        try {
            encoder.close();
            decoder.close();
            hoisting.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing " + bundle.name() + ": " + e.getMessage(), e);
        } finally {
            tokenizer.close();
        }
    }
}
