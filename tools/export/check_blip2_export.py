#!/usr/bin/env python3
"""Check blip2_opt_to_onnx.py against transformers on a tiny random BLIP-2 OPT.

    python3 tools/export/check_blip2_export.py --ref ../shared/reference-configs/blip/blip2-opt-2.7b \
        --out /tmp/blip2-random-bundle [--images DIR] [--json result.json]

Builds a Blip2ForConditionalGeneration from a shrunk copy of the real config (real tokenizer, image
processor, token ids and vocabulary; small hidden sizes), gives every weight a random value (not
transformers' near-zero init, so the vision path matters), exports it with blip2_opt_to_onnx.py, and
checks for several images and prompts that

  - the processor's input_ids are the prompt the bundle contract prescribes
    (`<image>` x num_query_tokens, BOS 2, the text's tokens), and
  - greedy decoding over the three ONNX files (onnxruntime, as moonbatch runs them) yields exactly the
    tokens of `model.generate(do_sample=False, num_beams=1)`.

Exit 0 when every case agrees. The bundle folder (configs + onnx/) is left in --out, so the Java
runtime can be checked on the same model. Needs transformers (validated: 5.17), torch, onnx,
onnxruntime and Pillow; no network.
"""
import argparse
import glob
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blip2_opt_to_onnx as exporter  # noqa: E402

SHRUNK = {
    "vision_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "image_size": 224, "patch_size": 14, "initializer_range": 0.02},
    "qformer_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                       "num_attention_heads": 4, "encoder_hidden_size": 64, "cross_attention_frequency": 2},
    "text_config": {"hidden_size": 32, "ffn_dim": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                    "word_embed_proj_dim": 32, "max_position_embeddings": 256},
}
PROMPTS = ["", "a photo of", "Question: What colour is the object? Answer:", "Question: how many cats are there? Answer:"]


def shrunk_config(ref_dir):
    with open(os.path.join(ref_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    for name, values in SHRUNK.items():
        cfg.setdefault(name, {}).update(values)
        cfg[name]["torch_dtype"] = "float32"     # the real text_config says float16 (its weights' storage)
    cfg["torch_dtype"] = "float32"
    return cfg


def stage_diffs(model, config, bundle_dir, pixel_values, prompt_ids, image_token, log=print):
    """Where a disagreement starts: transformers' own modules vs the exporter's torch graphs vs the ONNX
    files, for the vision tower, the Q-Former output, the projected features and the prefill logits."""
    import onnxruntime as ort
    graph = exporter.VisionEncoderGraph(model, config)
    pv = torch.as_tensor(pixel_values, dtype=torch.float32)
    with torch.no_grad():
        hf_vision = model.vision_model(pixel_values=pv).last_hidden_state
        ones = torch.ones(hf_vision.shape[:-1], dtype=torch.long)
        hf_q = model.qformer(query_embeds=model.query_tokens.expand(pv.shape[0], -1, -1),
                             encoder_hidden_states=hf_vision, encoder_attention_mask=ones).last_hidden_state
        hf_feats = model.language_projection(hf_q)
        my_vision = graph.vision(pv)
        my_q = graph.qformer(my_vision)
        onnx_feats = ort.InferenceSession(os.path.join(bundle_dir, "onnx", "vision_encoder.onnx")).run(
            None, {"pixel_values": pv.numpy()})[0]
        ids = torch.tensor([prompt_ids])
        emb = model.get_input_embeddings()(torch.where(ids == image_token, torch.zeros_like(ids), ids))
        emb[ids == image_token] = hf_feats.reshape(-1, hf_feats.shape[-1])
        mask = torch.ones_like(ids)
        hf_logits = model.language_model(inputs_embeds=emb, attention_mask=mask).logits[0, -1]
        my_logits = exporter.OptDecoderGraph(model, config)(emb, mask)[0][0, -1]
        full_logits = model(pixel_values=pv, input_ids=ids, attention_mask=mask).logits[0, -1]
    diffs = {"vision_tower": (my_vision - hf_vision).abs().max().item(),
             "qformer": (my_q - hf_q).abs().max().item(),
             "features_onnx_vs_transformers": float(abs(onnx_feats - hf_feats.numpy()).max()),
             "prefill_logits_graph_vs_transformers": (my_logits - hf_logits).abs().max().item(),
             "prefill_logits_graph_vs_full_forward": (my_logits - full_logits).abs().max().item(),
             "config_image_token_id": getattr(model.config, "image_token_id", None),
             "transformers_dtypes": sorted({str(p.dtype) for p in model.parameters()})}
    log(f"[check] stage max |diff| (exporter graphs vs transformers): {diffs}")
    return diffs


def expected_prompt_ids(processor, config, text):
    """The bundle contract: image token x num_query_tokens, then the tokenizer's ids (BOS 2 first)."""
    n = config.num_query_tokens
    image_token = getattr(config, "image_token_id", None) or getattr(config, "image_token_index")
    return [image_token] * n + processor.tokenizer(text).input_ids


def compare_with_transformers(model, processor, bundle_dir, images, prompts, max_new_tokens=20, log=print):
    """For every image x prompt: transformers' greedy generate vs greedy over the ONNX bundle.
    An empty prompt is a plain caption: the processor gets no text (as in BLIP-2's model card)."""
    cfg = model.config
    image_token = getattr(cfg, "image_token_id", None) or getattr(cfg, "image_token_index")
    eos = model.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, list) else [eos])
    cases = []
    for i, image in enumerate(images):
        for prompt in prompts:
            want_ids = expected_prompt_ids(processor, cfg, prompt)
            inputs = processor(images=image, text=prompt or None, return_tensors="pt")
            if prompt:
                got_ids = inputs["input_ids"][0].tolist()
            else:
                # no text: generate() builds [image] * n + [bos] itself
                got_ids = [image_token] * cfg.num_query_tokens + [cfg.text_config.bos_token_id]
            with torch.no_grad():
                out = model.generate(**inputs, do_sample=False, num_beams=1, max_new_tokens=max_new_tokens)
            out = out[0].tolist()
            if out[:len(got_ids)] == got_ids:
                out = out[len(got_ids):]      # decoder-only generate may return the prompt too
            pad = model.generation_config.pad_token_id
            while out and out[-1] == pad and pad not in eos:
                out.pop()
            ours, gap = exporter.ort_greedy(bundle_dir, inputs["pixel_values"].numpy(), want_ids, image_token, eos,
                                            max_new_tokens)
            case = {"image": i, "prompt": prompt, "prompt_ids_match": got_ids == want_ids,
                    "transformers": out, "onnx": ours, "equal": out == ours, "min_top2_gap": gap,
                    "text": processor.tokenizer.decode(out, skip_special_tokens=True)}
            cases.append(case)
            log(f"[check] image {i} prompt {prompt!r}: prompt ids {'ok' if case['prompt_ids_match'] else 'DIFFER'}; "
                f"tokens {'equal' if case['equal'] else 'DIFFER'} ({len(out)} transformers / {len(ours)} onnx, "
                f"min top-2 gap {gap:.4f}) {case['text']!r}")
            if not case["equal"]:
                log(f"         transformers {out}\n         onnx         {ours}")
    ok = all(c["equal"] and c["prompt_ids_match"] for c in cases)
    log(f"[check] {sum(c['equal'] and c['prompt_ids_match'] for c in cases)}/{len(cases)} cases agree")
    compare_with_transformers.cases = cases
    return ok


