#!/usr/bin/env bash
# Throughput of one bundle in one run, same images, same prompt, same max_new_tokens, EOS never stopping
# generation (equal work in every leg), fp32, CPU. Prints images/s, ms/image, generated tokens/s and
# peak RSS for:
#   1. a raw ONNX Runtime loop in Java (bench/RawVlmLoop.java; the limit), all cores, one image at a time
#   2. the moonbatch job, --master local[2]
#   3. transformers.js 4.3.1 on the same bundle (bench/tjs-vlm-bench.mjs), all cores, one image at a time
#   4. the job's batch-size sweep (1 2 4 8 16)
#   5. the job with TOKENS and 2 x TOKENS new tokens
#   6. peak RSS with 1 and with 4 concurrent tasks in one executor (local[1] vs local[4])
# and the issue's targets computed from them. For the real-size bundles of the two families it knows
# (from config.json's model_type): SmolVLM (idefics3: a query with PROMPT; raw loop bench/RawVlmLoop.java,
# transformers.js bench/tjs-vlm-bench.mjs) and vit-gpt2 (vision-encoder-decoder: a caption; raw loop
# bench/RawOrtLoop.java, transformers.js tools/reference/generate.mjs):
#   /usr/bin/python3 tools/bench-models/make_smolvlm_real_size.py /tmp/smolvlm-real
#   bench/throughput.sh /tmp/smolvlm-real            # full run (idle machine; long: ~16 images per leg)
#   bench/throughput.sh /tmp/smolvlm-real --quick    # smoke run: 2 images, 4 tokens, a short sweep
#   /usr/bin/python3 tools/bench-models/make_vitgpt2_real_size.py /tmp/vit-gpt2-real
#   N=48 bench/throughput.sh /tmp/vit-gpt2-real
# The job's fixed cost (seconds to its first row, after its last) and steady images/s between them come
# from summary.json's pace and are printed in a table of their own; run at N=32 and N=160 to see the
# fixed cost amortised.
# Settings (environment): N images, IMAGES (folder they are taken from), TOKENS (default 32), BATCH for
# legs 2/5/6 (default 8), SWEEP, PROMPT, LEGS=3 (legs 1-3 only), WORK (scratch folder).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="$(cd "${1:?usage: bench/throughput.sh MODEL_DIR [--quick]}" && pwd)"
QUICK=0; [ "${2:-}" = "--quick" ] && QUICK=1
if [ "$QUICK" = 1 ]; then
  N="${N:-2}"; TOKENS="${TOKENS:-4}"; SWEEP="${SWEEP:-1 2}"
else
  N="${N:-16}"; TOKENS="${TOKENS:-32}"; SWEEP="${SWEEP:-1 2 4 8 16}"
fi
BATCH="${BATCH:-8}"
PROMPT="${PROMPT:-Can you describe this image?}"
CORES="$(nproc)"
FAMILY=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["model_type"])' "$MODEL/config.json")
case "$FAMILY" in
  idefics3) TASK_ARGS=(--task query --prompt "$PROMPT") ;;
  vision-encoder-decoder) TASK_ARGS=(--task caption) ;;
  *) echo "bench/throughput.sh: model_type $FAMILY: expected idefics3 (SmolVLM) or vision-encoder-decoder (vit-gpt2)" >&2; exit 2 ;;
esac
WORK="${WORK:-${TMPDIR:-/tmp}/moonbatch-throughput}"
rm -rf "$WORK" && mkdir -p "$WORK/images"

