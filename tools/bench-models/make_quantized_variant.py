#!/usr/bin/env python3
"""Adds the quantised precision variants beside every fp32 ONNX file of a bundle, the way the real
transformers.js / Optimum exports are made (there is no Python onnxruntime here, so its quantizers are
re-done by hand with onnx + numpy, following their documented output):

- `_quantized`, `_int8`, `_uint8`: ONNX Runtime's dynamic quantization (`quantize_dynamic`, IntegerOps,
  as transformers.js' scripts/quantize.py calls it with EnableSubgraph and MatMulConstBOnly):
  * MatMul with a constant 2-D weight B -> DynamicQuantizeLinear on the activation (uint8, computed
    per call) + MatMulInteger with the 8-bit weight + Cast + the scale products (A_scale * B_scale);
    the weight per column (per_channel) or per tensor, int8 symmetric or uint8 asymmetric, in 7 bits
    with reduce_range;
  * Conv with a constant weight -> DynamicQuantizeLinear + ConvInteger (weight per tensor) + scales,
    then the bias;
  * Gather from a constant float table (token / position embeddings) -> the table stored uint8
    (per tensor, asymmetric, as ORT quantizes Gather data with the activation type) + DequantizeLinear
    after the Gather.
  `_int8` has int8 weights, `_uint8` uint8 ones; `_quantized` follows transformers.js' rule: uint8 when
  the file has a Conv (ONNX Runtime's ConvInteger wanted uint8 weights), int8 otherwise — which gives
  the real vit-gpt2 export's choice (encoder QUInt8, decoder QInt8; ../shared/reference-configs/
  vit-gpt2/quantize_config.json). per_channel / reduce_range come from the bundle's
  `quantize_config.json` when it has one, else transformers.js' defaults (both on).
- `_q4`: MatMul4BitsQuantizer (block 32, symmetric, as transformers.js runs it): every MatMul with a
  constant 2-D weight [K, N] -> com.microsoft MatMulNBits(bits=4, block_size=32, K, N) with
  B uint8 [N, ceil(K/32), 16] (per column n, block b: 32 values along K, 4 bits each, the first in the
  low nibble), scales float [N * ceil(K/32)] and no zero points (symmetric: the default zero point 8).
  As in MLAS' symmetric block quantization, a block's scale is its largest-magnitude value / -8 and
  q = clamp(round(w / scale + 8), 0, 15). Gather and Conv stay float (the real `embed_tokens_q4` is the
  fp32 file).
- `_q4f16` (optional): the q4 file with a float16 interface (float16 inputs, outputs and KV cache, as in
  tools/bench-models/make_fp16_variant.py); weights other than the 4-bit ones stay float32 inside.

Constant weights are followed through Cast (the test fixtures store float16 initializers cast to
float32), Transpose (the fixtures' exports were not constant-folded: `MatMul(x, Transpose(W))`) and
Identity. Merged decoders (`If` on use_cache_branch) keep their weights in the outer graph, used by both
branches: each weight is quantised once, its quantised tensors go to the outer graph, and both
branches use them. Tensors no longer used afterwards are dropped.

    /usr/bin/python3 tools/bench-models/make_quantized_variant.py BUNDLE_DIR [--precisions quantized,q4]
        [--out OUT_ONNX_DIR] [--force]
"""
import argparse
import json
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_fp16_variant import SUFFIXES, to_fp16_interface  # noqa: E402

F32 = TensorProto.FLOAT
Q8 = {"int8": (TensorProto.INT8, np.int8), "uint8": (TensorProto.UINT8, np.uint8)}
ALL = ("quantized", "int8", "uint8", "q4", "q4f16")


def qrange(kind, reduce_range, symmetric):
    """ONNX Runtime's quant_utils.get_qmin_qmax_for_qType."""
    if kind == "uint8":
        return (0, 127) if reduce_range else (0, 255)
    if reduce_range:
        return (-64, 64)
    return (-127, 127) if symmetric else (-128, 127)


