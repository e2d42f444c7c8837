#!/usr/bin/env bash
# Closed-choice attribute accuracy on the held-out synthetic set, through run.sh: colour and shape
# (conf/attributes.yaml) for each decoder-only test bundle, against sample-data/heldout-vqa/questions.csv.
#   bench/attributes-accuracy.sh [OUT_DIR] [BUNDLE...]   (default: smolvlm-tiny moondream2-tiny)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$(mktemp -d)}"
shift || true
BUNDLES=("${@:-smolvlm-tiny moondream2-tiny}")
read -r -a BUNDLES <<< "${BUNDLES[*]}"
for b in "${BUNDLES[@]}"; do
  rm -rf "$OUT/$b"
  "$ROOT/run.sh" --input "$ROOT/sample-data/heldout-vqa/images" --output "$OUT/$b" \
    --model "$ROOT/sample-data/models/$b" --attributes "$ROOT/conf/attributes.yaml" --master 'local[2]' >/dev/null 2>&1
  python3 - "$ROOT/sample-data/heldout-vqa/questions.csv" "$OUT/$b/results.csv" "$b" <<'PY'
import csv, sys
truth = {}
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    q = {"What colour is the object?": "colour", "What shape is the object?": "shape"}.get(r["question"])
    if q:
        truth.setdefault(r["image_path"].split("/")[-1], {})[q] = r["answer"]
rows = list(csv.DictReader(open(sys.argv[2], encoding="utf-8")))
assert len(rows) == len(truth), f"{len(rows)} rows for {len(truth)} images"
for attr in ("colour", "shape"):
    right = sum(truth[r["image_path"].split("/")[-1]][attr] == r["attr_" + attr] for r in rows)
    print(f"{sys.argv[3]} {attr}: {right}/{len(rows)} = {100.0 * right / len(rows):.1f}%")
PY
done
