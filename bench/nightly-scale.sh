#!/usr/bin/env bash
# A nightly rerun over a catalogue where 0.1% changed: synthetic catalogues of SIZES files (sparse
# 300 KB files, distinct bytes; prior results synthesized, so only the changed files need the
# model), then three runs side by side on the same catalogue and prior output:
#   baseline   the landed code before this work (BASELINE commit: reads and hashes every file)
#   verify     this code with --verify-content (reads and hashes every file)
#   default    this code (unchanged files are not opened)
#   delta      this code with --table-format delta (the night merges what changed into a Delta table)
# Prints wall time, µs per unchanged image, image bytes read, driver peak heap / RSS, files and bytes written.
# Usage: SIZES="10000 100000" bench/nightly-scale.sh      (SIZE_KB=300, BASELINE=85cccc2,
#        RUNS="baseline verify default delta": the legs to run; DRIVER_HEAP=4g: -Xmx of this code's legs)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZES="${SIZES:-10000 100000}"
SIZE_KB="${SIZE_KB:-300}"
BASELINE="${BASELINE:-85cccc2}"
RUNS="${RUNS:-baseline verify default delta}"
DRIVER_HEAP="${DRIVER_HEAP:-4g}"
WORK="$ROOT/bench/work/nightly"
mkdir -p "$WORK"
export OPT_OUT_TRACKING=true DJL_CACHE_DIR="$ROOT/.djl-cache" SPARK_LOCAL_IP=127.0.0.1
LOG4J="$ROOT/tools/cluster/log4j2-cluster.properties"

"$ROOT/run.sh" --help > /dev/null
read -r -a JVM_FLAGS < "$ROOT/job/target/jvm-flags.txt"
CP="$ROOT/job/target/moonbatch-job.jar:$ROOT/job/target/lib/*:$ROOT/tools/spark-dist/target/jars/*"

# the baseline: the landed code, built once in a worktree
BASE="$WORK/baseline-src"
if [ ! -x "$BASE/run.sh" ]; then
  git -C "$ROOT" worktree add -f "$BASE" "$BASELINE" > /dev/null 2>&1 || git -C "$ROOT" worktree add -f --detach "$BASE" "$BASELINE"
fi
[ -f "$BASE/job/target/moonbatch-job.jar" ] || (cd "$BASE" && mvn -q -B -o -DskipTests package)

# one real run gives the schema, the options key and a model-made row to copy
TEMPLATE="$WORK/template"
rm -rf "$TEMPLATE" && mkdir -p "$TEMPLATE/in"
cp "$ROOT/sample-data/images/synthetic_red_mug_white.jpg" "$TEMPLATE/in/"
MOONBATCH_LOG4J="$LOG4J" "$ROOT/run.sh" --input "$TEMPLATE/in" --output "$TEMPLATE/out" --master 'local[2]' > "$WORK/template.log" 2>&1

# one run, watched: wall seconds, peak RSS (MB) and bytes read by the process (rchar)
measure() { # OUT_PREFIX RUN_SH ARGS...
  local prefix="$1"; shift
  local start end pid rchar=0 rss=0
  start=$(date +%s.%N)
  MOONBATCH_LOG4J="$LOG4J" "$@" > "$prefix.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2> /dev/null; do
    r=$(awk '/^rchar/ {print $2}' "/proc/$pid/io" 2> /dev/null || echo 0); [ -n "$r" ] && [ "$r" -gt "$rchar" ] && rchar=$r
    m=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2> /dev/null || echo 0); [ -n "$m" ] && [ "$m" -gt "$rss" ] && rss=$m
    sleep 0.2
  done
  wait "$pid" || { echo "run failed: $prefix.log"; tail -20 "$prefix.log"; exit 1; }
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc -l) $((rss / 1024)) $rchar" > "$prefix.measure"
}