def scale_zp(rmin, rmax, qmin, qmax, symmetric):
    """ONNX Runtime's quant_utils.compute_scale_zp, vectorised (rmin/rmax per channel or scalars)."""
    rmin = np.minimum(rmin, 0).astype(np.float64)
    rmax = np.maximum(rmax, 0).astype(np.float64)
    if symmetric:
        absmax = np.maximum(np.abs(rmin), np.abs(rmax))
        rmin, rmax = -absmax, absmax
    scale = (rmax - rmin) / float(qmax - qmin)
    tiny = scale < np.finfo(np.float32).tiny
    scale = np.where(tiny, 1.0, scale)
    if symmetric:
        zp = np.full_like(scale, round((qmin + qmax) / 2.0))
    else:
        zp = np.round(qmin - rmin / scale)
    zp = np.where(tiny, 0, zp)
    return scale.astype(np.float32), zp


def quantize_array(w, kind, symmetric, reduce_range, axis=None):
    """w quantised to int8/uint8 per tensor (axis None) or per slice along axis; returns q, scale, zp."""
    qmin, qmax = qrange(kind, reduce_range, symmetric)
    if axis is None:
        rmin, rmax = w.min(), w.max()
    else:
        other = tuple(i for i in range(w.ndim) if i != axis)
        rmin, rmax = w.min(axis=other), w.max(axis=other)
    scale, zp = scale_zp(rmin, rmax, qmin, qmax, symmetric)
    shape = [1] * w.ndim
    if axis is not None:
        shape[axis] = -1
    s, z = scale.reshape(shape), zp.reshape(shape)
    info = np.iinfo(Q8[kind][1])
    q = np.clip(np.rint(w.astype(np.float64) / s) + z, info.min, info.max).astype(Q8[kind][1])
    return q, scale.astype(np.float32), zp.astype(Q8[kind][1])


