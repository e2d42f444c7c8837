#!/usr/bin/env bash
# Precision variants side by side, in one run: for each bundle, the job (./run.sh --precision P, same
# images, same task, same max_new_tokens, same batch size) once per precision the family's real export
# ships, and for each variant images/s, peak RSS, the ONNX bytes loaded and greedy agreement with fp32
# (% of rows with identical text, and token-level agreement: bench/PrecisionAgreement.java re-encodes
# both texts with the bundle's tokenizer and counts equal tokens at equal positions).
#
# The variants are made in a scratch copy of each bundle (its fp32 files linked, never modified):
#   _fp16                       tools/bench-models/make_fp16_variant.py (float16 interface; weights float32)
#   _quantized _int8 _uint8     tools/bench-models/make_quantized_variant.py (dynamic 8-bit: MatMulInteger)
#   _q4 _q4f16                  tools/bench-models/make_quantized_variant.py (MatMulNBits, 4-bit blocks of 32)
# VARIANTS=bundle uses the variant files the bundle already has instead (a real export).
# Which precisions per family (../shared/reference-configs/<family>/**/onnx_files.txt lists the real
# exports' files): vit-gpt2 fp16 quantized; SmolVLM and moondream2 fp16 int8 uint8 quantized q4 q4f16;
# Florence-2 fp16 quantized q4 q4f16 (onnx-community ships these); BLIP-2 (no real ONNX export) fp16 quantized q4.
#
#   bench/precision-variants.sh sample-data/models/vit-gpt2-tiny sample-data/models/smolvlm-tiny
#   /usr/bin/python3 tools/bench-models/make_vitgpt2_real_size.py /tmp/vit-gpt2-real
#   N=8 TOKENS=20 EQUAL_WORK=1 PRECISIONS="fp16 quantized q4" bench/precision-variants.sh /tmp/vit-gpt2-real
#   /usr/bin/python3 tools/bench-models/make_smolvlm_real_size.py /tmp/smolvlm-real
#   N=4 TOKENS=16 EQUAL_WORK=1 JOB_ARGS="--image-splitting off" bench/precision-variants.sh /tmp/smolvlm-real
# Images: the family's held-out set (sample-data/heldout for vit-gpt2, heldout-vqa for the decoder-only
# VLMs, heldout-florence2/images/caption for Florence-2), the first N sorted. On the trained tiny bundles
# agreement is meaningful; on the real-size random-weight bundles it only says the variants run.
# Settings (environment): N (images, default 16), TOKENS (max new tokens; default: the family's),
# BATCH (default 8), PRECISIONS (instead of the family's list; fp32 always runs first), EQUAL_WORK=1
# (EOS never stops generation: every variant generates TOKENS tokens per image, for speed on random
# weights), WARM=1 (see below), VARIANTS=make|bundle, MASTER (default local[2]), JOB_ARGS (more job options, e.g.
# "--image-splitting off"), WORK (scratch folder).
# images/s is the job's (images / whole run, Spark start excluded); "process" is images / the process
# stage (model load + inference + Parquet). Each variant has its own caches (hoisting rewrite, optimised
# graphs): fresh, as a first run would, or made by an untimed one-image run first with WARM=1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: bench/precision-variants.sh BUNDLE..." >&2; exit 2; }
N="${N:-16}"; BATCH="${BATCH:-8}"; MASTER="${MASTER:-local[2]}"; VARIANTS="${VARIANTS:-make}"
WORK="${WORK:-${TMPDIR:-/tmp}/moonbatch-precision-variants}"
rm -rf "$WORK" && mkdir -p "$WORK"

"$ROOT/run.sh" --help > /dev/null   # builds on first use
read -r -a JVM_FLAGS < "$ROOT/job/target/jvm-flags.txt"
CP="$ROOT/job/target/moonbatch-job.jar:$ROOT/job/target/lib/*"
export OPT_OUT_TRACKING=true DJL_CACHE_DIR="${DJL_CACHE_DIR:-$ROOT/.djl-cache}" SPARK_LOCAL_IP=127.0.0.1

