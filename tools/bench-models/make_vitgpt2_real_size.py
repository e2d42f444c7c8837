#!/usr/bin/python3
"""A random-weight vit-gpt2 bundle with the REAL dimensions and export contract of
Xenova/vit-gpt2-image-captioning, for throughput benchmarks (its captions are gibberish).

    /usr/bin/python3 tools/bench-models/make_vitgpt2_real_size.py OUT_DIR [--small]

- encoder: ViT-base 224/16 (12 layers, hidden 768, 12 heads, intermediate 3072) -> onnx/encoder_model.onnx
- decoder: GPT-2 (12 layers, n_embd 768, 12 heads, n_inner 3072, vocab 50257, cross-attention),
  exported without and with past and merged Optimum-style on `use_cache_branch` with an ONNX `If`
  -> onnx/decoder_model_merged.onnx (cross-attention K/V recomputed from encoder_hidden_states at
  every step, as in the real export)
- config/tokenizer/preprocessor/generation files copied unchanged from
  ../shared/reference-configs/vit-gpt2 (the real ones, so config.json has the real dimensions).

About 950 MB; do not commit it. `--small` makes a few-MB model with the same contract (for tests of
the scripts). The model code and the ONNX export/merge are those of the demo fixture
(tools/fixtures/make_vitgpt2_bundle.py), with its dimension constants set to the real ones.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixtures"))
from shared_folder import shared  # noqa: E402

import torch  # noqa: E402

import make_vitgpt2_bundle as fx  # noqa: E402

REF = shared("reference-configs", "vit-gpt2")
FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
         "special_tokens_map.json", "preprocessor_config.json", "generation_config.json"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--ref", default=REF)
    ap.add_argument("--small", action="store_true", help="tiny dimensions, same contract")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.small:
        dims = dict(HIDDEN=64, ENC_LAYERS=2, ENC_HEADS=4, ENC_INTER=128, PATCH=32, DEC_LAYERS=2, DEC_HEADS=4,
                    DEC_INNER=128, N_POSITIONS=64)
    else:
        dims = dict(HIDDEN=768, ENC_LAYERS=12, ENC_HEADS=12, ENC_INTER=3072, PATCH=16, DEC_LAYERS=12, DEC_HEADS=12,
                    DEC_INNER=3072, N_POSITIONS=1024)
    for k, v in dims.items():
        setattr(fx, k, v)
    fx.IMAGE = 224
    torch.manual_seed(args.seed)
    t0 = time.time()
    model = fx.Captioner().eval()
    # real-like scale for the random weights (GPT-2 init std 0.02) so activations stay finite
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and "position" not in name:
                p.normal_(0.0, 0.02)
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    for f in FILES:
        shutil.copyfile(os.path.join(args.ref, f), os.path.join(args.out, f))
    if args.small:  # keep config.json honest about the dimensions
        import json
        with open(os.path.join(args.out, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        cfg["encoder"].update({"hidden_size": fx.HIDDEN, "num_hidden_layers": fx.ENC_LAYERS,
                               "num_attention_heads": fx.ENC_HEADS, "intermediate_size": fx.ENC_INTER,
                               "patch_size": fx.PATCH})
        cfg["decoder"].update({"n_embd": fx.HIDDEN, "n_layer": fx.DEC_LAYERS, "n_head": fx.DEC_HEADS,
                               "n_inner": fx.DEC_INNER, "n_positions": fx.N_POSITIONS, "n_ctx": fx.N_POSITIONS})
        with open(os.path.join(args.out, "config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)
    with torch.no_grad():
        fx.export_encoder(model, os.path.join(args.out, "onnx", "encoder_model.onnx"))
        with tempfile.TemporaryDirectory() as tmp:
            p_no, p_wp = fx.export_decoders(model, tmp)
            fx.merge_decoders(p_no, p_wp, os.path.join(args.out, "onnx", "decoder_model_merged.onnx"))
    for f in sorted(os.listdir(os.path.join(args.out, "onnx"))):
        print(f"onnx/{f} {os.path.getsize(os.path.join(args.out, 'onnx', f)) / 1e6:.1f} MB")
    print(f"done in {time.time() - t0:.0f}s: {args.out}")


if __name__ == "__main__":
    main()
