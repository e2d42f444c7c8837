#!/usr/bin/env bash
# Runs moonbatch locally: builds the project on first use (or when sources changed), then starts the
# job with plain java, Spark on the class path. All options go to the CLI: ./run.sh --help
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAR="$ROOT/job/target/moonbatch-job.jar"

needs_build() {
  [ ! -f "$JAR" ] || [ ! -d "$ROOT/tools/spark-dist/target/jars" ] && return 0
  [ -n "$(find "$ROOT/pom.xml" "$ROOT"/*/pom.xml "$ROOT"/*/src/main -newer "$JAR" -type f -print -quit 2>/dev/null)" ]
}
# The PP-OCR folder is the one model download the demo needs: name the script that makes it.
prev=""
for a in "$@"; do
  m=""; [ "$prev" = "--model" ] && m="$a"; case "$a" in --model=*) m="${a#--model=}" ;; esac
  if [ -n "$m" ] && [ ! -e "$m" ] && [[ "$m" == *ppocr* ]]; then
    echo "--model: no such model folder: $m (PP-OCRv4: run tools/models/fetch-ppocr.sh${m:+ $m})" >&2
    exit 2
  fi
  prev="$a"
done
if needs_build; then
  echo "moonbatch: building (first run takes a few minutes: Maven downloads Spark and ONNX Runtime)..." >&2
  (cd "$ROOT" && mvn -q -B -DskipTests package) >&2
fi

export OPT_OUT_TRACKING=true                       # DJL tokenizers: never phone home
export DJL_CACHE_DIR="${DJL_CACHE_DIR:-$ROOT/.djl-cache}"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
read -r -a JVM_FLAGS < "$ROOT/job/target/jvm-flags.txt"
exec java ${MOONBATCH_JAVA_OPTS:--Xmx4g} "${JVM_FLAGS[@]}" \
  -Dlog4j.configurationFile="${MOONBATCH_LOG4J:-$ROOT/conf/log4j2.properties}" \
  -Dmoonbatch.home="$ROOT" \
  -cp "$JAR:$ROOT/job/target/lib/*:$ROOT/tools/spark-dist/target/jars/*" dev.moonbatch.job.MoonbatchCli "$@"