rss_mb() { awk '/Maximum resident/ {printf "%.0f", $6/1024}' "$1"; }
json() { /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d[k]
print(d)' "$1" "$2"; }
row() { printf '%-10s %9s %9s %9s %9s %10s %11s %11s\n' "$@"; }
echo "precision variants: $N images per bundle, batch $BATCH, $MASTER, $(nproc) cores, $(date -u +%FT%TZ)$([ "${EQUAL_WORK:-0}" = 1 ] && echo ", EOS ignored")$([ "${WARM:-0}" = 1 ] && echo ", warm caches")${JOB_ARGS:+, $JOB_ARGS}"

for MODEL_ARG in "$@"; do
  MODEL="$(cd "$MODEL_ARG" && pwd)"; NAME="$(basename "$MODEL")"
  FAMILY=$(json "$MODEL/config.json" model_type)
  case "$FAMILY" in
    vision-encoder-decoder) IMAGES="$ROOT/sample-data/heldout/images"; TASK=(--task caption); DEF="fp16 quantized" ;;
    idefics3|moondream1) IMAGES="$ROOT/sample-data/heldout-vqa/images"; TASK=(--task caption); DEF="fp16 int8 uint8 quantized q4 q4f16" ;;
    blip-2) IMAGES="$ROOT/sample-data/heldout-vqa/images"; TASK=(--task caption); DEF="fp16 quantized q4" ;;
    florence2) IMAGES="$ROOT/sample-data/heldout-florence2/images/caption"; TASK=(--task caption); DEF="fp16 quantized q4 q4f16" ;;
    *) echo "bench/precision-variants.sh: $NAME: model_type $FAMILY is not a family this bench knows" >&2; exit 2 ;;
  esac
  read -r -a PRECS <<< "${PRECISIONS:-$DEF}"
  W="$WORK/$NAME"; B="$W/$NAME"; mkdir -p "$W/images" "$B/onnx"
  find "$IMAGES" -maxdepth 1 -type f \( -name '*.png' -o -name '*.jpg' \) | sort | head -n "$N" | xargs -I{} cp {} "$W/images/"
  for f in "$MODEL"/*; do [ -f "$f" ] && ln -s "$f" "$B/"; done
  for f in "$MODEL"/onnx/*; do
    stem="$(basename "$f" .onnx)"
    if [ "$VARIANTS" = bundle ] || ! [[ "$stem" =~ _(fp16|int8|uint8|quantized|q4|q4f16|bnb4)$ ]]; then ln -s "$f" "$B/onnx/"; fi
  done
  if [ "$VARIANTS" = make ]; then
    MAKE=()
    for p in "${PRECS[@]}"; do
      case "$p" in
        fp16) /usr/bin/python3 "$ROOT/tools/bench-models/make_fp16_variant.py" "$B" > "$W/make-fp16.txt" ;;
        fp32) ;;
        *) MAKE+=("$p") ;;
      esac
    done
    [ ${#MAKE[@]} = 0 ] || /usr/bin/python3 "$ROOT/tools/bench-models/make_quantized_variant.py" "$B" \
      --precisions "$(IFS=,; echo "${MAKE[*]}")" > "$W/make-quantized.txt"
  fi
  n=$(find "$W/images" -type f | wc -l)
  echo; echo "== $NAME ($FAMILY), $n held-out images from ${IMAGES#"$ROOT"/}, ${TASK[*]}${TOKENS:+, --max-new-tokens $TOKENS}"
  row precision "onnx MB" "images/s" "process" "peak RSS" "same text" "token agree" "vs fp32"
  LIST=(fp32); for p in "${PRECS[@]}"; do [ "$p" = fp32 ] || LIST+=("$p"); done
  for p in "${LIST[@]}"; do
    out="$W/out-$p"
    EXTRA=(); [ -n "${TOKENS:-}" ] && EXTRA=(--max-new-tokens "$TOKENS")
    read -r -a MORE <<< "${JOB_ARGS:-}"; EXTRA+=("${MORE[@]}")
    OPTS="-Xmx6g"; [ "${EQUAL_WORK:-0}" = 1 ] && OPTS="$OPTS -Dmoonbatch.bench.ignoreEos=true"
    if [ "${WARM:-0}" = 1 ]; then   # untimed: one image, so the timed run finds its caches made
      mkdir -p "$W/warm-images"; [ -n "$(ls "$W/warm-images")" ] || cp "$(find "$W/images" -type f | sort | head -1)" "$W/warm-images/"
      MOONBATCH_HOIST_CACHE="$W/cache-$p/hoisted" MOONBATCH_ORT_CACHE="$W/cache-$p/ort" MOONBATCH_JAVA_OPTS="$OPTS" \
        "$ROOT/run.sh" --input "$W/warm-images" --output "$W/warm-$p" --model "$B" --precision "$p" --master "$MASTER" \
        --batch-size "$BATCH" "${TASK[@]}" "${EXTRA[@]}" --no-resume > "$W/warm-$p.txt" 2>&1 || { tail -20 "$W/warm-$p.txt"; exit 1; }
    fi
    MOONBATCH_HOIST_CACHE="$W/cache-$p/hoisted" MOONBATCH_ORT_CACHE="$W/cache-$p/ort" MOONBATCH_JAVA_OPTS="$OPTS" \
      /usr/bin/time -v "$ROOT/run.sh" --input "$W/images" --output "$out" --model "$B" --precision "$p" \
      --master "$MASTER" --batch-size "$BATCH" "${TASK[@]}" "${EXTRA[@]}" --no-resume \
      > "$W/$p.txt" 2> "$W/$p.time" || { tail -20 "$W/$p.time"; exit 1; }
    mb=$(for f in "$B"/onnx/*.onnx; do
           stem="$(basename "$f" .onnx)"; v=""; [[ "$stem" =~ _(fp16|int8|uint8|quantized|q4|q4f16|bnb4)$ ]] && v="${BASH_REMATCH[1]}"
           if [ "${v:-fp32}" = "$p" ]; then du -bL "$f"; fi
         done | awk '{s+=$1} END {printf "%.1f", s/1e6}')
    images=$(json "$out/summary.json" images); errors=$(json "$out/summary.json" errors)
    ips=$(json "$out/summary.json" imagesPerSecond); proc=$(json "$out/summary.json" stageSeconds.process)
    if [ "$p" = fp32 ]; then
      same="-"; tok="-"; vs="1.00x"; IPS32="$ips"
    else
      read -r rows st te tt < <(java "${JVM_FLAGS[@]}" -cp "$CP" "$ROOT/bench/PrecisionAgreement.java" "$B" "$W/out-fp32/results.csv" "$out/results.csv" 2> "$W/agree-$p.err" \
        | sed -E 's/[a-z_]+=//g' || true) || true
      [ -n "${tt:-}" ] || { rows="?"; st="?"; te=0; tt=1; echo "  (agreement failed: $W/agree-$p.err)"; }
      same="$st/$rows"; tok=$(echo "100 * $te / $tt" | bc -l | xargs printf '%.1f%%'); vs=$(echo "$ips / $IPS32" | bc -l | xargs printf '%.2fx')
    fi
    [ "$errors" = 0 ] || same="$same ($errors errors)"
    row "$p" "$mb" "$(printf '%.3f' "$ips")" "$(echo "$images / $proc" | bc -l | xargs printf '%.3f')" "$(rss_mb "$W/$p.time") MB" "$same" "$tok" "$vs"
    grep -h "decoder runs unchanged\|warning" "$W/$p.txt" "$W/$p.time" 2>/dev/null | sed -E "s/^.*(HoistedDecoder|warning): /           note: /" | sort -u | head -3 || true
  done
done
