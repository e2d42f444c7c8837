#!/usr/bin/python3
"""A tiny random-weight decoder in the Florence-2 (BART-style seq2seq) merged-decoder contract,
to test the invariant-hoisting rewrite on a graph whose export already caches cross-attention K/V.

    /usr/bin/python3 tools/bench-models/make_florence2_style_decoder.py OUT_DIR

Writes OUT_DIR/decoder_model_merged.onnx: inputs input_ids, encoder_attention_mask,
encoder_hidden_states, past_key_values.{i}.decoder.{key,value}, past_key_values.{i}.encoder.{key,value},
use_cache_branch; outputs logits, present.{i}.decoder.*, present.{i}.encoder.*. The first-step branch
(use_cache_branch = false) computes the cross-attention K/V from encoder_hidden_states once and
returns them as present.{i}.encoder.*; the cached branch reads them from the past and never touches
encoder_hidden_states, so a cached step has no per-image MatMul to hoist. (The real Florence-2 export
takes inputs_embeds instead of input_ids; the embedding lookup is inside here so the generic
merged-decoder loop can drive it.)
"""
import copy
import math
import os
import sys

import torch
import torch.nn as nn
import onnx
from onnx import helper, TensorProto

VOCAB, D, HEADS, LAYERS, FFN, POS = 300, 32, 4, 2, 64, 64
HD = D // HEADS
OPSET = 14


def split(x):
    b, t, _ = x.shape
    return x.view(b, t, HEADS, HD).transpose(1, 2)


def merge(x):
    b, _, t, _ = x.shape
    return x.transpose(1, 2).reshape(b, t, D)


def attend(q, k, v, bias=None):
    s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(HD)
    if bias is not None:
        s = s + bias
    return torch.matmul(torch.softmax(s, -1), v)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
        self.cq, self.ck, self.cv, self.co = (nn.Linear(D, D) for _ in range(4))
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(D), nn.LayerNorm(D), nn.LayerNorm(D)
        self.f1, self.f2 = nn.Linear(D, FFN), nn.Linear(FFN, D)

    def forward(self, x, enc_bias, enc=None, pk=None, pv=None, ck=None, cv=None):
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        if pk is not None:
            k, v = torch.cat([pk, k], 2), torch.cat([pv, v], 2)
        t, total = q.shape[2], k.shape[2]
        causal = (torch.arange(total)[None, :] <= (torch.arange(t) + total - t)[:, None])
        x = self.ln1(x + self.o(merge(attend(q, k, v, (~causal).float() * -1e9))))
        if ck is None:
            ck, cv = split(self.ck(enc)), split(self.cv(enc))
        x = self.ln2(x + self.co(merge(attend(split(self.cq(x)), ck, cv, enc_bias))))
        x = self.ln3(x + self.f2(torch.relu(self.f1(x))))
        return x, k, v, ck, cv


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.pos = nn.Embedding(VOCAB, D), nn.Embedding(POS, D)
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])
        self.head = nn.Linear(D, VOCAB, bias=False)

    def run(self, ids, mask, enc, past):
        plen = 0 if past is None else past[0].shape[2]
        x = self.emb(ids) + self.pos(torch.arange(ids.shape[1]) + plen)[None]
        bias = (1.0 - mask[:, None, None, :].float()) * -1e9
        out = []
        for i, layer in enumerate(self.layers):
            if past is None:
                x, k, v, ck, cv = layer(x, bias, enc=enc)
            else:
                x, k, v, ck, cv = layer(x, bias, pk=past[4 * i], pv=past[4 * i + 1], ck=past[4 * i + 2],
                                        cv=past[4 * i + 3])
            out += [k, v, ck, cv]
        return self.head(x), out


