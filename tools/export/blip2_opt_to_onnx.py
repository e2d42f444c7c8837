#!/usr/bin/env python3
"""Export BLIP-2 OPT (e.g. Salesforce/blip2-opt-2.7b) to moonbatch's three-file ONNX bundle.

No public ONNX export of BLIP-2 exists; this script defines one in the layout the transformers.js
decoder-only VLMs use (SmolVLM, moondream2), so moonbatch runs it like them:

    onnx/vision_encoder.onnx        pixel_values [batch, 3, 224, 224] -> image_features [batch, 32, hidden]
                                    (ViT + Q-Former + language_projection: the 32 query embeddings)
    onnx/embed_tokens.onnx          input_ids [batch, seq] -> inputs_embeds [batch, seq, hidden]
    onnx/decoder_model_merged.onnx  inputs_embeds, attention_mask, past_key_values.{i}.key/value
                                    -> logits, present.{i}.key/value  (one graph; the first step
                                    feeds past tensors of length 0, so no use_cache_branch)

plus the model's config.json, generation_config.json, preprocessor_config.json,
processor_config.json and tokenizer files, as the hub serves them. The prompt is
`<image>` x 32, BOS `</s>` (2), then the text (`Question: ... Answer:` for questions, empty or a
prefix such as `a photo of` for captions); the image features replace the 32 `<image>` positions.

Run where the weights and Python transformers are (validated with transformers 5.17, torch 2.11,
onnx 1.17+, and the exporter that `torch.onnx.export(dynamo=False)` selects):

    python3 tools/export/blip2_opt_to_onnx.py --model Salesforce/blip2-opt-2.7b --out blip2-opt-2.7b-onnx

`--model` is a hub id or a local folder. The 2.7B export needs ~40 GB of RAM and writes ~15 GB
(fp32; the vision encoder and decoder keep their weights in `*.onnx_data` beside the graph).

The graphs are written from the weights, not traced through transformers' forward: the OPT
decoder's cache and mask machinery changes between transformers versions, the math does not.
`tools/export/check_blip2_export.py` checks, on a tiny random model, that the bundle's greedy
tokens equal `Blip2ForConditionalGeneration.generate`'s token for token; `--check` here does the
same on the real model for one image.
"""
import argparse
import inspect
import json
import math
import os
import shutil
import sys
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 17
POSITION_OFFSET = 2          # OPTLearnedPositionalEmbedding: position ids are shifted by 2
CONFIG_FILES = ["config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
                "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                "vocab.json", "merges.txt"]


# ----------------------------------------------------------------------------- config access
def sub(cfg, name):
    """A sub-config (vision_config, qformer_config, text_config) as a dict, from a dict or a transformers config."""
    c = cfg[name] if isinstance(cfg, dict) else getattr(cfg, name)
    return c if isinstance(c, dict) else c.to_dict()


def top(cfg, key, default=None):
    if isinstance(cfg, dict):
        return cfg.get(key, default)
    return getattr(cfg, key, default)


def activation(name):
    fns = {"gelu": F.gelu, "relu": F.relu, "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
           "gelu_new": lambda x: F.gelu(x, approximate="tanh"), "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh")}
    if name not in fns:
        raise ValueError(f"activation '{name}' is not supported by this exporter")
    return fns[name]


def language_parts(model):
    """(OPT decoder, lm_head) of a Blip2ForConditionalGeneration (or a module tree with the same names)."""
    lm = model.language_model
    if hasattr(lm, "model") and hasattr(lm.model, "decoder"):
        decoder = lm.model.decoder
    elif hasattr(lm, "decoder"):
        decoder = lm.decoder
    else:
        raise ValueError("language_model is not an OPT decoder (no .model.decoder)")
    head = lm.lm_head if hasattr(lm, "lm_head") else model.lm_head
    return decoder, head


