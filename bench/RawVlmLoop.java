import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.moonbatch.runtime.preprocess.Idefics3Processor;
import dev.moonbatch.runtime.text.ChatTemplate;
import dev.moonbatch.runtime.text.SpecialTokens;
import dev.moonbatch.runtime.text.TextTokenizer;

import javax.imageio.ImageIO;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The limit the job is measured against for a SmolVLM bundle: ONNX Runtime called directly, one image
 * at a time, all cores to ONNX Runtime: vision encoder, embed_tokens, image rows spliced in, merged
 * decoder with its KV cache, greedy, exactly MAX_NEW_TOKENS tokens (EOS ignored). Preprocessing and
 * the prompt come from moonbatch's processor classes (the same work as the job's). No Spark, no
 * batching, no error handling.
 * Usage: java -cp CP bench/RawVlmLoop.java BUNDLE IMAGES_LIST_FILE PROMPT MAX_NEW_TOKENS THREADS
 * Prints "raw: X images/s, Y ms/image, Z tokens/s".
 */
public class RawVlmLoop {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        List<String> images = Files.readAllLines(Path.of(args[1])).stream().filter(l -> !l.isBlank()).toList();
        String question = args[2];
        int maxNew = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        OrtSession vision = env.createSession(dir.resolve("onnx/vision_encoder.onnx").toString(), so);
        OrtSession embed = env.createSession(dir.resolve("onnx/embed_tokens.onnx").toString(), so);
        OrtSession decoder = env.createSession(dir.resolve("onnx/decoder_model_merged.onnx").toString(), so);
        Idefics3Processor processor = Idefics3Processor.load(dir);
        ChatTemplate template = ChatTemplate.load(dir);
        TextTokenizer tokenizer = TextTokenizer.load(dir);
        long imageToken = SpecialTokens.read(dir.resolve("tokenizer.json")).require(Idefics3Processor.IMAGE_TOKEN);
        Map<String, NodeInfo> pastInfo = new HashMap<>();
        decoder.getInputInfo().forEach((k, v) -> { if (k.startsWith("past_key_values.")) pastInfo.put(k, v); });

        run(images.subList(0, 1), question, 2, vision, embed, decoder, processor, template, tokenizer, imageToken, pastInfo, env, new long[1]);
        long[] visionNanos = {0}; // time in vision_encoder runs during the measured loop
        long t0 = System.nanoTime();
        long tokens = run(images, question, maxNew, vision, embed, decoder, processor, template, tokenizer, imageToken, pastInfo, env, visionNanos);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("raw: %.3f images/s, %.1f ms/image, %.2f tokens/s%n", images.size() / secs,
                1000 * secs / images.size(), tokens / secs);
        // the vision encoder's share bounds what any loop around the same graph can gain
        System.out.printf("raw: vision encoder %.1f ms/image (%.1f%% of the time)%n", visionNanos[0] / 1e6 / images.size(),
                100 * visionNanos[0] / 1e9 / secs);
    }

    static long run(List<String> images, String question, int maxNew, OrtSession vision, OrtSession embed,
                    OrtSession decoder, Idefics3Processor processor, ChatTemplate template, TextTokenizer tokenizer,
                    long imageToken, Map<String, NodeInfo> pastInfo, OrtEnvironment env, long[] visionNanos) throws Exception {
        long tokens = 0;
        for (String file : images) {
            Idefics3Processor.Crops crops = processor.process(ImageIO.read(Path.of(file).toFile()));
            Idefics3Processor.Batch batch = Idefics3Processor.batch(List.of(crops));
            ByteBuffer mask = ByteBuffer.allocateDirect(batch.pixelAttentionMask().length).order(ByteOrder.nativeOrder());
            for (boolean m : batch.pixelAttentionMask()) mask.put((byte) (m ? 1 : 0));
            mask.flip();
            float[] features;
            long visionStart = System.nanoTime();
            try (OnnxTensor pv = OnnxTensor.createTensor(env, FloatBuffer.wrap(batch.pixelValues()), batch.pixelValuesShape());
                 OnnxTensor pam = OnnxTensor.createTensor(env, mask, batch.pixelAttentionMaskShape(), OnnxJavaType.BOOL);
                 OrtSession.Result r = vision.run(Map.of("pixel_values", pv, "pixel_attention_mask", pam))) {
                FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                features = new float[fb.remaining()];
                fb.get(features);
            }
            visionNanos[0] += System.nanoTime() - visionStart;
            long[] ids = tokenizer.encode(processor.expandPrompt(template.renderUserImageQuestion(question, true), List.of(crops)), true);
            long[] embeddable = ids.clone();
            for (int i = 0; i < ids.length; i++) if (ids[i] == imageToken) embeddable[i] = 0;
            float[] embeds = embedFlat(embed, env, embeddable);
            int hidden = embeds.length / ids.length;
            for (int i = 0, row = 0; i < ids.length; i++) {
                if (ids[i] == imageToken) System.arraycopy(features, row++ * hidden, embeds, i * hidden, hidden);
            }
            Map<String, OnnxTensor> past = new HashMap<>();
            for (var e : pastInfo.entrySet()) {
                long[] shape = ((TensorInfo) e.getValue().getInfo()).getShape().clone();
                shape[0] = 1;
                shape[2] = 0;
                past.put(e.getKey(), OnnxTensor.createTensor(env, ByteBuffer.allocateDirect(0), shape, ((TensorInfo) e.getValue().getInfo()).type));
            }
            OrtSession.Result previous = null;
            int len = ids.length;
            int pastLen = 0;
            float[] stepEmbeds = embeds;
            for (int step = 0; step < maxNew; step++) {
                long[][] am = new long[1][pastLen + len];
                java.util.Arrays.fill(am[0], 1L);
                long[][] pos = new long[1][len];
                for (int i = 0; i < len; i++) pos[0][i] = pastLen + i;
                Map<String, OnnxTensor> feed = new HashMap<>(past);
                try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(stepEmbeds), new long[] {1, len, hidden});
                     OnnxTensor a = OnnxTensor.createTensor(env, am);
                     OnnxTensor p = OnnxTensor.createTensor(env, pos)) {
                    feed.put("inputs_embeds", x);
                    feed.put("attention_mask", a);
                    feed.put("position_ids", p);
                    OrtSession.Result r = decoder.run(feed);
                    FloatBuffer logits = ((OnnxTensor) r.get("logits").get()).getFloatBuffer();
                    int vocab = (int) ((OnnxTensor) r.get("logits").get()).getInfo().getShape()[2];
                    int base = (len - 1) * vocab;
                    int best = 0;
                    for (int i = 1; i < vocab; i++) if (logits.get(base + i) > logits.get(base + best)) best = i;
                    tokens++;
                    if (previous != null) previous.close(); else past.values().forEach(OnnxTensor::close);
                    previous = r;
                    for (String k : pastInfo.keySet()) past.put(k, (OnnxTensor) r.get("present." + k.substring("past_key_values.".length())).get());
                    pastLen += len;
                    len = 1;
                    stepEmbeds = embedFlat(embed, env, new long[] {best});
                }
            }
            if (previous != null) previous.close();
        }
        return tokens;
    }

    static float[] embedFlat(OrtSession embed, OrtEnvironment env, long[] ids) throws Exception {
        try (OnnxTensor t = OnnxTensor.createTensor(env, new long[][] {ids}); OrtSession.Result r = embed.run(Map.of("input_ids", t))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
    }
}
