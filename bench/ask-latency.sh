#!/usr/bin/env bash
# Latency of `./run.sh ask` on the committed bundles, one image, six questions piped on stdin:
#   cold_ms   starting the command to its first answer printed (JVM start, model load, image read,
#             decode and preprocess, vision encoding, generation), timed from outside;
#   first_ms  the first answer's generation alone (with the vision encoding), from ask's debug log;
#   warm_ms   each later answer of the same run (the model loaded, the image's features kept: what a
#             user typing questions waits per question), median and max, from ask's debug log.
# The demo bundle (vit-gpt2) only captions: one answer per run, so it has no warm answers.
#   bench/ask-latency.sh [RUNS] [BUNDLE...]      (default: 3 runs; every bundle in sample-data/models)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-3}"
shift || true
BUNDLES=("$@")
[ ${#BUNDLES[@]} -gt 0 ] || BUNDLES=(vit-gpt2-tiny smolvlm-tiny moondream2-tiny blip2-tiny florence2-tiny)
IMAGE="$ROOT/sample-data/heldout-vqa/images/vqa_000.png"
QUESTIONS=("What colour is the object?" "What shape is the object?" "What is the background?"
           "What colour is the object?" "What shape is the object?" "What is the background?")
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/log4j2.properties" <<'EOF'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %c{1}: %m%n
logger.ask.name = dev.moonbatch.job.AskCommand
logger.ask.level = debug
EOF
export MOONBATCH_LOG4J="$WORK/log4j2.properties"

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
max() { printf '%s\n' "$@" | sort -n | tail -1; }

"$ROOT/run.sh" --version >/dev/null # builds on first use, outside the timing
echo "ask latency: $(basename "$IMAGE"), $RUNS runs per bundle, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%F)"
printf '%-16s %9s %9s %9s %9s\n' bundle cold_ms first_ms warm_ms warm_max
for b in "${BUNDLES[@]}"; do
  colds=() firsts=() warms=()
  for _ in $(seq "$RUNS"); do
    if [ "$b" = vit-gpt2-tiny ]; then input=""; else input="$(printf '%s\n' "${QUESTIONS[@]}")"; fi
    start=$(date +%s%N)
    first=$(printf '%s' "$input" | "$ROOT/run.sh" ask --model "$ROOT/sample-data/models/$b" --image "$IMAGE" 2>"$WORK/err" \
      | { IFS= read -r _; date +%s%N; cat >/dev/null; })
    colds+=($(( (first - start) / 1000000 )))
    mapfile -t ms < <(sed -n 's/^AskCommand: answered in \([0-9]*\) ms$/\1/p' "$WORK/err")
    firsts+=("${ms[0]}")
    warms+=("${ms[@]:1}")
  done
  if [ ${#warms[@]} -eq 0 ]; then warm=- worst=-; else warm="$(median "${warms[@]}")" worst="$(max "${warms[@]}")"; fi
  printf '%-16s %9s %9s %9s %9s\n' "$b" "$(median "${colds[@]}")" "$(median "${firsts[@]}")" "$warm" "$worst"
done
echo "(medians over the runs; warm: the 5 later answers of every run)"
