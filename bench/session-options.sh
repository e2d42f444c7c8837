#!/usr/bin/env bash
# ONNX Runtime session settings, measured on the job itself: the same bundle, images and
# max_new_tokens (EOS ignored) through `run.sh --master local[2]` once per setting of graph
# optimization level (NO / BASIC / EXTENDED / ALL) and CPU memory arena (on / off). Prints images/s,
# ms/image and peak RSS per setting, so the defaults in OrtSessions can be checked.
# Usage: bench/session-options.sh MODEL_DIR [N_IMAGES] [TASK_ARGS...]
#   bench/session-options.sh /tmp/vit-gpt2-real 48
#   IMAGES=sample-data/images bench/session-options.sh /tmp/smolvlm-real 3 --task query --prompt "Describe it."
# Settings (environment): IMAGES (folder, default the held-out VQA images), TOKENS (32), BATCH (8), WORK.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="$(cd "${1:?usage: bench/session-options.sh MODEL_DIR [N_IMAGES] [TASK_ARGS...]}" && pwd)"
N="${2:-48}"; shift $(( $# >= 2 ? 2 : 1 ))
TOKENS="${TOKENS:-32}"; BATCH="${BATCH:-8}"
WORK="${WORK:-${TMPDIR:-/tmp}/moonbatch-session-options}"
rm -rf "$WORK" && mkdir -p "$WORK/images"
IMAGES="${IMAGES:-$ROOT/sample-data/heldout-vqa/images}"
mapfile -t SRC < <(find "$IMAGES" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' \) | sort)
[ "$N" -le "${#SRC[@]}" ] || { echo "at most ${#SRC[@]} images (distinct content)"; exit 2; }
for ((i = 0; i < N; i++)); do cp "${SRC[$i]}" "$WORK/images/"; done
"$ROOT/run.sh" --help > /dev/null   # builds on first use
export MOONBATCH_HOIST_CACHE="$WORK/hoist-cache"
# a first run makes the decoder hoisting cache (vit-gpt2), so that no measured run pays for it
MOONBATCH_JAVA_OPTS="-Xmx8g" "$ROOT/run.sh" --input "$WORK/images" --output "$WORK/warm" --model "$MODEL" \
  --max-new-tokens 2 --no-resume "$@" > /dev/null 2>&1

echo "session options: model $(basename "$MODEL"), $N images, $TOKENS new tokens (EOS ignored), batch $BATCH, local[2], $(nproc) cores, $(date -u +%FT%TZ)"
printf '%-26s %10s %10s %10s\n' "setting" "images/s" "ms/image" "peak RSS"
for setting in ALL_OPT:true EXTENDED_OPT:true BASIC_OPT:true NO_OPT:true ALL_OPT:false; do
  level="${setting%%:*}"; arena="${setting##*:}"; out="$WORK/out-$level-$arena"
  MOONBATCH_JAVA_OPTS="-Xmx8g -Dmoonbatch.bench.ignoreEos=true -Dmoonbatch.bench.ortOptLevel=$level -Dmoonbatch.bench.ortCpuArena=$arena" \
    /usr/bin/time -v "$ROOT/run.sh" --input "$WORK/images" --output "$out" --model "$MODEL" --master 'local[2]' \
    --batch-size "$BATCH" --max-new-tokens "$TOKENS" --no-resume "$@" > "$out.txt" 2> "$out.time" \
    || { tail -20 "$out.time"; exit 1; }
  secs=$(grep -oE 'in [0-9.]+ s' "$out.txt" | head -1 | grep -oE '[0-9.]+')
  printf '%-26s %10.3f %10.0f %7.0f MB\n' "$level, arena $arena" "$(echo "$N / $secs" | bc -l)" \
    "$(echo "1000 * $secs / $N" | bc -l)" "$(awk '/Maximum resident/ {print $6/1024}' "$out.time")"
done
