package dev.moonbatch.runtime.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loop-invariant code motion for decoder graphs, on the ONNX protobuf, independent of the
 * architecture: the nodes whose values depend only on per-image inputs (e.g.
 * {@code encoder_hidden_states}) and on initializers/constants are moved out of the decoder into a
 * separate "per-image" graph, run once per image; the tensors where the two graphs meet (the
 * boundary) become new inputs of the rewritten decoder.
 *
 * <p>What moves: every invariant "heavy" node (MatMul, Gemm, Conv, ...) that reads a per-image value
 * in a context that runs at every step (the main graph, the {@code use_cache_branch = true} branch of
 * a merged decoder, any other subgraph), everything downstream of it that is still invariant (bias
 * Add, Split, Reshape, Transpose: so the boundary is as late as possible), and the invariant nodes
 * they need. Cheap invariant values the decoder also reads (e.g. {@code Shape} of the input) are
 * computed on both sides rather than passed. Identical invariant computations are recognised
 * structurally (same op, attributes and inputs), so a value that both branches of a merged decoder
 * compute is hoisted once, and the first-step branch uses the hoisted copy too. In the first-step
 * branch alone ({@code use_cache_branch = false}, run once per image anyway) nothing moves.
 *
 * <p>The rewrite is pure graph surgery; whether the result computes the same thing, and whether every
 * boundary tensor has the batch as its first dimension, is checked by {@link HoistSelfCheck}.
 */
public final class DecoderHoister {
    /** Bump when the rewrite changes, so that cached rewrites of an older version are redone. */
    public static final int VERSION = 1;

    static final Set<String> HEAVY_OPS = Set.of("MatMul", "Gemm", "Conv", "ConvTranspose", "Einsum", "MatMulInteger",
            "ConvInteger", "QLinearMatMul", "QLinearConv", "FusedMatMul", "MatMulNBits", "MatMulIntegerToFloat",
            "DynamicQuantizeMatMul", "QGemm", "Attention", "MultiHeadAttention");
    private static final Set<String> SHAPE_OPS = Set.of("Shape", "Size");
    private static final Set<String> NON_DETERMINISTIC = Set.of("RandomNormal", "RandomUniform", "RandomNormalLike",
            "RandomUniformLike", "Multinomial", "Bernoulli");
    static final String BOUNDARY_PREFIX = "hoisted::";

    /**
     * @param perImageInputs decoder inputs that are the same at every step of one image
     * @param firstStepFlag  the boolean input of a merged decoder whose {@code false} branch runs only
     *                       at the first step (nothing is hoisted from that branch alone)
     */
    public record Config(Set<String> perImageInputs, String firstStepFlag) {
        public static Config defaults() {
            return new Config(Set.of("encoder_hidden_states", "encoder_attention_mask"), "use_cache_branch");
        }
    }

    /**
     * A rewrite: the per-image model (inputs: {@code perImageInputs}, outputs: {@code boundary}) and
     * the decoder that takes the boundary tensors as extra inputs.
     */
    public record Rewrite(ModelProto perImage, ModelProto decoder, List<String> perImageInputs, List<String> boundary,
                          int removedNodes, int perImageNodes) {
    }

    /** The graph cannot or need not be rewritten; the message says why. */
    public static final class NotHoisted extends Exception {
        public NotHoisted(String message) {
            super(message);
        }
    }

    private static final class Ctx {
        final GraphProto graph;
        final boolean hot;

        Ctx(GraphProto graph, boolean hot) {
            this.graph = graph;
            this.hot = hot;
        }
    }

    private static final class Node {
        final NodeProto proto;
        final Ctx ctx;
        boolean invariant;
        boolean imageDependent;
        boolean heavy;
        String key;

        Node(NodeProto proto, Ctx ctx) {
            this.proto = proto;
            this.ctx = ctx;
        }
    }