def randomize(model, seed):
    """Weights with real spread (transformers initialises the vision tower and query tokens near zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and ("norm" in name.lower()) and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))


def test_images(images_dir, n):
    from PIL import Image
    files = sorted(glob.glob(os.path.join(images_dir, "*.png")) + glob.glob(os.path.join(images_dir, "*.jpg")))[:n] \
        if images_dir else []
    out = [Image.open(f).convert("RGB") for f in files]
    rng = np.random.RandomState(3)
    while len(out) < n:
        out.append(Image.fromarray(rng.randint(0, 256, (rng.randint(150, 400), rng.randint(150, 400), 3), np.uint8)))
    return out


def run_check(ref, out, images, max_new_tokens=20, seed=1234, log=print):
    """Build the tiny random BLIP-2 from `ref`, export it into `out`, compare on `images` (PIL images).
    Returns (ok, stage diffs, cases)."""
    import transformers
    from transformers import Blip2Config, Blip2ForConditionalGeneration, Blip2Processor
    log(f"[check] transformers {transformers.__version__}, torch {torch.__version__}")
    torch.manual_seed(seed)
    cfg_dict = shrunk_config(ref)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg_dict, f)
        config = Blip2Config.from_pretrained(tmp)
    try:
        model = Blip2ForConditionalGeneration._from_config(config, attn_implementation="eager").eval()
    except TypeError:
        config._attn_implementation = "eager"
        model = Blip2ForConditionalGeneration(config).eval()
    model = model.float()
    randomize(model, seed)
    processor = Blip2Processor.from_pretrained(ref)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    exporter.copy_configs(ref, out)
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg_dict, f, indent=2)
    exporter.export_bundle(model, model.config, os.path.join(out, "onnx"))
    image_token = getattr(model.config, "image_token_id", None) or model.config.image_token_index
    diffs = stage_diffs(model, model.config, out, processor(images=images[0], return_tensors="pt")["pixel_values"],
                        expected_prompt_ids(processor, model.config, PROMPTS[2]), image_token, log)
    ok = compare_with_transformers(model, processor, out, images, PROMPTS, max_new_tokens, log)
    return ok, diffs, compare_with_transformers.cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True, help="the real model's config/tokenizer folder (no weights needed)")
    ap.add_argument("--out", required=True, help="where the tiny random bundle is written")
    ap.add_argument("--images", help="folder of test images (else random-noise images)")
    ap.add_argument("--n-images", type=int, default=3)
    ap.add_argument("--max-new-tokens", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--json", help="write the cases here")
    args = ap.parse_args()
    import transformers
    ok, diffs, cases = run_check(args.ref, args.out, test_images(args.images, args.n_images), args.max_new_tokens,
                                 args.seed)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "ok": ok, "stages": diffs,
                       "cases": cases}, f, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
