#!/usr/bin/env bash
# PP-OCRv4 throughput in one run, same images, same weights, CPU: the moonbatch job (--task ocr)
# against the reference, @gutenye/ocr-node 1.4.8 on onnxruntime-node (tools/reference/ppocr.mjs,
# one image at a time as its API works). Images: the 20 OCR samples and the same scaled by 1.5
# (distinct content, so the job reuses nothing). Prints images/s of each leg:
#   js        images / time from the first image to the last (model load not counted)
#   job       summary.json's imagesPerSecond (images / the job's total: listing, model load, Parquet,
#             CSV and review page included), images / its process stage (model load, read, decode,
#             inference, Parquet), and the command's wall clock (JVM and Spark start included)
#   bench/ocr-vs-js.sh [MODEL_DIR]     (default models/ppocr-v4)   MASTER (default local[2]) for the job
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="$(cd "${1:-$ROOT/models/ppocr-v4}" 2>/dev/null && pwd || true)"
[ -n "$MODEL" ] && [ -f "$MODEL/ppocr.json" ] || { "$ROOT/tools/models/fetch-ppocr.sh"; MODEL="$ROOT/models/ppocr-v4"; }
MASTER="${MASTER:-local[2]}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/images"
cp "$ROOT"/sample-data/ocr/images/* "$WORK/images/"
/usr/bin/python3 - "$ROOT/sample-data/ocr/images" "$WORK/images" <<'PY'
import os, sys
from PIL import Image
for f in sorted(os.listdir(sys.argv[1])):
    im = Image.open(os.path.join(sys.argv[1], f)).convert("RGB")
    im.resize((im.width * 3 // 2, im.height * 3 // 2), Image.BICUBIC).save(os.path.join(sys.argv[2], "x1.5_" + f))
PY
N=$(ls "$WORK/images" | wc -l)
echo "ppocr throughput: $N images, $(nproc) cores, $(date -u +%F)"

[ -d "$ROOT/tools/reference/node_modules/@gutenye/ocr-node" ] || \
  (cd "$ROOT/tools/reference" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
node "$ROOT/tools/reference/ppocr.mjs" --models "$MODEL" "$WORK"/images/* > "$WORK/js.json" 2> "$WORK/js.err"
JS=$(sed -n 's/.*= \([0-9.]*\) images\/s/\1/p' "$WORK/js.err")
echo "js  (ocr-node 1.4.8, onnxruntime-node): $JS images/s"

"$ROOT/run.sh" --help > /dev/null   # builds on first use, outside the timing
START=$(date +%s.%N)
"$ROOT/run.sh" --input "$WORK/images" --output "$WORK/out" --model "$MODEL" --task ocr --master "$MASTER" \
  > "$WORK/job.log" 2>&1 || { tail -20 "$WORK/job.log"; exit 1; }
END=$(date +%s.%N)
/usr/bin/python3 - "$WORK/out/summary.json" "$START" "$END" "$N" "$JS" "$MASTER" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
n = int(sys.argv[4])
st = s["stageSeconds"]
print(f"job (--master {sys.argv[6]}): {s['imagesPerSecond']:.3f} images/s over the job's total "
      f"({s['images']} images, {s['errors']} errors, stages {st}); {s['images'] / st['process']:.3f} images/s "
      f"over the process stage; command wall {wall:.1f} s = {n / wall:.3f} images/s")
js = float(sys.argv[5])
print(f"job / js: {s['imagesPerSecond'] / js:.2f}x (total), {s['images'] / st['process'] / js:.2f}x (process stage)")
PY
