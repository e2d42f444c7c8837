#!/usr/bin/env bash
# SmolVLM's vision cost as a choice (--image-splitting, --image-longest-edge): the same held-out
# questions (sample-data/heldout-vqa, 30 images x 4 prompts) through the job with the bundle's
# splitting, with splitting off and with half the longest edge, in one run. Prints per setting: vision
# crops per image, job images/s, steady rows/s (summary.json's pace), agreement with the bundle's
# setting (rows with the same text) and rows right against the held-out answers.
#   bench/smolvlm-splitting.sh [MODEL_DIR]      (default: sample-data/models/smolvlm-tiny)
# With a real-size bundle (tools/bench-models/make_smolvlm_real_size.py: random weights, so only the
# speed means anything) set N to a few images: N=4 bench/smolvlm-splitting.sh /tmp/smolvlm-real
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="$(cd "${1:-$ROOT/sample-data/models/smolvlm-tiny}" && pwd)"
HELDOUT="$ROOT/sample-data/heldout-vqa"
WORK="${WORK:-${TMPDIR:-/tmp}/moonbatch-splitting}"
rm -rf "$WORK" && mkdir -p "$WORK/images"
N="${N:-0}"   # 0: every held-out image

# questions.csv of the held-out set, as --questions wants it (the empty question = a caption prompt)
/usr/bin/python3 - "$HELDOUT" "$WORK" "$N" <<'PY'
import csv, os, shutil, sys
heldout, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.DictReader(open(os.path.join(heldout, "questions.csv"))))
images = sorted({r["image_path"] for r in rows})
if n > 0:
    images = images[:n]
with open(os.path.join(work, "questions.csv"), "w", newline="") as f, open(os.path.join(work, "truth.csv"), "w", newline="") as t:
    q, truth = csv.writer(f), csv.writer(t)
    q.writerow(["image_path", "question"]); truth.writerow(["file", "question", "answer"])
    for r in rows:
        if r["image_path"] in images:
            name = os.path.basename(r["image_path"])
            question = r["question"] or "Can you describe this image?"
            q.writerow([name, question]); truth.writerow([name, question, r["answer"]])
for i in images:
    shutil.copy(os.path.join(heldout, i), os.path.join(work, "images"))
PY

"$ROOT/run.sh" --help > /dev/null   # builds on first use
export MOONBATCH_HOIST_CACHE="$WORK/hoist-cache"
leg() { # $1 label, rest: options
  local label="$1"; shift
  MOONBATCH_JAVA_OPTS="-Xmx8g" /usr/bin/time -v "$ROOT/run.sh" --input "$WORK/images" --output "$WORK/out-$label" \
    --model "$MODEL" --task query --questions "$WORK/questions.csv" --no-resume --master 'local[2]' "$@" \
    > "$WORK/$label.txt" 2> "$WORK/$label.time" || { tail -20 "$WORK/$label.time"; exit 1; }
}
leg bundle
leg off --image-splitting off
LONGEST=$(/usr/bin/python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["size"]["longest_edge"]//2 // p["max_image_size"]["longest_edge"] * p["max_image_size"]["longest_edge"])' "$MODEL/preprocessor_config.json")
leg half --image-longest-edge "$LONGEST"

echo "SmolVLM image splitting: model $(basename "$MODEL"), $(ls "$WORK/images" | wc -l) images, $(($(wc -l < "$WORK/questions.csv") - 1)) rows, $(nproc) cores, $(date -u +%FT%TZ)"
/usr/bin/python3 - "$WORK" "$MODEL" "$LONGEST" <<'PY'
import csv, json, os, sys
work, model, longest = sys.argv[1], sys.argv[2], int(sys.argv[3])
pre = json.load(open(os.path.join(model, "preprocessor_config.json")))
tile, edge = pre["max_image_size"]["longest_edge"], pre["size"]["longest_edge"]
truth = {(r["file"], r["question"]): r["answer"] for r in csv.DictReader(open(os.path.join(work, "truth.csv")))}
def texts(label):
    out = {}
    for r in csv.DictReader(open(os.path.join(work, "out-" + label, "results.csv"))):
        out[(os.path.basename(r["image_path"]), r["prompt"])] = r["text"]
    return out
def rss(label):
    for line in open(os.path.join(work, label + ".time")):
        if "Maximum resident" in line:
            return int(line.split()[-1]) // 1024
base = texts("bundle")
print(f"{'setting':<42} {'max crops':>9} {'images/s':>9} {'steady rows/s':>13} {'same text':>10} {'right':>8} {'peak RSS':>9}")
for label, what, crops in [("bundle", f"bundle's (splitting on, longest edge {edge})", (edge // tile) ** 2 + 1),
                           ("off", "--image-splitting off", 1),
                           ("half", f"--image-longest-edge {longest}", (longest // tile) ** 2 + 1)]:
    s = json.load(open(os.path.join(work, "out-" + label, "summary.json")))
    t = texts(label)
    same = sum(1 for k, v in t.items() if base.get(k) == v)
    right = sum(1 for k, v in t.items() if truth.get(k) == v)
    print(f"{what:<42} {crops:>9} {s['imagesPerSecond']:>9.3f} {(s.get('pace') or {}).get('steadyRowsPerSecond', 0):>13.3f} "
          f"{100.0 * same / len(t):>9.1f}% {100.0 * right / len(t):>7.1f}% {rss(label):>6} MB")
PY
echo "commands and outputs: $WORK"
