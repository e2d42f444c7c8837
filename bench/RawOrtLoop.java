import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.moonbatch.runtime.bundle.ModelBundle;
import dev.moonbatch.runtime.preprocess.ImagePreprocessor;

import javax.imageio.ImageIO;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The limit the job is measured against: one thread of control, ONNX Runtime called directly
 * (encoder, then the merged decoder with its KV cache, greedy), one image at a time, all cores
 * given to ONNX Runtime. No Spark, no batching, no error handling.
 * Usage: java -cp "job/target/moonbatch-job.jar:job/target/lib/*" bench/RawOrtLoop.java BUNDLE IMAGES_DIR MAX_NEW_TOKENS THREADS [ignore-eos]
 * With {@code ignore-eos} every image costs exactly MAX_NEW_TOKENS steps and one image is run first,
 * untimed (bench/throughput.sh's equal-work legs); without it generation stops at EOS and nothing
 * runs untimed first (bench/raw-vs-job.sh).
 */
public class RawOrtLoop {
    public static void main(String[] args) throws Exception {
        Path bundleDir = Path.of(args[0]);
        List<Path> images;
        try (Stream<Path> s = Files.walk(Path.of(args[1]))) {
            images = s.filter(p -> p.toString().matches("(?i).*\\.(png|jpe?g)$")).sorted().toList();
        }
        int maxNew = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        boolean ignoreEos = args.length > 4 && args[4].equals("ignore-eos");
        ModelBundle bundle = ModelBundle.open(bundleDir);
        ImagePreprocessor pre = new ImagePreprocessor(bundle.preprocessor());
        long start = bundle.generation().decoderStartTokenId();
        long eos = bundle.generation().eosTokenIds().get(0);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        OrtSession encoder = env.createSession(bundleDir.resolve("onnx/encoder_model.onnx").toString(), so);
        OrtSession decoder = env.createSession(bundleDir.resolve("onnx/decoder_model_merged.onnx").toString(), so);
        Map<String, NodeInfo> pastInfo = new HashMap<>();
        decoder.getInputInfo().forEach((k, v) -> { if (k.startsWith("past_key_values.")) pastInfo.put(k, v); });

        if (ignoreEos) {
            run(images.subList(0, 1), 2, true, pre, start, eos, env, encoder, decoder, pastInfo);
        }
        long t0 = System.nanoTime();
        long tokens = run(images, maxNew, ignoreEos, pre, start, eos, env, encoder, decoder, pastInfo);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("raw-ort-loop: %d images, %d tokens, %.2f s, %.3f images/s, %.1f ms/image, %.2f tokens/s%n",
                images.size(), tokens, seconds, images.size() / seconds, seconds * 1000 / images.size(), tokens / seconds);
    }

    /** Greedy generation for each image in turn; returns the tokens generated. */
    static long run(List<Path> images, int maxNew, boolean ignoreEos, ImagePreprocessor pre, long start, long eos,
                    OrtEnvironment env, OrtSession encoder, OrtSession decoder, Map<String, NodeInfo> pastInfo) throws Exception {
        long tokens = 0;
        for (Path image : images) {
            float[] pixels = pre.pixelValues(ImageIO.read(image.toFile()));
            try (OnnxTensor pv = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[] {1, 3, pre.height(), pre.width()});
                 OrtSession.Result enc = encoder.run(Map.of("pixel_values", pv))) {
                Map<String, OnnxTensor> past = new HashMap<>();
                List<OnnxTensor> empties = new ArrayList<>();
                for (var e : pastInfo.entrySet()) {
                    long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape().clone();
                    shape[0] = 1;
                    shape[2] = 0;
                    OnnxTensor t = OnnxTensor.createTensor(env, ByteBuffer.allocateDirect(0), shape, ((TensorInfo) e.getValue().getInfo()).type);
                    empties.add(t);
                    past.put(e.getKey(), t);
                }
                OrtSession.Result previous = null;
                long token = start;
                for (int step = 0; step < maxNew; step++) {
                    Map<String, OnnxTensor> feed = new HashMap<>(past);
                    try (OnnxTensor ids = OnnxTensor.createTensor(env, new long[][] {{token}});
                         OnnxTensor branch = OnnxTensor.createTensor(env, new boolean[] {step > 0})) {
                        feed.put("input_ids", ids);
                        feed.put("use_cache_branch", branch);
                        feed.put("encoder_hidden_states", (OnnxTensor) enc.get(0));
                        OrtSession.Result r = decoder.run(feed);
                        FloatBuffer logits = ((OnnxTensor) r.get("logits").get()).getFloatBuffer();
                        int best = 0;
                        for (int i = 1; i < logits.limit(); i++) if (logits.get(i) > logits.get(best)) best = i;
                        token = best;
                        tokens++;
                        if (previous != null) previous.close();
                        previous = r;
                        for (String k : pastInfo.keySet()) past.put(k, (OnnxTensor) r.get("present." + k.substring(16)).get());
                    }
                    if (token == eos && !ignoreEos) break;
                }
                if (previous != null) previous.close();
                empties.forEach(OnnxValue::close);
            }
        }
        return tokens;
    }
}
