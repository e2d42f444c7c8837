package dev.moonbatch.runtime;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.CodedInputStream;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Test bundles with a true float16 interface, made at test time from the committed fp32 bundles (so
 * neither Python nor extra committed weights are needed): a copy of the bundle in which every
 * {@code onnx/X.onnx} gets an {@code onnx/X_fp16.onnx} whose float32 graph inputs and outputs are
 * float16 — pixel values, inputs_embeds, encoder_hidden_states, past_key_values / present, logits,
 * image features. The real exports' configs say as much for the KV cache ({@code transformers.js_config.
 * kv_cache_dtype: {fp16: float16, q4f16: float16}} in SmolVLM's); the reference configs list no other
 * declared IO, so every float boundary is made float16, the strictest case. A Cast follows each such input and precedes each such
 * output; the weights and math stay float32, so outputs differ from fp32 only by float16 rounding at
 * the boundaries. The same transform as {@code tools/bench-models/make_fp16_variant.py}.
 */
public final class Fp16Bundles {
    private static final int F32 = TensorProto.DataType.FLOAT_VALUE;
    private static final int F16 = TensorProto.DataType.FLOAT16_VALUE;

    private Fp16Bundles() {
    }

    /** A copy of {@code bundle} under {@code parent} with an {@code _fp16} file beside each fp32 ONNX file. */
    public static Path copyWithFp16(Path bundle, Path parent) {
        Path copy = parent.resolve(bundle.getFileName());
        try (Stream<Path> walk = Files.walk(bundle)) {
            for (Path f : walk.toList()) {
                Path target = copy.resolve(bundle.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else if (!f.getFileName().toString().contains("_fp16")) {
                    Files.copy(f, target);
                }
            }
            try (Stream<Path> onnx = Files.list(copy.resolve("onnx"))) {
                for (Path f : onnx.filter(p -> p.toString().endsWith(".onnx") && !isVariant(p)).toList()) {
                    String name = f.getFileName().toString();
                    write(toFp16Interface(parse(f)), f.resolveSibling(name.replace(".onnx", "_fp16.onnx")));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return copy;
    }

    private static boolean isVariant(Path file) {
        String stem = file.getFileName().toString().replace(".onnx", "");
        return Stream.of("_fp16", "_int8", "_uint8", "_quantized", "_q4", "_q4f16", "_bnb4").anyMatch(stem::endsWith);
    }

    static ModelProto toFp16Interface(ModelProto model) {
        GraphProto.Builder g = model.getGraph().toBuilder();
        List<NodeProto> head = new ArrayList<>();
        List<NodeProto> tail = new ArrayList<>();
        for (ValueInfoProto.Builder in : g.getInputBuilderList()) {
            if (elemType(in) == F32) {
                String inner = in.getName() + "__fp32";
                renameUses(g, in.getName(), inner);
                head.add(cast(in.getName(), inner, F32, "fp16_in_" + in.getName()));
                in.getTypeBuilder().getTensorTypeBuilder().setElemType(F16);
            }
        }
        for (ValueInfoProto.Builder out : g.getOutputBuilderList()) {
            if (elemType(out) == F32) {
                String inner = out.getName() + "__fp32";
                renameProducer(g, out.getName(), inner);
                renameUses(g, out.getName(), inner);
                tail.add(cast(inner, out.getName(), F16, "fp16_out_" + out.getName()));
                out.getTypeBuilder().getTensorTypeBuilder().setElemType(F16);
            }
        }
        List<NodeProto> nodes = new ArrayList<>(head);
        nodes.addAll(g.getNodeList());
        nodes.addAll(tail);
        g.clearNode().addAllNode(nodes);
        return model.toBuilder().setGraph(g).build();
    }

    private static int elemType(ValueInfoProto.Builder v) {
        return v.getType().hasTensorType() ? v.getType().getTensorType().getElemType() : -1;
    }

    private static NodeProto cast(String from, String to, int type, String name) {
        return NodeProto.newBuilder().setOpType("Cast").setName(name).addInput(from).addOutput(to)
                .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(type))
                .build();
    }

    /** Every node input named {@code old} becomes {@code name}, here and in subgraphs (If branches read outer names). */
    private static void renameUses(GraphProto.Builder g, String old, String name) {
        for (NodeProto.Builder node : g.getNodeBuilderList()) {
            for (int i = 0; i < node.getInputCount(); i++) {
                if (node.getInput(i).equals(old)) {
                    node.setInput(i, name);
                }
            }
            for (AttributeProto.Builder a : node.getAttributeBuilderList()) {
                if (a.getType() == AttributeProto.AttributeType.GRAPH) {
                    renameUses(a.getGBuilder(), old, name);
                } else if (a.getType() == AttributeProto.AttributeType.GRAPHS) {
                    a.getGraphsBuilderList().forEach(sub -> renameUses(sub, old, name));
                }
            }
        }
    }

    private static void renameProducer(GraphProto.Builder g, String old, String name) {
        for (NodeProto.Builder node : g.getNodeBuilderList()) {
            for (int i = 0; i < node.getOutputCount(); i++) {
                if (node.getOutput(i).equals(old)) {
                    node.setOutput(i, name);
                }
            }
        }
        for (ValueInfoProto.Builder v : g.getValueInfoBuilderList()) {
            if (v.getName().equals(old)) {
                v.setName(name);
            }
        }
    }

    private static ModelProto parse(Path file) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(Files.readAllBytes(file));
        in.setSizeLimit(Integer.MAX_VALUE);
        return ModelProto.parseFrom(in);
    }

    private static void write(ModelProto model, Path file) throws IOException {
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            model.writeTo(out);
        }
    }
}
