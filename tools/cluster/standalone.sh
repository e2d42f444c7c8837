#!/usr/bin/env bash
# A real Spark standalone cluster on this machine, from the project's own jars (no Spark download):
# one master and N workers bound to 127.0.0.1, stopped by PID.
#
#   tools/cluster/standalone.sh start [N_WORKERS] [CORES_PER_WORKER] [MEMORY_PER_WORKER]   (default 2 1 2g)
#   tools/cluster/standalone.sh submit [moonbatch options...]   spark-submit the shaded jar to it
#   tools/cluster/standalone.sh stop
#
# State (SPARK_HOME, logs, PIDs) lives in ${MOONBATCH_CLUSTER_DIR:-target/cluster}. The master is
# spark://127.0.0.1:${MOONBATCH_MASTER_PORT:-7077}.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${MOONBATCH_CLUSTER_DIR:-$ROOT/target/cluster}"
PORT="${MOONBATCH_MASTER_PORT:-7077}"
MASTER="spark://127.0.0.1:$PORT"
SPARK_JARS="$ROOT/tools/spark-dist/target/jars"
APP_JAR="$ROOT/job/target/moonbatch-spark.jar"

export SPARK_HOME="$DIR/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1 OPT_OUT_TRACKING=true
export SPARK_LOG_DIR="$DIR/logs" SPARK_WORKER_DIR="$DIR/work"

need_build() {
  if [ ! -f "$APP_JAR" ] || [ ! -d "$SPARK_JARS" ]; then
    (cd "$ROOT" && mvn -q -B -DskipTests package) >&2
  fi
}

jvm() {
  read -r -a FLAGS < "$ROOT/job/target/jvm-flags.txt"
  java -Xmx512m "${FLAGS[@]}" -Dlog4j.configurationFile="$ROOT/tools/cluster/log4j2-cluster.properties" \
    -cp "$SPARK_HOME/jars/*" "$@"
}

wait_port() {  # wait until something listens on 127.0.0.1:$1
  for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done
  echo "standalone.sh: nothing listens on 127.0.0.1:$1 after 30 s (see $SPARK_LOG_DIR)" >&2; return 1
}

case "${1:-}" in
  start)
    need_build
    workers="${2:-2}" cores="${3:-1}" mem="${4:-2g}"
    mkdir -p "$SPARK_HOME" "$SPARK_LOG_DIR" "$SPARK_WORKER_DIR" "$DIR/pids"
    ln -sfn "$SPARK_JARS" "$SPARK_HOME/jars"
    jvm org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" --webui-port 0 \
      > "$SPARK_LOG_DIR/master.log" 2>&1 &
    echo $! > "$DIR/pids/master"
    wait_port "$PORT"
    for i in $(seq 1 "$workers"); do
      jvm org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores "$cores" --memory "$mem" \
        --webui-port 0 --work-dir "$SPARK_WORKER_DIR/worker-$i" "$MASTER" > "$SPARK_LOG_DIR/worker-$i.log" 2>&1 &
      echo $! > "$DIR/pids/worker-$i"
    done
    # Ready when the master log has registered every worker.
    for _ in $(seq 1 150); do
      [ "$(grep -c 'Registering worker' "$SPARK_LOG_DIR/master.log" || true)" -ge "$workers" ] && break; sleep 0.2
    done
    echo "$MASTER"
    ;;
  submit)
    shift
    need_build
    read -r -a FLAGS < "$ROOT/job/target/jvm-flags.txt"
    # Client mode: this JVM is the driver, so it gets the job's logging, not the daemons'.
    java -Xmx1g "${FLAGS[@]}" -Dlog4j.configurationFile="$ROOT/conf/log4j2.properties" -cp "$SPARK_HOME/jars/*" \
      org.apache.spark.deploy.SparkSubmit --master "$MASTER" --deploy-mode client \
      --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
      --conf spark.ui.enabled=false --conf "spark.executor.extraJavaOptions=-DOPT_OUT_TRACKING=true" \
      --class dev.moonbatch.job.MoonbatchCli "$APP_JAR" "$@"
    ;;
  stop)
    for f in "$DIR"/pids/*; do
      [ -f "$f" ] || continue
      pid=$(cat "$f")
      # The worker's executors are its children: stop them with it.
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill "$pid" 2>/dev/null || true
      rm -f "$f"
    done
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