class NoPast(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d = d

    def forward(self, ids, mask, enc):
        logits, out = self.d.run(ids, mask, enc, None)
        return (logits, *out)


class WithPast(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d = d

    def forward(self, ids, mask, *past):
        logits, out = self.d.run(ids, mask, None, list(past))
        # the encoder K/V pass through unchanged
        for i in range(LAYERS):
            out[4 * i + 2] = out[4 * i + 2] + 0.0
            out[4 * i + 3] = out[4 * i + 3] + 0.0
        return (logits, *out)


def names(prefix):
    out = []
    for i in range(LAYERS):
        out += [f"{prefix}.{i}.decoder.key", f"{prefix}.{i}.decoder.value",
                f"{prefix}.{i}.encoder.key", f"{prefix}.{i}.encoder.value"]
    return out


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(7)
    dec = Decoder().eval()
    tmp = os.path.join(out_dir, "tmp")
    os.makedirs(tmp, exist_ok=True)
    ids = torch.tensor([[2, 5, 9], [2, 7, 11]])
    enc = torch.randn(2, 6, D)
    mask = torch.ones(2, 6, dtype=torch.long)
    pres, pasts = names("present"), names("past_key_values")
    ax = {"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
          "encoder_attention_mask": {0: "batch_size", 1: "encoder_sequence_length"},
          "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length"},
          "logits": {0: "batch_size", 1: "decoder_sequence_length"}}
    for n in pres + pasts:
        ax[n] = {0: "batch_size", 2: "past_sequence_length"}
    with torch.no_grad():
        torch.onnx.export(NoPast(dec), (ids, mask, enc), os.path.join(tmp, "no.onnx"), opset_version=OPSET,
                          input_names=["input_ids", "encoder_attention_mask", "encoder_hidden_states"],
                          output_names=["logits"] + pres, dynamic_axes=ax, do_constant_folding=False)
        past = []
        for i in range(LAYERS):
            past += [torch.randn(2, HEADS, 3, HD), torch.randn(2, HEADS, 3, HD),
                     torch.randn(2, HEADS, 6, HD), torch.randn(2, HEADS, 6, HD)]
        torch.onnx.export(WithPast(dec), (ids[:, -1:], mask, *past), os.path.join(tmp, "wp.onnx"),
                          opset_version=OPSET, input_names=["input_ids", "encoder_attention_mask"] + pasts,
                          output_names=["logits"] + pres, dynamic_axes=ax, do_constant_folding=False)
    m_no, m_wp = onnx.load(os.path.join(tmp, "no.onnx")), onnx.load(os.path.join(tmp, "wp.onnx"))
    outer = {"input_ids", "encoder_attention_mask", "encoder_hidden_states", "use_cache_branch"} | set(pasts)
    inits, branches = {}, []
    for tag, m in (("then", m_wp), ("else", m_no)):
        g = m.graph
        ren = {}
        for t in g.initializer:
            nm = f"{tag}/{t.name}"
            ren[t.name] = nm
            t2 = copy.deepcopy(t)
            t2.name = nm
            inits[nm] = t2

        def rn(x):
            return x if x == "" or x in outer else ren.get(x, f"{tag}/{x}")

        nodes = []
        for n in g.node:
            n2 = copy.deepcopy(n)
            del n2.input[:]
            n2.input.extend(rn(x) for x in n.input)
            del n2.output[:]
            n2.output.extend(rn(x) for x in n.output)
            nodes.append(n2)
        outs = [helper.make_tensor_value_info(rn(o.name), TensorProto.FLOAT, None) for o in g.output]
        branches.append(helper.make_graph(nodes, f"{tag}_branch", [], outs))
    if_node = helper.make_node("If", ["use_cache_branch"], ["logits"] + pres, then_branch=branches[0],
                               else_branch=branches[1])
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "decoder_sequence_length"]),
              helper.make_tensor_value_info("encoder_attention_mask", TensorProto.INT64,
                                            ["batch_size", "encoder_sequence_length"]),
              helper.make_tensor_value_info("encoder_hidden_states", TensorProto.FLOAT,
                                            ["batch_size", "encoder_sequence_length", D])]
    for n in pasts:
        seq = "encoder_sequence_length_out" if ".encoder." in n else "past_decoder_sequence_length"
        inputs.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch_size", HEADS, seq, HD]))
    inputs.append(helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "decoder_sequence_length",
                                                                           VOCAB])]
    outputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch_size", HEADS, None, HD]) for n in pres]
    graph = helper.make_graph([if_node], "florence2_style_decoder", inputs, outputs, initializer=list(inits.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = m_wp.ir_version
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, "decoder_model_merged.onnx"))
    for f in os.listdir(tmp):
        os.remove(os.path.join(tmp, f))
    os.rmdir(tmp)
    print(os.path.join(out_dir, "decoder_model_merged.onnx"))


if __name__ == "__main__":
    main()