def q4_blocks(w, block=32):
    """MLAS symmetric 4-bit block quantization of w [K, N] along K: B [N, kb, block/2], scales [N*kb]."""
    k, n = w.shape
    kb = (k + block - 1) // block
    padded = np.zeros((kb * block, n), dtype=np.float32)
    padded[:k] = w
    blocks = padded.T.reshape(n, kb, block)                      # per column, per block, along K
    idx = np.abs(blocks).argmax(axis=2)
    signed_max = np.take_along_axis(blocks, idx[..., None], axis=2)[..., 0]
    scale = (signed_max / -8.0).astype(np.float32)
    recip = np.where(scale != 0, 1.0 / np.where(scale != 0, scale, 1), 0).astype(np.float32)
    q = np.clip(np.floor(blocks * recip[..., None] + 8.0 + 0.5), 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return packed, scale.reshape(-1)


class Graphs:
    """The model's graphs (outer first) and where each name is defined, for following constants."""

    def __init__(self, model):
        self.model = model
        self.root = model.graph
        self.init = {}        # name -> (TensorProto, graph)
        self.producer = {}    # name -> node
        self._index(self.root)

    def _index(self, g):
        for t in g.initializer:
            self.init[t.name] = (t, g)
        for node in g.node:
            for o in node.output:
                self.producer[o] = node
            for a in node.attribute:
                for sub in ([a.g] if a.type == onnx.AttributeProto.GRAPH else
                            list(a.graphs) if a.type == onnx.AttributeProto.GRAPHS else []):
                    self._index(sub)

    def const(self, name, depth=0):
        """`(value, key)` if `name` is a constant (an initializer, maybe through Cast/Transpose/Identity),
        else None; `key` names the source initializer and the transforms, the same in both `If` branches."""
        if name in self.init:
            return numpy_helper.to_array(self.init[name][0]), name
        node = self.producer.get(name)
        if node is None or depth > 4:
            return None
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    return numpy_helper.to_array(a.t), name
            return None
        if node.op_type not in ("Cast", "Transpose", "Identity") or not node.input:
            return None
        src = self.const(node.input[0], depth + 1)
        if src is None:
            return None
        x, key = src
        if node.op_type == "Cast":
            to = next(a.i for a in node.attribute if a.name == "to")
            return (x.astype(np.float32), key) if to == F32 else None
        if node.op_type == "Transpose":
            perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
            return np.transpose(x, perm), key + ("_T" if perm in (None, [1, 0]) else "_T" + "".join(map(str, perm)))
        return x, key

    def float_const(self, name, ndim=None):
        c = self.const(name)
        if c is None or c[0].dtype != np.float32 or (ndim is not None and c[0].ndim != ndim):
            return None
        return c


class Quantizer:
    def __init__(self, model, precision, per_channel, reduce_range, block=32):
        self.g = Graphs(model)
        self.precision = precision
        self.per_channel = per_channel
        self.reduce_range = reduce_range
        self.block = block
        has_conv = any(n.op_type == "Conv" for n in walk_nodes(model.graph))
        self.kind = {"int8": "int8", "uint8": "uint8", "quantized": "uint8" if has_conv else "int8"}.get(precision)
        self.done = {}        # (what, weight name) -> names of the quantised tensors (outer graph)
        self.dyn = {}         # (graph scope, activation name) -> DynamicQuantizeLinear outputs
        self.counts = {}

    def add_init(self, array, name):
        t = numpy_helper.from_array(np.ascontiguousarray(array), name)
        self.g.root.initializer.append(t)
        return name

    def count(self, op):
        self.counts[op] = self.counts.get(op, 0) + 1

    def run(self):
        self._graph(self.g.root)
        m = self.g.model
        if self.precision in ("q4", "q4f16") and not any(o.domain == "com.microsoft" for o in m.opset_import):
            m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
        drop_unused(m.graph)
        return self.counts

    def _graph(self, g, scope=""):
        """Rewrites g's nodes; `scope` ("" for the main graph, else the subgraph's path) keeps the
        names this adds unique across `If` branches (both branches quantize encoder_hidden_states)."""
        out = []
        for node in g.node:
            for a in node.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    self._graph(a.g, f"{scope}{node.name or node.output[0]}/{a.name}/")
                elif a.type == onnx.AttributeProto.GRAPHS:
                    for i, sub in enumerate(a.graphs):
                        self._graph(sub, f"{scope}{node.name or node.output[0]}/{a.name}{i}/")
            out.extend(self._node(node, scope))
        del g.node[:]
        g.node.extend(out)

    def _node(self, node, scope):
        if self.precision in ("q4", "q4f16"):
            return self._q4_matmul(node) if node.op_type == "MatMul" else [node]
        if node.op_type == "MatMul":
            return self._q8_matmul(node, scope)
        if node.op_type == "Conv":
            return self._q8_conv(node, scope)
        if node.op_type == "Gather":
            return self._q8_gather(node)
        return [node]

    # --- 8-bit dynamic quantization ---------------------------------------------------------------

    def _dynamic(self, name, scope, nodes):
        """The activation's DynamicQuantizeLinear outputs, made once per graph for all its consumers."""
        key = (scope, name)
        if key not in self.dyn:
            base = name if name.startswith(scope) else scope + name
            outs = [base + "_quantized", base + "_scale", base + "_zero_point"]
            nodes.append(helper.make_node("DynamicQuantizeLinear", [name], outs, name=base + "_QuantizeLinear"))
            self.dyn[key] = outs
        return self.dyn[key]

    def _weight(self, name, w, axis):
        key = ("w", name, axis)
        if key not in self.done:
            symmetric = self.kind == "int8"
            q, s, z = quantize_array(w, self.kind, symmetric, self.reduce_range, axis if self.per_channel or axis is None else None)
            if not self.per_channel or axis is None:
                s, z = s.reshape(()), z.reshape(())
            self.done[key] = (self.add_init(q, name + "_quantized"), self.add_init(s, name + "_scale"),
                              self.add_init(z, name + "_zero_point"))
        return self.done[key]

    def _q8_matmul(self, node, scope):
        c = self.g.float_const(node.input[1], ndim=2)
        if c is None:
            return [node]
        nodes = []
        a_q, a_s, a_z = self._dynamic(node.input[0], scope, nodes)
        b_q, b_s, b_z = self._weight(c[1], c[0], axis=1)
        y = node.output[0]
        nodes += [
            helper.make_node("MatMulInteger", [a_q, b_q, a_z, b_z], [y + "_output_quantized"], name=y + "_MatMulInteger"),
            helper.make_node("Cast", [y + "_output_quantized"], [y + "_output_quantized_cast"], to=F32, name=y + "_cast"),
            helper.make_node("Mul", [a_s, b_s], [y + "_scales_mul"], name=y + "_scales_mul"),
            helper.make_node("Mul", [y + "_output_quantized_cast", y + "_scales_mul"], [y], name=y + "_output_scale_mul"),
        ]
        self.count("MatMulInteger")
        return nodes

    def _q8_conv(self, node, scope):
        c = self.g.float_const(node.input[1])
        has_bias = len(node.input) > 2 and node.input[2]
        bias = self.g.float_const(node.input[2]) if has_bias else None
        if c is None or (has_bias and bias is None):
            return [node]
        w = c[0]
        nodes = []
        x_q, x_s, x_z = self._dynamic(node.input[0], scope, nodes)
        w_q, w_s, w_z = self._weight(c[1], w, axis=None)   # ORT: ConvInteger weights per tensor
        y = node.output[0]
        prod = y + "_output_scale_mul" if has_bias else y
        nodes += [
            helper.make_node("ConvInteger", [x_q, w_q, x_z, w_z], [y + "_output_quantized"], name=y + "_ConvInteger",
                             **{a.name: helper.get_attribute_value(a) for a in node.attribute}),
            helper.make_node("Cast", [y + "_output_quantized"], [y + "_output_quantized_cast"], to=F32, name=y + "_cast"),
            helper.make_node("Mul", [x_s, w_s], [y + "_scales_mul"], name=y + "_scales_mul"),
            helper.make_node("Mul", [y + "_output_quantized_cast", y + "_scales_mul"], [prod], name=y + "_output_scale_mul"),
        ]
        if has_bias:
            key = ("bias", bias[1])
            if key not in self.done:
                self.done[key] = self.add_init(bias[0].reshape([1, -1] + [1] * (w.ndim - 2)), bias[1] + "_reshaped")
            b = self.done[key]
            nodes.append(helper.make_node("Add", [prod, b], [y], name=y + "_bias_add"))
        self.count("ConvInteger")
        return nodes

    def _q8_gather(self, node):
        c = self.g.float_const(node.input[0])
        if c is None:
            return [node]
        table, name = c
        key = ("gather", name)
        if key not in self.done:
            # ORT quantizes Gather data as an activation: uint8, asymmetric, per tensor, full range
            q, s, z = quantize_array(table, "uint8", False, False, None)
            self.done[key] = (self.add_init(q, name + "_gather_quantized"), self.add_init(s.reshape(()), name + "_gather_scale"),
                              self.add_init(z.reshape(()), name + "_gather_zero_point"))
        t_q, t_s, t_z = self.done[key]
        y = node.output[0]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        self.count("Gather(uint8)")
        return [helper.make_node("Gather", [t_q, node.input[1]], [y + "_quantized"], name=y + "_Gather_quant", **attrs),
                helper.make_node("DequantizeLinear", [y + "_quantized", t_s, t_z], [y], name=y + "_DequantizeLinear")]

    # --- 4-bit weights ---------------------------------------------------------------------------

    def _q4_matmul(self, node):
        c = self.g.float_const(node.input[1], ndim=2)
        if c is None:
            return [node]
        w, name = c
        key = ("q4", name)
        if key not in self.done:
            packed, scales = q4_blocks(w, self.block)
            self.done[key] = (self.add_init(packed, name + "_Q4"), self.add_init(scales, name + "_scales"))
        b, s = self.done[key]
        k, n = w.shape
        self.count("MatMulNBits")
        return [helper.make_node("MatMulNBits", [node.input[0], b, s], [node.output[0]], name=(node.name or node.output[0]) + "_Q4",
                                 domain="com.microsoft", K=k, N=n, bits=4, block_size=self.block)]


def walk_nodes(g):
    for node in g.node:
        yield node
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from walk_nodes(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for sub in a.graphs:
                    yield from walk_nodes(sub)


def drop_unused(root):
    """Removes the float weights (and the Cast / Transpose / Constant nodes feeding them) nothing uses any more.
    In place, innermost graphs first, graphs found afresh each pass: with protobuf's C++ backend a
    subgraph taken from a node that is later copied would be a detached copy."""
    while True:
        graphs = [root]
        for g in graphs:
            for node in g.node:
                for a in node.attribute:
                    if a.type == onnx.AttributeProto.GRAPH:
                        graphs.append(a.g)
                    elif a.type == onnx.AttributeProto.GRAPHS:
                        graphs.extend(a.graphs)
        used = set()
        for g in graphs:
            used.update(o.name for o in g.output)
            for node in g.node:
                used.update(node.input)
        removed = 0
        for g in reversed(graphs):
            for n in [n for n in g.node if n.op_type in ("Cast", "Transpose", "Identity", "Constant")
                      and not any(o in used for o in n.output)]:
                g.node.remove(n)
                removed += 1
            for t in [t for t in g.initializer if t.name not in used]:
                g.initializer.remove(t)
                removed += 1
        if not removed:
            return


def settings(bundle, precision, args):
    """per_channel / reduce_range: the command line, else the bundle's quantize_config.json, else on."""
    per_channel, reduce_range = True, True
    cfg_file = bundle / "quantize_config.json"
    if cfg_file.exists():
        cfg = json.loads(cfg_file.read_text())
        cfg = cfg.get({"quantized": "q8"}.get(precision, precision), cfg) if isinstance(cfg.get("q8"), dict) else cfg
        per_channel = cfg.get("per_channel", per_channel)
        reduce_range = cfg.get("reduce_range", reduce_range)
    if args.per_channel is not None:
        per_channel = args.per_channel
    if args.reduce_range is not None:
        reduce_range = args.reduce_range
    return per_channel, reduce_range


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("bundle", type=pathlib.Path)
    ap.add_argument("--precisions", default="quantized,q4", help="comma-separated, of " + ",".join(ALL) + " (default quantized,q4)")
    ap.add_argument("--out", type=pathlib.Path, help="folder for the variant files (default: the bundle's onnx/)")
    ap.add_argument("--only", help="comma-separated component names (default: every fp32 file)")
    ap.add_argument("--per-channel", dest="per_channel", action="store_true", default=None)
    ap.add_argument("--no-per-channel", dest="per_channel", action="store_false")
    ap.add_argument("--reduce-range", dest="reduce_range", action="store_true", default=None)
    ap.add_argument("--no-reduce-range", dest="reduce_range", action="store_false")
    ap.add_argument("--block-size", type=int, default=32, help="q4 block size (default 32)")
    ap.add_argument("--force", action="store_true", help="overwrite existing variant files")
    args = ap.parse_args()
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    bad = [p for p in precisions if p not in ALL]
    if bad:
        sys.exit(f"--precisions: expected some of {','.join(ALL)} but got {','.join(bad)}")
    onnx_dir = args.bundle / "onnx"
    out_dir = args.out or onnx_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    for src in sorted(onnx_dir.glob("*.onnx")):
        if src.stem.endswith(SUFFIXES) or (only and src.stem not in only):
            continue
        for precision in precisions:
            dst = out_dir / f"{src.stem}_{precision}.onnx"
            if dst.exists() and not args.force:
                print(f"{dst} exists (--force to overwrite)")
                continue
            model = onnx.load(str(src))
            per_channel, reduce_range = settings(args.bundle, precision, args)
            counts = Quantizer(model, precision, per_channel, reduce_range, args.block_size).run()
            if precision == "q4f16":
                model = to_fp16_interface(model)
            model.producer_name = "moonbatch make_quantized_variant.py"
            if model.ByteSize() < 2_000_000_000:
                onnx.checker.check_model(model)
            onnx.save(model, str(dst))
            how = "" if precision.startswith("q4") else f" (per_channel={per_channel}, reduce_range={reduce_range})"
            print(f"wrote {dst} ({dst.stat().st_size / 1e6:.1f} MB, {src.stat().st_size / 1e6:.1f} MB fp32): {counts}{how}")


if __name__ == "__main__":
    main()
