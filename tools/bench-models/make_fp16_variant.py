#!/usr/bin/env python3
"""Adds a `_fp16` precision variant beside every fp32 ONNX file of a bundle, by hand (onnx 1.12 has no
float16 converter and no other can be installed here): every float32 graph input and output becomes
float16 — pixel values, inputs_embeds, past_key_values.* / present.* (so the KV cache is float16, as in
the real `_fp16` exports whose config says kv_cache_dtype float16), logits, image features — with a Cast
to float32 right after each input and a Cast to float16 right before each output. Weights and the math
inside stay as they are, so outputs differ from fp32 only by the float16 rounding at the boundaries.

The tests make the same variants at test time, without Python, with its Java twin
`model-runtime/src/test/java/dev/moonbatch/runtime/Fp16Bundles.java`.

This is what moonbatch's precision handling must cope with (files picked by suffix, tensors created in
each input's declared dtype, KV caches kept in the decoder's dtype); it is not a faster model.

    /usr/bin/python3 tools/bench-models/make_fp16_variant.py BUNDLE_DIR [--force]
"""
import argparse
import pathlib

import onnx
from onnx import TensorProto, helper

F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16
SUFFIXES = ("_fp16", "_int8", "_uint8", "_quantized", "_q4", "_q4f16", "_bnb4")


def rename_uses(graph, old, new):
    """Every node input named `old` becomes `new`, in this graph and its subgraphs (If branches read outer names)."""
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                rename_uses(attr.g, old, new)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    rename_uses(g, old, new)


def rename_producer(graph, old, new):
    for node in graph.node:
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new
    for vi in graph.value_info:
        if vi.name == old:
            vi.name = new


def to_fp16_interface(model):
    g = model.graph
    head, tail = [], []
    for inp in g.input:
        if inp.type.tensor_type.elem_type == F32:
            inner = inp.name + "__fp32"
            rename_uses(g, inp.name, inner)
            head.append(helper.make_node("Cast", [inp.name], [inner], to=F32, name="fp16_in_" + inp.name))
            inp.type.tensor_type.elem_type = F16
    for out in g.output:
        if out.type.tensor_type.elem_type == F32:
            inner = out.name + "__fp32"
            rename_producer(g, out.name, inner)
            rename_uses(g, out.name, inner)
            tail.append(helper.make_node("Cast", [inner], [out.name], to=F16, name="fp16_out_" + out.name))
            out.type.tensor_type.elem_type = F16
    nodes = head + list(g.node) + tail
    del g.node[:]
    g.node.extend(nodes)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", type=pathlib.Path)
    ap.add_argument("--force", action="store_true", help="overwrite existing _fp16 files")
    args = ap.parse_args()
    onnx_dir = args.bundle / "onnx"
    for src in sorted(onnx_dir.glob("*.onnx")):
        if src.stem.endswith(SUFFIXES):
            continue
        dst = src.with_name(src.stem + "_fp16.onnx")
        if dst.exists() and not args.force:
            print(f"{dst} exists (--force to overwrite)")
            continue
        model = to_fp16_interface(onnx.load(str(src)))
        onnx.checker.check_model(model)
        onnx.save(model, str(dst))
        print(f"wrote {dst} ({dst.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