printf '%-9s %-9s %8s %8s %10s %12s %9s %9s %10s %13s %12s %8s %9s\n' "images" "run" "wall s" "process" "µs/unchg" "image bytes" "heap MB" "RSS MB" "files" "bytes written" "table bytes" "computed" "beyond s"
for N in $SIZES; do
  CAT="$WORK/cat-$N"
  PRIOR="$WORK/prior-$N"
  if [ ! -f "$PRIOR/results.parquet/_SUCCESS" ]; then
    rm -rf "$CAT" "$PRIOR"
    java "${JVM_FLAGS[@]}" -Xmx6g -cp "$CP" "$ROOT/bench/NightlyCatalogue.java" "$CAT" "$N" "$SIZE_KB" "$TEMPLATE/out" "$PRIOR" > "$WORK/gen-$N.log" 2>&1
    rm -rf "$PRIOR-delta"
  fi
  if [[ " $RUNS " == *" delta "* && ! -d "$PRIOR-delta/results.delta/_delta_log" ]]; then
    rm -rf "$PRIOR-delta" && cp -r "$PRIOR" "$PRIOR-delta"
    java "${JVM_FLAGS[@]}" -Xmx4g -cp "$CP" "$ROOT/bench/ToDelta.java" "$PRIOR-delta" > "$WORK/delta-$N.log" 2>&1
  fi
  # 0.1% changed: real JPEGs (distinct trailing bytes), so the model computes them
  CHANGED=$(( N / 1000 ))
  mapfile -t SRC < <(ls "$ROOT"/sample-data/images/*.jpg)
  for ((i = 0; i < CHANGED; i++)); do
    f=$(printf '%s/d%04d/sku-%07d.jpg' "$CAT" $(( (i * 997) % N / 1000 )) $(( (i * 997) % N )))
    { cat "${SRC[$((i % ${#SRC[@]}))]}"; printf 'moonbatch-changed-%d-%s' "$i" "$(date +%s%N)"; } > "$f"
  done
  # the changed images alone, on a fresh output: their inference plus the JVM and Spark start,
  # which "beyond" subtracts from each rerun
  CHG="$WORK/changed-$N"
  rm -rf "$CHG" && mkdir -p "$CHG"
  for ((i = 0; i < CHANGED; i++)); do
    ln "$(printf '%s/d%04d/sku-%07d.jpg' "$CAT" $(( (i * 997) % N / 1000 )) $(( (i * 997) % N )))" "$CHG/"
  done
  rm -rf "$WORK/out-$N-changed"
  measure "$WORK/$N-changed" "$ROOT/run.sh" --input "$CHG" --output "$WORK/out-$N-changed" --master 'local[2]'
  read -r CHG_WALL _ _ < "$WORK/$N-changed.measure"
  printf '%-9s %-9s %8.1f %8s %10s %12s %9s %9s %10s %13s %12s %8s %9s\n' "$N" "changed" "$CHG_WALL" "-" "-" "-" "-" "-" "-" "-" "-" "$CHANGED" "-"
  for RUN in $RUNS; do
    OUT="$WORK/out-$N-$RUN"
    rm -rf "$OUT" && if [ "$RUN" = delta ]; then cp -r "$PRIOR-delta" "$OUT"; else cp -r "$PRIOR" "$OUT"; fi
    touch "$WORK/marker"; sleep 1
    case $RUN in
      baseline) measure "$WORK/$N-$RUN" "$BASE/run.sh" --input "$CAT" --output "$OUT" --master 'local[2]' ;;
      verify)   MOONBATCH_JAVA_OPTS="-Xmx$DRIVER_HEAP" measure "$WORK/$N-$RUN" "$ROOT/run.sh" --input "$CAT" --output "$OUT" --master 'local[2]' --verify-content ;;
      default)  MOONBATCH_JAVA_OPTS="-Xmx$DRIVER_HEAP" measure "$WORK/$N-$RUN" "$ROOT/run.sh" --input "$CAT" --output "$OUT" --master 'local[2]' ;;
      delta)    MOONBATCH_JAVA_OPTS="-Xmx$DRIVER_HEAP" measure "$WORK/$N-$RUN" "$ROOT/run.sh" --input "$CAT" --output "$OUT" --master 'local[2]' --table-format delta ;;
    esac
    read -r WALL RSS RCHAR < "$WORK/$N-$RUN.measure"
    FILES=$(find "$OUT" -type f -newer "$WORK/marker" -not -path '*/review/thumbs/*' | wc -l)
    WROTE=$(find "$OUT" -type f -newer "$WORK/marker" -not -path '*/review/thumbs/*' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    TABLE=$(for t in "$OUT"/results.parquet "$OUT"/results.delta; do if [ -d "$t" ]; then find "$t" -type f -newer "$WORK/marker" -printf '%s\n'; fi; done | awk '{s += $1} END {print s + 0}')
    THUMBS=0; [ -d "$OUT/review/thumbs" ] && THUMBS=$(find "$OUT/review/thumbs" -type f -newer "$WORK/marker" | wc -l)
    SUMMARY="$OUT/summary.json"
    PROCESS=$(python3 -c "import json;print(json.load(open('$SUMMARY'))['stageSeconds']['process'])")
    COMPUTED=$(python3 -c "import json;print(json.load(open('$SUMMARY'))['computed'])")
    BYTES=$(python3 -c "import json;s=json.load(open('$SUMMARY'));print(s.get('imageBytesRead', 'rchar:%d' % $RCHAR))")
    HEAP=$(python3 -c "import json;s=json.load(open('$SUMMARY'));print(s.get('driverPeakHeapMb', '-'))")
    BEYOND=$(echo "$WALL - $CHG_WALL" | bc -l)
    PER=$(echo "$BEYOND * 1000000 / ($N - $CHANGED)" | bc -l)
    printf '%-9s %-9s %8.1f %8.1f %10.1f %12s %9s %9s %10s %13s %12s %8s %9.1f\n' "$N" "$RUN" "$WALL" "$PROCESS" "$PER" "$BYTES" "$HEAP" "$RSS" "$FILES+$THUMBS" "$WROTE" "$TABLE" "$COMPUTED" "$BEYOND"
  done
done
echo "changed: the changed images alone on a fresh output (their inference + JVM and Spark start); beyond s: a rerun's wall time minus that; µs/unchg: beyond s over the unchanged images; image bytes: summary.json imageBytesRead (baseline: the process's rchar, jars included); files: files written under the output (Parquet parts and their .crc, Delta log entries, CSVs, page) + thumbnails (one per changed image); bytes written: their bytes, thumbnails left out; table bytes: those of the results table (results.parquet or results.delta)"
