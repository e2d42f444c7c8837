#!/usr/bin/env bash
# One run, one bundle, the same images, 20 new tokens, fp32, EOS ignored (equal work per image):
# transformers.js (tools/reference/generate.mjs --timing), moonbatch without the invariant-hoisting
# rewrite, moonbatch with it. Meant for the real-size random-weight vit-gpt2 bundle:
#   /usr/bin/python3 tools/bench-models/make_vitgpt2_real_size.py /tmp/vit-gpt2-real
#   bench/hoist-bench.sh /tmp/vit-gpt2-real [N_IMAGES] [BATCH]
# The rewrite is cached under $WORK/cache (made on the first "with" run, outside the timing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="$(cd "${1:?usage: bench/hoist-bench.sh MODEL_DIR [N_IMAGES] [BATCH]}" && pwd)"
N="${2:-16}"
BATCH="${3:-8}"
TOKENS="${TOKENS:-20}"
THREADS="${THREADS:-$(nproc)}"
WORK="${WORK:-${TMPDIR:-/tmp}/moonbatch-hoist-bench}"
mkdir -p "$WORK"

IMAGES="$ROOT/sample-data/heldout/images"
[ -d "$IMAGES" ] || IMAGES="$ROOT/sample-data/images"
mapfile -t SRC < <(find "$IMAGES" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' \) | sort | head -n "$N")
printf '%s\n' "${SRC[@]}" > "$WORK/images.txt"

# our side runs from model-runtime's own build (no dependency on the job jar being rebuilt)
(cd "$ROOT" && mvn -q -B -pl model-runtime compile dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" >/dev/null)
CP="$ROOT/model-runtime/target/classes:$(cat "$WORK/cp.txt")"
export OPT_OUT_TRACKING=true DJL_CACHE_DIR="$ROOT/.djl-cache"
JAVA=(java -Xmx6g -DOPT_OUT_TRACKING=true "-Dmoonbatch.hoist.cache=$WORK/cache" -cp "$CP" "$ROOT/bench/HoistBench.java")

echo "hoist bench: model $(basename "$MODEL"), ${#SRC[@]} images ($(basename "$IMAGES")), $TOKENS new tokens (EOS ignored), fp32, $THREADS threads, $(nproc) cores, $(date -u +%F)"
node "$ROOT/tools/reference/generate.mjs" --model "$MODEL" --max-new-tokens "$TOKENS" --ignore-eos --timing \
  --warmup 1 --intra-op-threads "$THREADS" --images-file "$WORK/images.txt" > "$WORK/tjs.json" 2> "$WORK/tjs.err"
TJS=$(grep -oE 'images_per_s=[0-9.]+' "$WORK/tjs.err" | head -1 | cut -d= -f2)

# make (or find) the cached rewrite first, so its one-time cost stays out of the timed runs
"${JAVA[@]}" "$MODEL" "$IMAGES" 1 2 "$THREADS" 1 on > /dev/null
OFF_LINE=$("${JAVA[@]}" "$MODEL" "$IMAGES" "${#SRC[@]}" "$TOKENS" "$THREADS" "$BATCH" off)
ON_LINE=$("${JAVA[@]}" "$MODEL" "$IMAGES" "${#SRC[@]}" "$TOKENS" "$THREADS" "$BATCH" on)
OFF=$(grep -oE '[0-9.]+ images/s' <<< "$OFF_LINE" | cut -d' ' -f1)
ON=$(grep -oE '[0-9.]+ images/s' <<< "$ON_LINE" | cut -d' ' -f1)

printf '%-44s %10s %12s\n' "" "images/s" "ms/image"
printf '%-44s %10.3f %12.1f\n' "transformers.js 4.3.1 (one image at a time)" "$TJS" "$(echo "1000 / $TJS" | bc -l)"
printf '%-44s %10.3f %12.1f\n' "moonbatch without rewrite (batch $BATCH)" "$OFF" "$(echo "1000 / $OFF" | bc -l)"
printf '%-44s %10.3f %12.1f\n' "moonbatch with rewrite (batch $BATCH)" "$ON" "$(echo "1000 / $ON" | bc -l)"
printf 'with / without: %.2fx (target >= 2.5x)   with / transformers.js: %.2fx (target >= 3x)\n' \
  "$(echo "$ON / $OFF" | bc -l)" "$(echo "$ON / $TJS" | bc -l)"
