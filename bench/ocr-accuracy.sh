#!/usr/bin/env bash
# Character accuracy of --task ocr with the real PP-OCRv4 weights, through the whole job: runs
# ./run.sh over sample-data/ocr/images and compares results.csv with sample-data/ocr/truth.csv.
# Prints one line per image (1 - CER, what was read) and 1 - CER over the clear printed-text images
# (edits summed over characters summed; lines trimmed, runs of spaces made one). Exit 1 below 0.90.
#   bench/ocr-accuracy.sh [MODEL_DIR]       (default models/ppocr-v4: tools/models/fetch-ppocr.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${1:-$ROOT/models/ppocr-v4}"
[ -f "$MODEL/ppocr.json" ] || "$ROOT/tools/models/fetch-ppocr.sh" "$MODEL"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
"$ROOT/run.sh" --input "$ROOT/sample-data/ocr/images" --output "$OUT/run" --model "$MODEL" --task ocr \
  --master 'local[2]' > "$OUT/log.txt" 2>&1 || { tail -20 "$OUT/log.txt"; exit 1; }
/usr/bin/python3 - "$ROOT/sample-data/ocr/truth.csv" "$OUT/run/results.csv" <<'PY'
import csv, os, re, sys

def norm(t):
    return "\n".join(l for l in (re.sub(r"\s+", " ", x.strip()) for x in t.split("\n")) if l)

def dist(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(cur[j - 1] + 1, prev[j] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[-1]

truth = {r["file"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))}
read = {os.path.basename(r["image_path"]): r for r in csv.DictReader(open(sys.argv[2], encoding="utf-8"))}
edits = chars = 0
for name, t in truth.items():
    r = read[name]
    got = r["text"] if not r["error"] else ""
    d, n = dist(norm(t["text"]), norm(got)), len(norm(t["text"]))
    clear = t["clear"] == "1"
    print(f"{name:22s} {'clear' if clear else 'hard '} 1-CER {1 - d / n:.3f}  {got.replace(chr(10), ' | ')}"
          + (f"  ERROR {r['error']}" if r["error"] else ""))
    if clear:
        edits, chars = edits + d, chars + n
acc = 1 - edits / chars
print(f"clear printed text: 1-CER = {acc:.4f} ({edits} edits over {chars} characters)")
sys.exit(0 if acc >= 0.90 else 1)
PY
