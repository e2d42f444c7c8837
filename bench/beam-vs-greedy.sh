#!/usr/bin/env bash
# Beam search (3 beams) against greedy search at the same fixed output length (no EOS, no logits
# processors: equal work per image) on the test bundles, side by side:
#   bench/beam-vs-greedy.sh [N_IMAGES] [BATCH]
# Environment: TOKENS (default 20), BEAMS (3), THREADS (nproc), REPEATS (3; the best run of each counts).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-16}"
BATCH="${2:-8}"
TOKENS="${TOKENS:-20}"
BEAMS="${BEAMS:-3}"
THREADS="${THREADS:-$(nproc)}"
REPEATS="${REPEATS:-3}"
WORK="${WORK:-${TMPDIR:-/tmp}/moonbatch-beam-bench}"
mkdir -p "$WORK"

# our side runs from model-runtime's own build (no dependency on the job jar being rebuilt)
(cd "$ROOT" && mvn -q -B -pl model-runtime compile dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" >/dev/null)
CP="$ROOT/model-runtime/target/classes:$(cat "$WORK/cp.txt")"
export OPT_OUT_TRACKING=true DJL_CACHE_DIR="$ROOT/.djl-cache"
JAVA=(java -Xmx4g -DOPT_OUT_TRACKING=true "-Drepeats=$REPEATS" "-Dmoonbatch.hoist.cache=$WORK/cache" -cp "$CP"
      "$ROOT/bench/BeamVsGreedyBench.java")

echo "beam vs greedy: $BEAMS beams, $TOKENS new tokens (no EOS), fp32, $THREADS threads, $(nproc) cores, $(date -u +%F)"
"${JAVA[@]}" "$ROOT/sample-data/models/vit-gpt2-tiny" "$ROOT/sample-data/heldout/images" "$N" "$TOKENS" "$THREADS" \
  "$BATCH" "$BEAMS" | tee "$WORK/vitgpt2.txt"
"${JAVA[@]}" "$ROOT/sample-data/models/florence2-tiny" "$ROOT/sample-data/heldout-florence2/images/caption" "$N" \
  "$TOKENS" "$THREADS" "$BATCH" "$BEAMS" "<CAPTION>" | tee "$WORK/florence2.txt"
printf '\n%-16s %14s %14s %8s\n' bundle "greedy ms/img" "beam ms/img" ratio
for f in vitgpt2 florence2; do
  sed -E 's/^([^:]+): greedy ([0-9.]+) ms\/image, [0-9]+ beams ([0-9.]+) ms\/image, ratio ([0-9.]+)x.*/\1 \2 \3 \4/' \
    "$WORK/$f.txt" | awk '{ printf "%-16s %14s %14s %7sx%s\n", $1, $2, $3, $4, ($4 <= 3.5 ? "" : "  (over the 3.5x target)") }'
done
