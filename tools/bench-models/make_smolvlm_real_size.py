#!/usr/bin/python3
"""A random-weight SmolVLM-256M-Instruct bundle with the REAL dimensions and export contract, for
throughput benchmarks (its answers are gibberish).

    /usr/bin/python3 tools/bench-models/make_smolvlm_real_size.py OUT_DIR [--small] [--fp16]

Real dimensions (../shared/reference-configs/smolvlm/SmolVLM-256M-Instruct/config.json):
- vision_encoder: SigLIP-style ViT on 512x512 tiles, patch 16 (1024 patches), 12 layers, hidden 768,
  12 heads, intermediate 3072, pixel shuffle 4 -> 64 rows per tile, linear projection to 576
  (the fixture's small conv stem replaces SigLIP's patch conv: under 1% of the FLOPs)
- embed_tokens: 49280 x 576
- decoder_model_merged: Llama, 30 layers, hidden 576, 9 heads, 3 KV heads, head dim 64,
  intermediate 1536, vocab 49280, KV cache past_key_values.{0..29}.key/value
- every config / tokenizer / processor file copied unchanged from the reference folder, so images are
  split into up to 4x4 tiles of 512 plus a global view exactly as for the real model.

Weights are stored float16 with a Cast to float32 in the graph (ONNX Runtime folds it at load), as in
the test fixtures: about 0.6 GB on disk, fp32 in memory. Do not commit it. `--small` makes a few-MB
model with the same contract (for testing the scripts). `--fp16` also writes the `_fp16` variant
(tools/bench-models/make_fp16_variant.py: float16 inputs, outputs and KV cache).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixtures"))
from shared_folder import shared  # noqa: E402

import torch  # noqa: E402

import make_smolvlm_bundle as fx  # noqa: E402

REF = shared("reference-configs", "smolvlm", "SmolVLM-256M-Instruct")
FILES = ["config.json", "preprocessor_config.json", "processor_config.json", "generation_config.json",
         "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json",
         "added_tokens.json", "chat_template.json"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--ref", default=REF)
    ap.add_argument("--small", action="store_true", help="tiny layer counts and widths, real tiling (smoke tests)")
    ap.add_argument("--fp16", action="store_true", help="also write the _fp16 variant")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    dims = dict(TILE=512, LONGEST=2048, PATCH=16, SCALE=4, VOCAB=49280,
                V_HIDDEN=768, V_LAYERS=12, V_HEADS=12, V_INTER=3072,
                HIDDEN=576, LAYERS=30, HEADS=9, KV_HEADS=3, HEAD_DIM=64, INTER=1536)
    if args.small:
        dims.update(V_HIDDEN=48, V_LAYERS=2, V_HEADS=3, V_INTER=96, HIDDEN=64, LAYERS=2, HEADS=4, KV_HEADS=2,
                    HEAD_DIM=16, INTER=128)
    for k, v in dims.items():
        setattr(fx, k, v)
    fx.SEQ_PER_TILE = (fx.TILE // fx.PATCH) ** 2 // fx.SCALE ** 2
    assert fx.SEQ_PER_TILE == 64
    torch.manual_seed(args.seed)
    t0 = time.time()
    model = fx.SmolVLMTiny().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.02)
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    for f in FILES:
        shutil.copyfile(os.path.join(args.ref, f), os.path.join(args.out, f))
    if args.small:
        import json
        path = os.path.join(args.out, "config.json")
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
        cfg["text_config"].update({"hidden_size": fx.HIDDEN, "intermediate_size": fx.INTER,
                                   "num_hidden_layers": fx.LAYERS, "num_attention_heads": fx.HEADS,
                                   "num_key_value_heads": fx.KV_HEADS, "head_dim": fx.HEAD_DIM})
        cfg["vision_config"].update({"hidden_size": fx.V_HIDDEN, "intermediate_size": fx.V_INTER,
                                     "num_hidden_layers": fx.V_LAYERS, "num_attention_heads": fx.V_HEADS})
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)
    with torch.no_grad():
        fx.export(model, os.path.join(args.out, "onnx"))
    if args.fp16:
        subprocess.run([sys.executable, os.path.join(HERE, "make_fp16_variant.py"), args.out, "--force"], check=True)
    for f in sorted(os.listdir(os.path.join(args.out, "onnx"))):
        print(f"onnx/{f} {os.path.getsize(os.path.join(args.out, 'onnx', f)) / 1e6:.1f} MB")
    print(f"done in {time.time() - t0:.0f}s: {args.out}")


if __name__ == "__main__":
    main()