# ----------------------------------------------------------------------------- graphs
class VisionEncoderGraph(nn.Module):
    """pixel_values -> the 32 projected query embeddings (Blip2ForConditionalGeneration.get_image_features)."""

    def __init__(self, model, config):
        super().__init__()
        self.m = model
        self.v_cfg, self.q_cfg = sub(config, "vision_config"), sub(config, "qformer_config")
        self.v_act = activation(self.v_cfg.get("hidden_act", "gelu"))
        self.q_act = activation(self.q_cfg.get("hidden_act", "gelu"))

    def vision(self, pixel_values):
        vm = self.m.vision_model
        emb = vm.embeddings
        x = emb.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = emb.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
        x = x + emb.position_embedding[:, : x.shape[1], :]
        heads = self.v_cfg["num_attention_heads"]
        for layer in vm.encoder.layers:
            att = layer.self_attn
            h = layer.layer_norm1(x)
            bias = att.qkv.bias
            if bias is None and getattr(att, "q_bias", None) is not None:
                bias = torch.cat((att.q_bias, torch.zeros_like(att.v_bias), att.v_bias))
            b, t, e = h.shape
            qkv = F.linear(h, att.qkv.weight, bias).reshape(b, t, 3, heads, e // heads).permute(2, 0, 3, 1, 4)
            scores = torch.matmul(qkv[0], qkv[1].transpose(-1, -2)) * ((e // heads) ** -0.5)
            ctx = torch.matmul(torch.softmax(scores, dim=-1), qkv[2]).transpose(1, 2).reshape(b, t, e)
            x = x + att.projection(ctx)
            x = x + layer.mlp.fc2(self.v_act(layer.mlp.fc1(layer.layer_norm2(x))))
        return vm.post_layernorm(x)

    def bert_attention(self, att, hidden, context):
        """Q-Former attention block: multi-head attention, then dense + residual + LayerNorm (post-LN)."""
        a = att.attention
        heads = self.q_cfg["num_attention_heads"]

        def split(t):
            b, n, e = t.shape
            return t.view(b, n, heads, e // heads).permute(0, 2, 1, 3)

        q, k, v = split(a.query(hidden)), split(a.key(context)), split(a.value(context))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(a.query.out_features // heads)
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).reshape(hidden.shape[0], -1,
                                                                                          hidden.shape[2])
        return att.output.LayerNorm(att.output.dense(ctx) + hidden)

    def qformer(self, image_embeds):
        qf = self.m.qformer
        h = qf.layernorm(self.m.query_tokens.expand(image_embeds.shape[0], -1, -1))
        for layer in qf.encoder.layer:
            h = self.bert_attention(layer.attention, h, h)
            # has_cross_attention, not the attribute: whether a layer attends to the image is
            # layer_idx % cross_attention_frequency == 0, and a version may build the module anyway
            if getattr(layer, "has_cross_attention", getattr(layer, "crossattention", None) is not None):
                h = self.bert_attention(layer.crossattention, h, image_embeds)
            inter = self.q_act(layer.intermediate_query.dense(h))
            h = layer.output_query.LayerNorm(layer.output_query.dense(inter) + h)
        return h

    def forward(self, pixel_values):
        return self.m.language_projection(self.qformer(self.vision(pixel_values)))


class EmbedTokensGraph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.embed = language_parts(model)[0].embed_tokens

    def forward(self, input_ids):
        return self.embed(input_ids)


class OptDecoderGraph(nn.Module):
    """OPT decoder + lm_head on inputs_embeds with a KV cache. Positions come from attention_mask as in
    OPTDecoder (cumsum(mask) * mask - 1, + 2), so left padding works; the causal mask is built in the graph."""

    def __init__(self, model, config):
        super().__init__()
        self.decoder, self.lm_head = language_parts(model)
        t = sub(config, "text_config")
        self.heads = t["num_attention_heads"]
        self.pre_ln = t.get("do_layer_norm_before", True)
        self.act = activation(t.get("activation_function", "relu"))

    def forward(self, inputs_embeds, attention_mask, *past):
        d = self.decoder
        x = inputs_embeds
        if getattr(d, "project_in", None) is not None:
            x = d.project_in(x)
        q_len = x.shape[1]
        total = attention_mask.shape[1]
        past_len = total - q_len
        positions = (torch.cumsum(attention_mask, dim=1) * attention_mask - 1)[:, past_len:]
        h = x + F.embedding(positions + POSITION_OFFSET, d.embed_positions.weight)
        kpos = torch.arange(total, device=x.device)
        qpos = torch.arange(q_len, device=x.device) + past_len
        allowed = (kpos[None, :] <= qpos[:, None])[None, None] & (attention_mask[:, None, None, :] > 0)
        bias = torch.where(allowed, torch.zeros((), dtype=h.dtype), torch.full((), torch.finfo(h.dtype).min,
                                                                              dtype=h.dtype))
        presents = []
        for i, layer in enumerate(d.layers):
            att = layer.self_attn
            r = h
            y = layer.self_attn_layer_norm(h) if self.pre_ln else h
            b, n, e = y.shape
            hd = e // self.heads

            def split(t):
                return t.view(b, n, self.heads, hd).transpose(1, 2)

            q, k, v = split(att.q_proj(y)), split(att.k_proj(y)), split(att.v_proj(y))
            if past:
                k = torch.cat([past[2 * i], k], dim=2)
                v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            scores = torch.matmul(q, k.transpose(-1, -2)) * (hd ** -0.5) + bias
            ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, n, e)
            h = r + att.out_proj(ctx)
            if not self.pre_ln:
                h = layer.self_attn_layer_norm(h)
            r = h
            y = layer.final_layer_norm(h) if self.pre_ln else h
            h = r + layer.fc2(self.act(layer.fc1(y)))
            if not self.pre_ln:
                h = layer.final_layer_norm(h)
        if getattr(d, "final_layer_norm", None) is not None:
            h = d.final_layer_norm(h)
        if getattr(d, "project_out", None) is not None:
            h = d.project_out(h)
        return (self.lm_head(h), *presents)


# ----------------------------------------------------------------------------- export
def _export(module, args, path, input_names, output_names, dynamic_axes, opset):
    kwargs = dict(opset_version=opset, do_constant_folding=True, input_names=input_names,
                  output_names=output_names, dynamic_axes=dynamic_axes)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False        # the TorchScript exporter: dynamic_axes as given
    # A new nn.Module wrapper is in training mode, and torch.onnx.export puts the wrapper's mode back
    # on the whole tree afterwards: without this the wrapped transformers model would be left with
    # dropout on, and any comparison run after the export would be against a noisy model.
    module.eval()
    with torch.no_grad():
        try:
            torch.onnx.export(module, args, path, **kwargs)
        except Exception as e:          # a torch without the TorchScript exporter
            if kwargs.get("dynamo") is not False:
                raise
            print(f"TorchScript exporter failed ({type(e).__name__}: {e}); trying dynamo=True", file=sys.stderr)
            kwargs["dynamo"] = True
            torch.onnx.export(module, args, path, **kwargs)


def _finish(tmp_path, out_path, io_names):
    """Load an export (with any external data), check it, set symbolic dim names, and save it to
    out_path; weights go to one `<file>_data` beside it when the graph would pass protobuf's 2 GB limit."""
    import onnx
    m = onnx.load(tmp_path)
    inputs, outputs = io_names
    for vi in list(m.graph.input) + list(m.graph.output):
        dims = (inputs.get(vi.name) or outputs.get(vi.name))
        if dims is None:
            continue
        for d, name in zip(vi.type.tensor_type.shape.dim, dims):
            if isinstance(name, str):
                d.ClearField("dim_value")
                d.dim_param = name
    size = sum(t.ByteSize() for t in m.graph.initializer)
    if os.path.exists(out_path):
        os.remove(out_path)
    data = out_path + "_data"
    if os.path.exists(data):
        os.remove(data)
    if size > 1_800_000_000:
        onnx.save_model(m, out_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(data), size_threshold=1024)
        onnx.checker.check_model(out_path)
    else:
        onnx.checker.check_model(m)
        onnx.save_model(m, out_path)
    return out_path


def past_names(prefix, layers):
    return [f"{prefix}.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]


def export_bundle(model, config, onnx_dir, opset=OPSET):
    """Write vision_encoder.onnx, embed_tokens.onnx and decoder_model_merged.onnx for `model`
    (a Blip2ForConditionalGeneration, or any module tree with its attribute names) into onnx_dir.
    `config`: the model's Blip2Config or its dict. Returns the three paths."""
    model.eval()
    os.makedirs(onnx_dir, exist_ok=True)
    v, t = sub(config, "vision_config"), sub(config, "text_config")
    image = v.get("image_size", 224)
    layers, heads = t["num_hidden_layers"], t["num_attention_heads"]
    hidden = t.get("word_embed_proj_dim") or t["hidden_size"]
    head_dim = t["hidden_size"] // heads
    n_query = top(config, "num_query_tokens", 32)
    dtype = next(model.parameters()).dtype
    paths = {}
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "vision_encoder.onnx")
        _export(VisionEncoderGraph(model, config), (torch.randn(1, 3, image, image, dtype=dtype),), p,
                ["pixel_values"], ["image_features"],
                {"pixel_values": {0: "batch_size"}, "image_features": {0: "batch_size"}}, opset)
        paths["vision_encoder"] = _finish(p, os.path.join(onnx_dir, "vision_encoder.onnx"),
                                          ({"pixel_values": ["batch_size", 3, image, image]},
                                           {"image_features": ["batch_size", n_query, t["hidden_size"]]}))

        p = os.path.join(tmp, "embed_tokens.onnx")
        _export(EmbedTokensGraph(model), (torch.tensor([[2, 13963, 35]]),), p, ["input_ids"], ["inputs_embeds"],
                {"input_ids": {0: "batch_size", 1: "sequence_length"},
                 "inputs_embeds": {0: "batch_size", 1: "sequence_length"}}, opset)
        paths["embed_tokens"] = _finish(p, os.path.join(onnx_dir, "embed_tokens.onnx"),
                                        ({"input_ids": ["batch_size", "sequence_length"]},
                                         {"inputs_embeds": ["batch_size", "sequence_length", hidden]}))

        pasts, presents = past_names("past_key_values", layers), past_names("present", layers)
        axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
                "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
                "logits": {0: "batch_size", 1: "sequence_length"}}
        for n in pasts:
            axes[n] = {0: "batch_size", 2: "past_sequence_length"}
        for n in presents:
            axes[n] = {0: "batch_size", 2: "total_sequence_length"}
        # traced with a non-empty past; at run time the first step feeds past tensors of length 0
        past = [torch.randn(2, heads, 3, head_dim, dtype=dtype) for _ in pasts]
        p = os.path.join(tmp, "decoder_model_merged.onnx")
        _export(OptDecoderGraph(model, config), (torch.randn(2, 2, hidden, dtype=dtype),
                                                torch.ones(2, 5, dtype=torch.long), *past), p,
                ["inputs_embeds", "attention_mask"] + pasts, ["logits"] + presents, axes, opset)
        vocab = language_parts(model)[1].weight.shape[0]
        ins = {"inputs_embeds": ["batch_size", "sequence_length", hidden],
               "attention_mask": ["batch_size", "total_sequence_length"]}
        ins.update({n: ["batch_size", heads, "past_sequence_length", head_dim] for n in pasts})
        outs = {"logits": ["batch_size", "sequence_length", vocab]}
        outs.update({n: ["batch_size", heads, "total_sequence_length", head_dim] for n in presents})
        paths["decoder_model_merged"] = _finish(p, os.path.join(onnx_dir, "decoder_model_merged.onnx"), (ins, outs))
    return paths


# ----------------------------------------------------------------------------- greedy over the bundle
def ort_greedy(bundle_dir, pixel_values, prompt_ids, image_token_id, eos_ids, max_new_tokens):
    """What moonbatch does with the bundle, in onnxruntime: embed the prompt, put the image features at
    the image-token positions, decode greedily with the KV cache. Returns (new token ids, min top-1/top-2 gap)."""
    import numpy as np
    import onnxruntime as ort
    sess = {n: ort.InferenceSession(os.path.join(bundle_dir, "onnx", n + ".onnx"), providers=["CPUExecutionProvider"])
            for n in ("vision_encoder", "embed_tokens", "decoder_model_merged")}
    feats = sess["vision_encoder"].run(None, {"pixel_values": np.asarray(pixel_values, np.float32)})[0][0]
    ids = np.asarray(prompt_ids, np.int64)[None]
    is_image = ids[0] == image_token_id
    emb = sess["embed_tokens"].run(None, {"input_ids": np.where(ids == image_token_id, 0, ids)})[0]
    emb[0, is_image] = feats
    dec = sess["decoder_model_merged"]
    past = {}
    for i in dec.get_inputs():
        if i.name.startswith("past_key_values."):
            past[i.name] = np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32)
    total, out, gap = ids.shape[1], [], float("inf")
    for _ in range(max_new_tokens):
        res = dec.run(None, {"inputs_embeds": emb, "attention_mask": np.ones((1, total), np.int64), **past})
        logits = res[0][0, -1]
        top2 = np.sort(logits)[-2:]
        gap = min(gap, float(top2[1] - top2[0]))
        nxt = int(logits.argmax())
        out.append(nxt)
        if nxt in eos_ids:
            break
        names = [o.name for o in dec.get_outputs()]
        past = {n.replace("present.", "past_key_values."): r for n, r in zip(names, res) if n.startswith("present.")}
        emb = sess["embed_tokens"].run(None, {"input_ids": np.array([[nxt]], np.int64)})[0]
        total += 1
    return out, gap


def copy_configs(src_dir, out_dir):
    for f in CONFIG_FILES:
        p = os.path.join(src_dir, f)
        if os.path.isfile(p):
            shutil.copyfile(p, os.path.join(out_dir, f))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="Salesforce/blip2-opt-2.7b", help="hub id or local folder")
    ap.add_argument("--out", required=True, help="bundle folder to write")
    ap.add_argument("--opset", type=int, default=OPSET)
    ap.add_argument("--check", metavar="IMAGE", help="after exporting, compare greedy tokens with transformers' "
                                                     "generate on this image (caption and one question)")
    args = ap.parse_args()

    from transformers import Blip2ForConditionalGeneration, Blip2Processor
    model = Blip2ForConditionalGeneration.from_pretrained(args.model, torch_dtype=torch.float32,
                                                          attn_implementation="eager")
    processor = Blip2Processor.from_pretrained(args.model)
    os.makedirs(args.out, exist_ok=True)
    # the files as the hub serves them (tokenizer, configs); save_pretrained fills in what a folder lacks
    with tempfile.TemporaryDirectory() as tmp:
        processor.save_pretrained(tmp)
        # transformers 5 folds the image processor into processor_config.json; the bundle contract
        # (and moonbatch) reads preprocessor_config.json, which the image processor still writes
        processor.image_processor.save_pretrained(tmp)
        model.config.save_pretrained(tmp)
        model.generation_config.save_pretrained(tmp)
        copy_configs(tmp, args.out)
    if os.path.isdir(args.model):
        copy_configs(args.model, args.out)
    paths = export_bundle(model, model.config, os.path.join(args.out, "onnx"), args.opset)
    for p in paths.values():
        print(f"wrote {p} ({os.path.getsize(p) / 1e6:.1f} MB)")
    if args.check:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from check_blip2_export import compare_with_transformers
        from PIL import Image
        ok = compare_with_transformers(model, processor, args.out, [Image.open(args.check)],
                                       ["", "Question: What is in the picture? Answer:"], max_new_tokens=20)
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
