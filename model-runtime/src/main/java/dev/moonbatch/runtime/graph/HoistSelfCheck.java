package dev.moonbatch.runtime.graph;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.moonbatch.runtime.generate.Tensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Runs the original decoder and the rewritten pair (per-image graph, then the rewritten decoder) on
 * the same random inputs and compares every output: the first step ({@code use_cache_branch = false},
 * empty past), a cached step (the past of the first), and a cached step after dropping and reordering
 * rows (rows [2, 0] of a batch of 3), which is what the generation loop does with finished sequences
 * and beam search. Also checks that each boundary tensor has the batch as its first dimension.
 */
final class HoistSelfCheck {
    static final double TOLERANCE = 1e-4;
    private static final int BATCH = 3;
    private static final int ENCODER_LENGTH = 5;
    private static final int PROMPT_LENGTH = 2;

    /** The rewrite does not compute the same thing; the message says where. */
    static final class Failed extends Exception {
        Failed(String message) {
            super(message);
        }
    }

    private final DecoderHoister.Config config;

    HoistSelfCheck(DecoderHoister.Config config) {
        this.config = config;
    }

    void verify(Path original, Path perImage, Path decoder) throws Failed, OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
             OrtSession orig = env.createSession(original.toString(), so);
             OrtSession pre = env.createSession(perImage.toString(), so);
             OrtSession dec = env.createSession(decoder.toString(), so)) {
            List<OnnxTensor> owned = new ArrayList<>();
            try {
                run(orig, pre, dec, owned);
            } finally {
                owned.forEach(OnnxTensor::close);
            }
        }
    }

    private void run(OrtSession orig, OrtSession pre, OrtSession dec, List<OnnxTensor> owned) throws OrtException, Failed {
        Random random = new Random(20240531L);
        Map<String, NodeInfo> inputs = orig.getInputInfo();
        long vocab = vocabulary(orig);
        // per-image inputs, fixed for all steps
        Map<String, OnnxTensor> image = new HashMap<>();
        for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
            if (config.perImageInputs().contains(e.getKey())) {
                image.put(e.getKey(), own(owned, randomTensor((TensorInfo) e.getValue().getInfo(), BATCH, random)));
            }
        }
        Map<String, OnnxTensor> boundary = new HashMap<>();
        Map<String, OnnxTensor> preFeed = new HashMap<>();
        for (String name : pre.getInputNames()) {
            preFeed.put(name, image.get(name));
        }
        OrtSession.Result preOut = pre.run(preFeed);
        for (Map.Entry<String, OnnxValue> e : preOut) {
            OnnxTensor t = (OnnxTensor) e.getValue();
            long[] shape = t.getInfo().getShape();
            if (shape.length == 0 || shape[0] != BATCH) {
                preOut.close();
                throw new Failed("boundary tensor '" + e.getKey() + "' has shape " + java.util.Arrays.toString(shape)
                        + ", not the batch (" + BATCH + ") first, so its rows cannot be selected");
            }
            boundary.put(e.getKey(), own(owned, Tensors.gatherRows(t, new int[] {0, 1, 2})));
        }
        preOut.close();

        // step 1: no past
        Map<String, OnnxTensor> past = new HashMap<>();
        for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
            if (e.getKey().startsWith("past_key_values.")) {
                past.put(e.getKey(), own(owned, Tensors.emptyPast(e.getValue(), BATCH)));
            }
        }
        long[][] ids = new long[BATCH][PROMPT_LENGTH];
        for (long[] row : ids) {
            for (int i = 0; i < row.length; i++) {
                row[i] = random.nextInt((int) Math.min(vocab, 1000));
            }
        }
        Step first = step(orig, dec, inputs, image, boundary, past, past, ids, 0, false, owned, random, "first step");

        // step 2: cached, each side with its own past
        long[][] next = new long[BATCH][1];
        for (long[] row : next) {
            row[0] = random.nextInt((int) Math.min(vocab, 1000));
        }
        Step second = step(orig, dec, inputs, image, boundary, first.origPast, first.decPast, next, PROMPT_LENGTH, true,
                owned, random, "cached step");

        // step 3: rows [2, 0] only, as when a sequence finishes or beams are reordered
        int[] rows = {2, 0};
        Map<String, OnnxTensor> image2 = gather(image, rows, owned);
        Map<String, OnnxTensor> boundary2 = gather(boundary, rows, owned);
        Map<String, OnnxTensor> origPast2 = gather(second.origPast, rows, owned);
        Map<String, OnnxTensor> decPast2 = gather(second.decPast, rows, owned);
        long[][] third = {{random.nextInt((int) Math.min(vocab, 1000))}, {random.nextInt((int) Math.min(vocab, 1000))}};
        step(orig, dec, inputs, image2, boundary2, origPast2, decPast2, third, PROMPT_LENGTH + 1, true, owned, random,
                "cached step after selecting rows [2, 0]");
    }

    private record Step(Map<String, OnnxTensor> origPast, Map<String, OnnxTensor> decPast) {
    }

    private Step step(OrtSession orig, OrtSession dec, Map<String, NodeInfo> inputs, Map<String, OnnxTensor> image,
                      Map<String, OnnxTensor> boundary, Map<String, OnnxTensor> origPast, Map<String, OnnxTensor> decPast,
                      long[][] ids, int pastLength, boolean useCache, List<OnnxTensor> owned, Random random, String what)
            throws OrtException, Failed {
        int batch = ids.length;
        int len = ids[0].length;
        Map<String, OnnxTensor> common = new HashMap<>();
        for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
            String name = e.getKey();
            if (name.startsWith("past_key_values.") || config.perImageInputs().contains(name)) {
                continue;
            }
            OnnxTensor t;
            if (name.equals(config.firstStepFlag())) {
                t = Tensors.bool(useCache);
            } else if (name.equals("input_ids")) {
                t = Tensors.longs(ids);
            } else if (name.equals("attention_mask")) {
                t = Tensors.ones(batch, pastLength + len);
            } else if (name.equals("position_ids")) {
                t = Tensors.positions(batch, len, pastLength);
            } else {
                t = randomTensor((TensorInfo) e.getValue().getInfo(), batch, random);
            }
            common.put(name, own(owned, t));
        }
        Map<String, OnnxTensor> origFeed = new HashMap<>(common);
        origFeed.putAll(image);
        origFeed.putAll(origPast);
        Map<String, OnnxTensor> decFeed = new HashMap<>(common);
        for (String name : dec.getInputNames()) {
            if (image.containsKey(name)) {
                decFeed.put(name, image.get(name));
            } else if (boundary.containsKey(name)) {
                decFeed.put(name, boundary.get(name));
            }
        }
        decFeed.putAll(decPast);
        Map<String, OnnxTensor> origOut = copyAll(orig.run(origFeed), owned);
        Map<String, OnnxTensor> decOut = copyAll(dec.run(decFeed), owned);
        for (Map.Entry<String, OnnxTensor> e : origOut.entrySet()) {
            OnnxTensor mine = decOut.get(e.getKey());
            if (mine == null) {
                throw new Failed("the rewritten decoder lacks the output '" + e.getKey() + "'");
            }
            compare(e.getKey(), e.getValue(), mine, what);
        }
        return new Step(presents(origOut), presents(decOut));
    }

    private static Map<String, OnnxTensor> presents(Map<String, OnnxTensor> out) {
        Map<String, OnnxTensor> past = new HashMap<>();
        out.forEach((k, v) -> {
            if (k.startsWith("present.")) {
                past.put("past_key_values." + k.substring("present.".length()), v);
            }
        });
        return past;
    }

    private static void compare(String name, OnnxTensor expected, OnnxTensor actual, String what) throws Failed {
        long[] es = expected.getInfo().getShape();
        long[] as = actual.getInfo().getShape();
        if (!java.util.Arrays.equals(es, as)) {
            throw new Failed(what + ": '" + name + "' has shape " + java.util.Arrays.toString(as) + " instead of "
                    + java.util.Arrays.toString(es));
        }
        if (expected.getInfo().type != OnnxJavaType.FLOAT) {
            if (!expected.getByteBuffer().equals(actual.getByteBuffer())) {
                throw new Failed(what + ": '" + name + "' differs");
            }
            return;
        }
        var e = expected.getFloatBuffer();
        var a = actual.getFloatBuffer();
        double maxAbs = 0;
        double maxDiff = 0;
        for (int i = 0; i < e.capacity(); i++) {
            maxAbs = Math.max(maxAbs, Math.abs(e.get(i)));
            double d = Math.abs(e.get(i) - a.get(i));
            if (!(d <= maxDiff)) {
                maxDiff = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
        }
        if (maxDiff > TOLERANCE * maxAbs + 1e-6) {
            throw new Failed(String.format("%s: '%s' differs by %.3g (relative %.3g > %.0e)", what, name, maxDiff,
                    maxDiff / Math.max(maxAbs, 1e-30), TOLERANCE));
        }
    }

    /** Copies a result's tensors (so the result can be closed) into tensors we own. */
    private static Map<String, OnnxTensor> copyAll(OrtSession.Result result, List<OnnxTensor> owned) throws OrtException {
        try (result) {
            Map<String, OnnxTensor> out = new HashMap<>();
            for (Map.Entry<String, OnnxValue> e : result) {
                OnnxTensor t = (OnnxTensor) e.getValue();
                out.put(e.getKey(), own(owned, copy(t)));
            }
            return out;
        }
    }

    private static OnnxTensor copy(OnnxTensor t) throws OrtException {
        ByteBuffer src = t.getByteBuffer().order(ByteOrder.nativeOrder());
        ByteBuffer dst = ByteBuffer.allocateDirect(src.capacity()).order(ByteOrder.nativeOrder());
        dst.put(src).flip();
        return OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), dst, t.getInfo().getShape(), t.getInfo().type);
    }

    private static Map<String, OnnxTensor> gather(Map<String, OnnxTensor> in, int[] rows, List<OnnxTensor> owned)
            throws OrtException {
        Map<String, OnnxTensor> out = new HashMap<>();
        for (Map.Entry<String, OnnxTensor> e : in.entrySet()) {
            out.put(e.getKey(), own(owned, Tensors.gatherRows(e.getValue(), rows)));
        }
        return out;
    }

    private static long vocabulary(OrtSession session) throws OrtException {
        NodeInfo logits = session.getOutputInfo().get("logits");
        if (logits != null && logits.getInfo() instanceof TensorInfo ti) {
            long[] shape = ti.getShape();
            if (shape.length > 0 && shape[shape.length - 1] > 0) {
                return shape[shape.length - 1];
            }
        }
        return 100;
    }

    /** Dynamic first dim = batch, other dynamic dims = the encoder length; floats N(0,1), integers 1, booleans true. */
    private static OnnxTensor randomTensor(TensorInfo info, int batch, Random random) throws OrtException {
        long[] shape = info.getShape().clone();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                shape[i] = i == 0 ? batch : ENCODER_LENGTH;
            }
        }
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(n * Math.max(1, bytes(info.type))).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            switch (info.type) {
                case FLOAT -> buf.putFloat((float) random.nextGaussian());
                case DOUBLE -> buf.putDouble(random.nextGaussian());
                case INT64 -> buf.putLong(1);
                case INT32 -> buf.putInt(1);
                case BOOL, UINT8, INT8 -> buf.put((byte) 1);
                default -> throw new IllegalArgumentException("cannot make a random " + info.type + " input");
            }
        }
        buf.flip();
        return OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), buf, shape, info.type);
    }

    private static int bytes(OnnxJavaType type) {
        return switch (type) {
            case FLOAT, INT32 -> 4;
            case DOUBLE, INT64 -> 8;
            case FLOAT16, BFLOAT16, INT16 -> 2;
            default -> 1;
        };
    }

    private static OnnxTensor own(List<OnnxTensor> owned, OnnxTensor t) {
        owned.add(t);
        return t;
    }
}
