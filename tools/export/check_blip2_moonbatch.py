#!/usr/bin/env python3
"""moonbatch's Spark job vs transformers on a tiny random BLIP-2 built from the real config.

    python3 tools/export/check_blip2_moonbatch.py --ref ../shared/reference-configs/blip/blip2-opt-2.7b \\
        --work /tmp/blip2-check [--images sample-data/images] [--n-images 3]

Runs check_blip2_export.py's check (export with blip2_opt_to_onnx.py, onnxruntime greedy ==
transformers' generate), then runs `run.sh` on the same bundle once per prompt of that check
(caption without prompt, `a photo of`, two questions) and compares every caption/answer of the job
with transformers' decoded text.

The images are first written as PNG by Pillow, so that the job and transformers see the same pixels:
a JPEG decoded by Java and by libjpeg can differ by one level in some pixels, which on a random
model (top-2 logit gaps down to 1e-3) is enough to flip a token.

Exit 0 when the export check passes and every job row equals transformers. Needs what
check_blip2_export.py needs, plus a built moonbatch (`run.sh` builds it).
"""
import argparse
import csv
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_blip2_export as check  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def job_args(prompt):
    """The CLI options that make the job use exactly `prompt` (Blip2.java asks questions as
    `Question: … Answer:` and uses a caption prompt as it is)."""
    if prompt.startswith("Question: ") and prompt.endswith(" Answer:"):
        return ["--task", "query", "--prompt", prompt[len("Question: "):-len(" Answer:")]]
    return ["--task", "caption", "--prompt", prompt]


def run_job(run_sh, bundle, images_dir, out_dir, prompt, max_new_tokens):
    cmd = [run_sh, "--input", images_dir, "--output", out_dir, "--model", bundle, "--no-resume",
           "--max-new-tokens", str(max_new_tokens)] + job_args(prompt)
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"[moonbatch] {' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}"
                         f"\n{done.stderr[-3000:]}")
    with open(os.path.join(out_dir, "results.csv"), encoding="utf-8", newline="") as f:
        return {os.path.basename(r["image_path"]): r for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True, help="the real model's config/tokenizer folder (no weights needed)")
    ap.add_argument("--work", required=True, help="scratch folder: bundle/, images/, job outputs")
    ap.add_argument("--images", help="folder of test images (else random-noise images)")
    ap.add_argument("--n-images", type=int, default=3)
    ap.add_argument("--max-new-tokens", type=int, default=20)
    ap.add_argument("--run-sh", default=os.path.join(REPO, "run.sh"))
    args = ap.parse_args()

    images_dir = os.path.join(args.work, "images")
    os.makedirs(images_dir, exist_ok=True)
    images = check.test_images(args.images, args.n_images)
    names = [f"img{i}.png" for i in range(len(images))]
    for image, name in zip(images, names):
        image.save(os.path.join(images_dir, name))
    bundle = os.path.join(args.work, "bundle")
    ok, _, cases = check.run_check(args.ref, bundle, images, args.max_new_tokens)

    agree = 0
    for prompt in check.PROMPTS:
        rows = run_job(args.run_sh, bundle, images_dir, os.path.join(args.work, f"job-{check.PROMPTS.index(prompt)}"),
                       prompt, args.max_new_tokens)
        for case in (c for c in cases if c["prompt"] == prompt):
            row = rows.get(names[case["image"]])
            want = case["text"].strip()
            got = None if row is None else (row["text"] if not row["error"] else f"ERROR {row['error']}")
            agree += got == want
            print(f"[moonbatch] image {case['image']} prompt {prompt!r}: {'equal' if got == want else 'DIFFER'}"
                  + ("" if got == want else f"\n           transformers {want!r}\n           moonbatch    {got!r}"))
    print(f"[moonbatch] {agree}/{len(cases)} job rows equal transformers' text; export check {'ok' if ok else 'FAILED'}")
    sys.exit(0 if ok and agree == len(cases) else 1)


if __name__ == "__main__":
    main()