# N images of distinct content cycled from IMAGES (default: the demo images: real photos and synthetic
# product shots, several aspect ratios). Later cycles are mirrored (Pillow), so no image repeats one
# before it: SmolVLM's crop cache would get a repeated image for free, which says nothing about speed.
IMAGES="${IMAGES:-$ROOT/sample-data/images}"
mapfile -t SRC < <(find "$IMAGES" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' \) | sort)
for ((i = 0; i < N; i++)); do
  s="${SRC[$((i % ${#SRC[@]}))]}"; d="$WORK/images/$(printf '%04d' "$i").${s##*.}"; cycle=$((i / ${#SRC[@]}))
  if [ "$cycle" = 0 ]; then cp "$s" "$d"; else
    /usr/bin/python3 -c 'import sys; from PIL import Image, ImageOps
im = Image.open(sys.argv[1]).convert("RGB"); c = int(sys.argv[3])
im = ImageOps.mirror(im) if c % 2 else im
im = ImageOps.flip(im) if c // 2 % 2 else im
im.save(sys.argv[2], quality=95) if c < 4 else sys.exit("N > 4 x the source images: give more IMAGES")' "$s" "$d" "$cycle"
  fi
done
find "$WORK/images" -type f | sort > "$WORK/images.txt"

"$ROOT/run.sh" --help > /dev/null   # builds on first use
read -r -a JVM_FLAGS < "$ROOT/job/target/jvm-flags.txt"
CP="$ROOT/job/target/moonbatch-job.jar:$ROOT/job/target/lib/*:$ROOT/tools/spark-dist/target/jars/*"
export OPT_OUT_TRACKING=true DJL_CACHE_DIR="$ROOT/.djl-cache" SPARK_LOCAL_IP=127.0.0.1
export MOONBATCH_HOIST_CACHE="$WORK/hoist-cache"

rss_mb() { awk '/Maximum resident/ {printf "%.0f", $6/1024}' "$1"; }
num() { grep -oE "$1" "$2" | head -1 | grep -oE '[0-9]+(\.[0-9]+)?' | head -1; }
row() { printf '%-44s %10s %10s %12s %10s\n' "$@"; }
f3() { printf '%.3f' "$1"; }
ms() { echo "1000 / $1" | bc -l | xargs printf '%.0f'; }
declare -A IPS TPS RSS FIRST AFTER STEADY
pace() { /usr/bin/python3 -c 'import json, sys; p = json.load(open(sys.argv[1])).get("pace") or {}; print(p.get(sys.argv[2], 0))' "$1/summary.json" "$2"; }

# the job: $1 label, $2 master, $3 batch, $4 tokens, [$5 partitions]
job() {
  local label="$1" out="$WORK/out-$1"
  local parts=("--partitions" "${5:-0}")
  MOONBATCH_JAVA_OPTS="-Xmx8g -Dmoonbatch.bench.ignoreEos=true" /usr/bin/time -v "$ROOT/run.sh" \
    --input "$WORK/images" --output "$out" --model "$MODEL" --master "$2" --batch-size "$3" \
    --max-new-tokens "$4" "${TASK_ARGS[@]}" --no-resume "${parts[@]}" \
    > "$WORK/$label.txt" 2> "$WORK/$label.time" || { tail -20 "$WORK/$label.time"; exit 1; }
  # the job prints images/s with 2 decimals; N / its job seconds keeps the precision
  IPS[$label]=$(echo "$N / $(grep -oE 'in [0-9.]+ s' "$WORK/$label.txt" | head -1 | grep -oE '[0-9.]+')" | bc -l)
  TPS[$label]=$(echo "${IPS[$label]} * $4" | bc -l)
  RSS[$label]=$(rss_mb "$WORK/$label.time")
  # summary.json's pace: the fixed cost (to the first row, after the last) and the steady rate between
  FIRST[$label]=$(pace "$out" firstRowSeconds); AFTER[$label]=$(pace "$out" afterLastRowSeconds)
  STEADY[$label]=$(pace "$out" steadyRowsPerSecond)
}

echo "throughput: model $(basename "$MODEL"), $N images, $TOKENS new tokens (EOS ignored), fp32, $CORES cores, $(date -u +%FT%TZ)$([ $QUICK = 1 ] && echo ', QUICK smoke run')"

# 1. raw loop
if [ "$FAMILY" = idefics3 ]; then
  RAW=("$ROOT/bench/RawVlmLoop.java" "$MODEL" "$WORK/images.txt" "$PROMPT" "$TOKENS" "$CORES")
  TJS=("$ROOT/bench/tjs-vlm-bench.mjs" --model "$MODEL" --images-file "$WORK/images.txt" --prompt "$PROMPT"
       --max-new-tokens "$TOKENS" --threads "$CORES" --warmup 1)
else
  RAW=("$ROOT/bench/RawOrtLoop.java" "$MODEL" "$WORK/images" "$TOKENS" "$CORES" ignore-eos)
  TJS=("$ROOT/tools/reference/generate.mjs" --model "$MODEL" --images-file "$WORK/images.txt" --max-new-tokens "$TOKENS"
       --ignore-eos --timing --intra-op-threads "$CORES" --warmup 1)
  # the job's first run of a vit-gpt2 bundle makes the decoder-hoisting rewrite (cached): not timed
  MOONBATCH_JAVA_OPTS="-Xmx8g" "$ROOT/run.sh" --input "$WORK/images" --output "$WORK/out-warm" --model "$MODEL" \
    --max-new-tokens 2 --no-resume > /dev/null 2>&1
fi
/usr/bin/time -v java -Xmx8g "${JVM_FLAGS[@]}" -cp "$CP" "${RAW[@]}" > "$WORK/raw.txt" 2> "$WORK/raw.time" \
  || { tail -20 "$WORK/raw.time"; exit 1; }
IPS[raw]=$(num '[0-9.]+ images/s' "$WORK/raw.txt"); TPS[raw]=$(num '[0-9.]+ tokens/s' "$WORK/raw.txt"); RSS[raw]=$(rss_mb "$WORK/raw.time")

# 2. the job, local[2]
job "job" "local[2]" "$BATCH" "$TOKENS"

# 3. transformers.js
/usr/bin/time -v node "${TJS[@]}" > /dev/null 2> "$WORK/tjs.time" || { tail -20 "$WORK/tjs.time"; exit 1; }
IPS[tjs]=$(num 'images_per_s=[0-9.]+' "$WORK/tjs.time"); TPS[tjs]=$(num 'tokens_per_s=[0-9.]+' "$WORK/tjs.time"); RSS[tjs]=$(rss_mb "$WORK/tjs.time")

row "" "images/s" "ms/image" "tokens/s" "peak RSS"
row "raw ONNX Runtime loop ($CORES threads)" "$(f3 "${IPS[raw]}")" "$(ms "${IPS[raw]}")" "$(f3 "${TPS[raw]}")" "${RSS[raw]} MB"
row "moonbatch job, local[2], batch $BATCH" "$(f3 "${IPS[job]}")" "$(ms "${IPS[job]}")" "$(f3 "${TPS[job]}")" "${RSS[job]} MB"
row "transformers.js 4.3.1 ($CORES threads)" "$(f3 "${IPS[tjs]}")" "$(ms "${IPS[tjs]}")" "$(f3 "${TPS[tjs]}")" "${RSS[tjs]} MB"
grep 'vision encoder' "$WORK/raw.txt" || true
echo
printf '%-44s %14s %16s %14s\n' "job's fixed cost and steady rate" "to first row" "after last row" "steady img/s"
printf '%-44s %12s s %14s s %14s\n' "moonbatch job, local[2], batch $BATCH" "${FIRST[job]}" "${AFTER[job]}" "$(f3 "${STEADY[job]}")"
echo "(raw loop and transformers.js: images/s above are after 1 warm-up image, i.e. steady; the job's images/s include its fixed cost)"

[ "${LEGS:-all}" = 3 ] && { echo; echo "job / raw $(echo "${IPS[job]} / ${IPS[raw]}" | bc -l | xargs printf '%.2f'), job / transformers.js $(echo "${IPS[job]} / ${IPS[tjs]}" | bc -l | xargs printf '%.2f') (LEGS=3: legs 4-6 skipped)"; exit 0; }

# 4. batch-size sweep
echo; row "batch-size sweep (job, local[2])" "images/s" "ms/image" "tokens/s" "peak RSS"
for b in $SWEEP; do
  job "sweep-$b" "local[2]" "$b" "$TOKENS"
  row "  --batch-size $b" "$(f3 "${IPS[sweep-$b]}")" "$(ms "${IPS[sweep-$b]}")" "$(f3 "${TPS[sweep-$b]}")" "${RSS[sweep-$b]} MB"
done

# 5. TOKENS vs 2 x TOKENS
T2=$((TOKENS * 2))
job "tokens-$T2" "local[2]" "$BATCH" "$T2"
echo; row "new tokens (job, local[2], batch $BATCH)" "images/s" "ms/image" "tokens/s" "peak RSS"
row "  $TOKENS" "$(f3 "${IPS[job]}")" "$(ms "${IPS[job]}")" "$(f3 "${TPS[job]}")" "${RSS[job]} MB"
row "  $T2" "$(f3 "${IPS[tokens-$T2]}")" "$(ms "${IPS[tokens-$T2]}")" "$(f3 "${TPS[tokens-$T2]}")" "${RSS[tokens-$T2]} MB"

# 6. 1 vs 4 concurrent tasks in one executor (4 partitions either way)
job "tasks-1" "local[1]" "$BATCH" "$TOKENS" 4
job "tasks-4" "local[4]" "$BATCH" "$TOKENS" 4
echo; row "concurrent tasks in one executor" "images/s" "ms/image" "tokens/s" "peak RSS"
row "  1 (local[1])" "$(f3 "${IPS[tasks-1]}")" "$(ms "${IPS[tasks-1]}")" "$(f3 "${TPS[tasks-1]}")" "${RSS[tasks-1]} MB"
row "  4 (local[4])" "$(f3 "${IPS[tasks-4]}")" "$(ms "${IPS[tasks-4]}")" "$(f3 "${TPS[tasks-4]}")" "${RSS[tasks-4]} MB"

echo
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
check() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo MISSED; fi; }
R1=$(ratio "${IPS[job]}" "${IPS[raw]}"); R2=$(ratio "${IPS[job]}" "${IPS[tjs]}")
R3=$(ratio "${IPS[job]}" "${IPS[tokens-$T2]}"); R4=$(ratio "${RSS[tasks-4]}" "${RSS[tasks-1]}")
echo "1. job / raw images/s:            $R1 (target >= 0.90: $(check "$R1 >= 0.90"))"
echo "2. job / transformers.js:         $R2 (target >= 2: $(check "$R2 >= 2"))"
echo "3. time $T2 / $TOKENS tokens:           $R3 (target <= 2.2: $(check "$R3 <= 2.2"))"
echo "4. peak RSS 4 tasks / 1 task:     $R4 (target <= 1.25: $(check "$R4 <= 1.25"))"
echo "commands and raw outputs: $WORK"