    private final ModelProto model;
    private final Config config;
    private final Set<String> perImage = new LinkedHashSet<>();
    private final Map<String, ValueInfoProto> mainInputs = new LinkedHashMap<>();
    private final Map<String, TensorProto> initializers = new HashMap<>();
    private final Map<String, Node> producer = new HashMap<>();
    private final Set<String> subgraphInputs = new HashSet<>();
    private final Map<String, String> canon = new HashMap<>();
    private final Map<String, Node> byKey = new HashMap<>();
    private final Map<String, Integer> elemType = new HashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private final IdentityHashMap<NodeProto, Node> nodeOf = new IdentityHashMap<>();
    private final List<Ctx> contexts = new ArrayList<>();

    private DecoderHoister(ModelProto model, Config config) {
        this.model = model;
        this.config = config;
    }

    /** Rewrites the decoder, or says why it will not. */
    public static Rewrite rewrite(ModelProto model, Config config) throws NotHoisted {
        return new DecoderHoister(model, config).run();
    }

    /**
     * What one cached decoding step (the per-step contexts: main graph and the
     * {@code use_cache_branch = true} branch) costs in MatMul-like nodes, at batch 1 and one new token.
     *
     * @param matmuls              MatMul/Gemm/Conv-like nodes run per step
     * @param imageSideMatmuls     those whose operands are all per-image values or weights (hoistable work)
     * @param weightFlops          FLOPs of the nodes with a 2-D weight operand (2·K·N per row)
     * @param imageSideWeightFlops the part of {@code weightFlops} spent on per-image values
     */
    public record StepCost(int matmuls, int imageSideMatmuls, long weightFlops, long imageSideWeightFlops) {
        @Override
        public String toString() {
            return String.format("%d MatMul-like nodes per step (%d on per-image values), %.4f GFLOPs in weight MatMuls "
                    + "(%.4f on per-image values)", matmuls, imageSideMatmuls, weightFlops / 1e9, imageSideWeightFlops / 1e9);
        }
    }

    /**
     * Counts a cached step's MatMul work; per-image values are the configured inputs and any
     * {@code hoisted::*} input of a rewritten decoder; they have {@code encoderLength} rows per image.
     */
    public static StepCost perStepCost(ModelProto model, Config config, int encoderLength) throws NotHoisted {
        Set<String> perImage = new HashSet<>(config.perImageInputs());
        model.getGraph().getInputList().stream().map(ValueInfoProto::getName)
                .filter(n -> n.startsWith(BOUNDARY_PREFIX)).forEach(perImage::add);
        DecoderHoister h = new DecoderHoister(model, new Config(perImage, config.firstStepFlag()));
        h.analyze();
        int matmuls = 0;
        int imageSide = 0;
        long flops = 0;
        long imageFlops = 0;
        for (Node n : h.nodes) {
            if (!n.ctx.hot || !HEAVY_OPS.contains(n.proto.getOpType())) {
                continue;
            }
            boolean image = n.invariant && n.imageDependent;
            matmuls++;
            imageSide += image ? 1 : 0;
            for (String in : n.proto.getInputList()) {
                TensorProto w = h.weight(in);
                if (w != null && w.getDimsCount() == 2) {
                    long f = 2L * w.getDims(0) * w.getDims(1) * (image ? encoderLength : 1);
                    flops += f;
                    imageFlops += image ? f : 0;
                    break;
                }
            }
        }
        return new StepCost(matmuls, imageSide, flops, imageFlops);
    }

    /** The initializer behind a weight operand, through Transpose/Cast/Identity/DequantizeLinear; null if none. */
    private TensorProto weight(String value) {
        for (int hops = 0; hops < 4; hops++) {
            TensorProto t = initializers.get(value);
            if (t != null) {
                return t;
            }
            Node p = producer.get(value);
            if (p == null || p.imageDependent || p.proto.getInputCount() == 0
                    || !Set.of("Transpose", "Cast", "Identity", "DequantizeLinear").contains(p.proto.getOpType())) {
                return null;
            }
            value = p.proto.getInput(0);
        }
        return null;
    }

