#!/usr/bin/env bash
# One run, same bundle, same images, same max_new_tokens: a raw ONNX Runtime loop in Java (the limit)
# against the moonbatch Spark job on local[2]. Prints images/s and ms/image side by side.
# Usage: bench/raw-vs-job.sh [MODEL_DIR] [N_IMAGES]   (defaults: the demo model, 600 images)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${1:-$ROOT/sample-data/models/vit-gpt2-tiny}"
N="${2:-600}"
TOKENS="${TOKENS:-20}"
WORK="$ROOT/bench/work"
rm -rf "$WORK" && mkdir -p "$WORK/images"

# N images cycled from the held-out set, each a distinct file.
mapfile -t SRC < <(find "$ROOT/sample-data/heldout/images" -type f -name '*.png' | sort)
for ((i = 0; i < N; i++)); do cp "${SRC[$((i % ${#SRC[@]}))]}" "$WORK/images/$(printf '%05d' "$i").png"; done

"$ROOT/run.sh" --help > /dev/null   # builds on first use
read -r -a JVM_FLAGS < "$ROOT/job/target/jvm-flags.txt"
CP="$ROOT/job/target/moonbatch-job.jar:$ROOT/job/target/lib/*:$ROOT/tools/spark-dist/target/jars/*"
export OPT_OUT_TRACKING=true DJL_CACHE_DIR="$ROOT/.djl-cache"

rss() { awk '/Maximum resident/ {printf "%.0f MB", $6/1024}' "$1"; }
echo "bench: $N images, max_new_tokens=$TOKENS, model $(basename "$MODEL"), $(nproc) cores, $(date -u +%F)"

/usr/bin/time -v java "${JVM_FLAGS[@]}" -cp "$CP" "$ROOT/bench/RawOrtLoop.java" "$MODEL" "$WORK/images" "$TOKENS" "$(nproc)" \
  > "$WORK/raw.txt" 2> "$WORK/raw.time"
RAW=$(grep -o '[0-9.]* images/s' "$WORK/raw.txt" | cut -d' ' -f1)

START=$(date +%s.%N)
/usr/bin/time -v "$ROOT/run.sh" --input "$WORK/images" --output "$WORK/out" --model "$MODEL" --master 'local[2]' \
  --max-new-tokens "$TOKENS" > "$WORK/job.txt" 2> "$WORK/job.time"
END=$(date +%s.%N)
JOB=$(grep -o '[0-9.]* images/s' "$WORK/job.txt" | head -1 | cut -d' ' -f1)
JOB_WALL=$(echo "$N / ($END - $START)" | bc -l)

printf '%-34s %10s %12s %12s\n' "" "images/s" "ms/image" "peak RSS"
printf '%-34s %10.2f %12.1f %12s\n' "raw ORT loop (1 image at a time)" "$RAW" "$(echo "1000 / $RAW" | bc -l)" "$(rss "$WORK/raw.time")"
printf '%-34s %10.2f %12.1f %12s\n' "moonbatch job, local[2] (job)" "$JOB" "$(echo "1000 / $JOB" | bc -l)" "$(rss "$WORK/job.time")"
printf '%-34s %10.2f %12.1f\n' "moonbatch job incl. JVM+Spark start" "$JOB_WALL" "$(echo "1000 / $JOB_WALL" | bc -l)"
printf 'job / raw: %.2f\n' "$(echo "$JOB / $RAW" | bc -l)"