    private void analyze() throws NotHoisted {
        GraphProto main = model.getGraph();
        for (ValueInfoProto in : main.getInputList()) {
            mainInputs.put(in.getName(), in);
            if (config.perImageInputs().contains(in.getName())) {
                perImage.add(in.getName());
            }
        }
        walk(new Ctx(main, true));
    }

    private Rewrite run() throws NotHoisted {
        analyze();
        if (perImage.isEmpty()) {
            throw new NotHoisted("the decoder has none of the per-image inputs " + config.perImageInputs());
        }

        // 1. what moves: heavy invariant nodes of per-step contexts, plus the invariant nodes they need
        Set<Node> hoist = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Node> work = new ArrayDeque<>();
        for (Node n : nodes) {
            if (n.heavy && n.ctx.hot) {
                hoist.add(n);
                work.add(n);
            }
        }
        if (hoist.isEmpty()) {
            throw new NotHoisted("nothing invariant worth hoisting: no MatMul/Gemm/Conv reads only per-image inputs "
                    + perImage + " at every step");
        }
        while (!work.isEmpty()) {
            for (String in : work.poll().proto.getInputList()) {
                Node p = producer.get(in);
                if (p != null && hoist.add(p)) {
                    work.add(p);
                }
            }
        }
        // the once-per-image branch: only what it computes identically to a hoisted value
        Set<String> hoistedKeys = new HashSet<>();
        hoist.forEach(n -> hoistedKeys.add(n.key));
        for (Node n : nodes) {
            if (!n.ctx.hot && n.invariant && hoistedKeys.contains(n.key)) {
                hoist.add(n);
            }
        }

        // 2. what the decoder still needs: heavy values become boundary inputs, cheap ones stay computed there
        Set<Node> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<String> boundary = new LinkedHashSet<>();
        Deque<String> needed = new ArrayDeque<>();
        for (Node n : nodes) {
            if (!hoist.contains(n)) {
                needed.addAll(n.proto.getInputList());
            }
        }
        for (Ctx c : contexts) {
            c.graph.getOutputList().forEach(o -> needed.add(o.getName()));
        }
        while (!needed.isEmpty()) {
            String v = needed.poll();
            Node p = producer.get(v);
            if (p == null || !hoist.contains(p) || kept.contains(p)) {
                continue;
            }
            if (p.heavy) {
                boundary.add(canon.getOrDefault(v, v));
            } else {
                kept.add(p);
                needed.addAll(p.proto.getInputList());
            }
        }
        Set<Node> removed = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Node n : hoist) {
            if (!kept.contains(n)) {
                removed.add(n);
            }
        }
        if (boundary.isEmpty()) {
            throw new NotHoisted("nothing invariant worth hoisting: the invariant work feeds no per-step value");
        }
        Map<String, String> rename = new HashMap<>();
        for (Node n : removed) {
            for (String out : n.proto.getOutputList()) {
                String c = canon.getOrDefault(out, out);
                if (boundary.contains(c)) {
                    rename.put(out, BOUNDARY_PREFIX + c);
                }
            }
        }
        for (String b : boundary) {
            Integer type = elemType.get(b);
            if (type == null || type == 0) {
                throw new NotHoisted("cannot tell the element type of the boundary tensor '" + b + "'");
            }
        }
        ModelProto perImageModel = perImageModel(boundary);
        ModelProto decoder = decoderModel(removed, rename, boundary);
        List<String> inputs = perImageModel.getGraph().getInputList().stream().map(ValueInfoProto::getName).toList();
        List<String> outs = boundary.stream().map(b -> BOUNDARY_PREFIX + b).toList();
        return new Rewrite(perImageModel, decoder, inputs, outs, removed.size(), perImageModel.getGraph().getNodeCount());
    }

    // ------------------------------------------------------------------------------ analysis

    private void walk(Ctx ctx) throws NotHoisted {
        contexts.add(ctx);
        GraphProto g = ctx.graph;
        for (TensorProto t : g.getInitializerList()) {
            if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                throw new NotHoisted("weights are stored as external data (.onnx_data); the rewrite reads single-file models only");
            }
            if (initializers.put(t.getName(), t) != null) {
                throw new NotHoisted("initializer name '" + t.getName() + "' is not unique");
            }
            elemType.put(t.getName(), t.getDataType());
        }
        for (ValueInfoProto v : g.getInputList()) {
            typeOf(v);
            if (ctx.graph != model.getGraph()) {
                subgraphInputs.add(v.getName());
            }
        }
        g.getValueInfoList().forEach(this::typeOf);
        g.getOutputList().forEach(this::typeOf);
        for (NodeProto p : g.getNodeList()) {
            Node n = new Node(p, ctx);
            nodes.add(n);
            nodeOf.put(p, n);
            boolean hasGraph = false;
            for (AttributeProto a : p.getAttributeList()) {
                hasGraph |= a.getType() == AttributeProto.AttributeType.GRAPH || a.getType() == AttributeProto.AttributeType.GRAPHS;
            }
            boolean inv = !hasGraph && !NON_DETERMINISTIC.contains(p.getOpType());
            boolean dep = false;
            boolean heavyIn = false;
            for (String in : p.getInputList()) {
                if (in.isEmpty()) {
                    continue;
                }
                inv &= invariant(in);
                dep |= imageDependent(in);
                Node q = producer.get(in);
                heavyIn |= q != null && q.heavy;
            }
            n.invariant = inv;
            n.imageDependent = dep;
            n.heavy = inv && dep && (HEAVY_OPS.contains(p.getOpType()) || (heavyIn && !SHAPE_OPS.contains(p.getOpType())));
            if (inv) {
                StringBuilder key = new StringBuilder(p.getDomain()).append('|').append(p.getOpType()).append('|');
                for (AttributeProto a : p.getAttributeList()) {
                    key.append(java.util.HexFormat.of().formatHex(a.toByteArray())).append(',');
                }
                key.append('|');
                for (String in : p.getInputList()) {
                    key.append(canon.getOrDefault(in, in)).append('\u0000');
                }
                key.append('|').append(p.getOutputCount());
                n.key = key.toString();
                Node first = byKey.putIfAbsent(n.key, n);
                for (int i = 0; i < p.getOutputCount(); i++) {
                    String out = p.getOutput(i);
                    canon.put(out, first == null ? out : first.proto.getOutput(i));
                }
            }
            for (String out : p.getOutputList()) {
                if (out.isEmpty()) {
                    continue;
                }
                if (producer.put(out, n) != null || initializers.containsKey(out) || mainInputs.containsKey(out)
                        || subgraphInputs.contains(out)) {
                    throw new NotHoisted("value name '" + out + "' is produced twice");
                }
            }
            inferTypes(p);
            for (AttributeProto a : p.getAttributeList()) {
                List<GraphProto> subs = a.getType() == AttributeProto.AttributeType.GRAPH ? List.of(a.getG()) : a.getGraphsList();
                for (GraphProto sub : subs) {
                    boolean firstStepOnly = "If".equals(p.getOpType()) && "else_branch".equals(a.getName())
                            && p.getInput(0).equals(config.firstStepFlag()) && mainInputs.containsKey(config.firstStepFlag());
                    walk(new Ctx(sub, ctx.hot && !firstStepOnly));
                }
            }
        }
    }

    private boolean invariant(String v) {
        if (perImage.contains(v) || initializers.containsKey(v)) {
            return true;
        }
        Node p = producer.get(v);
        return p != null && p.invariant;
    }

    private boolean imageDependent(String v) {
        if (perImage.contains(v)) {
            return true;
        }
        Node p = producer.get(v);
        return p != null && p.imageDependent;
    }

    private void typeOf(ValueInfoProto v) {
        if (v.getType().hasTensorType() && v.getType().getTensorType().getElemType() != 0) {
            elemType.putIfAbsent(v.getName(), v.getType().getTensorType().getElemType());
        }
    }

    private int type(String v) {
        return elemType.getOrDefault(v, 0);
    }

    /** Element types of a node's outputs, for the new graph inputs/outputs (shape inference is left to ONNX Runtime). */
    private void inferTypes(NodeProto p) {
        int first = 0;
        for (String in : p.getInputList()) {
            if (!in.isEmpty() && type(in) != 0) {
                first = type(in);
                break;
            }
        }
        int t;
        switch (p.getOpType()) {
            case "Shape", "Size", "NonZero", "ArgMax", "ArgMin" -> t = TensorProto.DataType.INT64_VALUE;
            case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf" ->
                    t = TensorProto.DataType.BOOL_VALUE;
            case "MatMulInteger", "ConvInteger" -> t = TensorProto.DataType.INT32_VALUE;
            case "Cast" -> t = (int) attrInt(p, "to", 0);
            case "CastLike" -> t = type(p.getInput(1));
            case "Where" -> t = type(p.getInput(1));
            case "DequantizeLinear" -> t = p.getInputCount() > 1 ? type(p.getInput(1)) : TensorProto.DataType.FLOAT_VALUE;
            case "QuantizeLinear" -> t = p.getInputCount() > 2 && !p.getInput(2).isEmpty() ? type(p.getInput(2))
                    : TensorProto.DataType.UINT8_VALUE;
            case "Constant" -> t = constantType(p);
            case "ConstantOfShape" -> {
                AttributeProto v = attr(p, "value");
                t = v == null ? TensorProto.DataType.FLOAT_VALUE : v.getT().getDataType();
            }
            default -> t = first;
        }
        for (int i = 0; i < p.getOutputCount(); i++) {
            int ti = t;
            if ("DynamicQuantizeLinear".equals(p.getOpType())) {
                ti = i == 1 ? TensorProto.DataType.FLOAT_VALUE : TensorProto.DataType.UINT8_VALUE;
            } else if ("TopK".equals(p.getOpType()) && i == 1) {
                ti = TensorProto.DataType.INT64_VALUE;
            }
            if (ti != 0 && !p.getOutput(i).isEmpty()) {
                elemType.putIfAbsent(p.getOutput(i), ti);
            }
        }
    }

    private static int constantType(NodeProto p) {
        for (AttributeProto a : p.getAttributeList()) {
            switch (a.getName()) {
                case "value":
                    return a.getT().getDataType();
                case "value_float", "value_floats":
                    return TensorProto.DataType.FLOAT_VALUE;
                case "value_int", "value_ints":
                    return TensorProto.DataType.INT64_VALUE;
                case "value_string", "value_strings":
                    return TensorProto.DataType.STRING_VALUE;
                default:
                    break;
            }
        }
        return 0;
    }

    static AttributeProto attr(NodeProto p, String name) {
        for (AttributeProto a : p.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    private static long attrInt(NodeProto p, String name, long dflt) {
        AttributeProto a = attr(p, name);
        return a == null ? dflt : a.getI();
    }

    // ------------------------------------------------------------------------------ building the two models

    private ModelProto perImageModel(Set<String> boundary) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("per_image");
        Set<String> emitted = new HashSet<>();
        Set<String> inits = new LinkedHashSet<>();
        Set<String> ins = new LinkedHashSet<>();
        for (String b : boundary) {
            emit(b, g, emitted, inits, ins);
        }
        for (String b : boundary) {
            g.addNode(NodeProto.newBuilder().setOpType("Identity").setName("hoisted/out/" + b)
                    .addInput(b).addOutput(BOUNDARY_PREFIX + b));
            g.addOutput(valueInfo(BOUNDARY_PREFIX + b, type(b)));
        }
        for (String in : mainInputs.keySet()) {
            if (ins.contains(in)) {
                g.addInput(mainInputs.get(in));
            }
        }
        inits.forEach(i -> g.addInitializer(initializers.get(i)));
        return model.toBuilder().clearGraph().setGraph(g).clearMetadataProps().build();
    }

    /** Adds the canonical producer of {@code value} and everything it needs, in topological order. */
    private void emit(String value, GraphProto.Builder g, Set<String> emitted, Set<String> inits, Set<String> ins) {
        Deque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {value, false});
        while (!stack.isEmpty()) {
            Object[] top = stack.pop();
            String v = (String) top[0];
            if (perImage.contains(v)) {
                ins.add(v);
                continue;
            }
            if (initializers.containsKey(v)) {
                inits.add(v);
                continue;
            }
            Node p = producer.get(v);
            if (p == null || emitted.contains(p.proto.getOutput(0) + "\u0000" + p.key)) {
                continue;
            }
            if ((Boolean) top[1]) {
                emitted.add(p.proto.getOutput(0) + "\u0000" + p.key);
                NodeProto.Builder nb = p.proto.toBuilder().clearInput();
                for (String in : p.proto.getInputList()) {
                    nb.addInput(canon.getOrDefault(in, in));
                }
                g.addNode(nb);
                continue;
            }
            stack.push(new Object[] {v, true});
            for (String in : p.proto.getInputList()) {
                if (!in.isEmpty()) {
                    stack.push(new Object[] {canon.getOrDefault(in, in), false});
                }
            }
        }
    }

    private ModelProto decoderModel(Set<Node> removed, Map<String, String> rename, Set<String> boundary) {
        GraphProto main = rewriteGraph(model.getGraph(), removed, rename);
        Set<String> used = new HashSet<>();
        collectUses(main, used);
        GraphProto.Builder g = main.toBuilder().clearInput().clearInitializer();
        for (ValueInfoProto in : model.getGraph().getInputList()) {
            if (!perImage.contains(in.getName()) || used.contains(in.getName())) {
                g.addInput(in);
            }
        }
        for (String b : boundary) {
            g.addInput(valueInfo(BOUNDARY_PREFIX + b, type(b)));
        }
        for (TensorProto t : model.getGraph().getInitializerList()) {
            if (used.contains(t.getName())) {
                g.addInitializer(t);
            }
        }
        return model.toBuilder().setGraph(g).build();
    }

    private GraphProto rewriteGraph(GraphProto graph, Set<Node> removed, Map<String, String> rename) {
        GraphProto.Builder g = graph.toBuilder().clearNode().clearValueInfo();
        for (NodeProto p : graph.getNodeList()) {
            if (removed.contains(nodeOf.get(p))) {
                continue;
            }
            NodeProto.Builder nb = p.toBuilder().clearInput().clearAttribute();
            for (String in : p.getInputList()) {
                nb.addInput(rename.getOrDefault(in, in));
            }
            for (AttributeProto a : p.getAttributeList()) {
                if (a.getType() == AttributeProto.AttributeType.GRAPH) {
                    nb.addAttribute(a.toBuilder().setG(rewriteGraph(a.getG(), removed, rename)));
                } else if (a.getType() == AttributeProto.AttributeType.GRAPHS) {
                    AttributeProto.Builder ab = a.toBuilder().clearGraphs();
                    a.getGraphsList().forEach(sub -> ab.addGraphs(rewriteGraph(sub, removed, rename)));
                    nb.addAttribute(ab);
                } else {
                    nb.addAttribute(a);
                }
            }
            g.addNode(nb);
        }
        // a graph output that is now a boundary input: ONNX Runtime wants it produced inside the graph
        for (ValueInfoProto o : graph.getOutputList()) {
            String r = rename.get(o.getName());
            if (r != null) {
                g.addNode(NodeProto.newBuilder().setOpType("Identity").setName("hoisted/pass/" + o.getName())
                        .addInput(r).addOutput(o.getName()));
            }
        }
        return g.build();
    }

    private static void collectUses(GraphProto g, Set<String> used) {
        for (NodeProto p : g.getNodeList()) {
            used.addAll(p.getInputList());
            for (AttributeProto a : p.getAttributeList()) {
                if (a.getType() == AttributeProto.AttributeType.GRAPH) {
                    collectUses(a.getG(), used);
                }
                a.getGraphsList().forEach(sub -> collectUses(sub, used));
            }
        }
        g.getOutputList().forEach(o -> used.add(o.getName()));
    }

    private static ValueInfoProto valueInfo(String name, int elemType) {
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType)))
                .build();
    }
}
