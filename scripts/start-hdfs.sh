#!/usr/bin/env bash
# Start a local single-node HDFS (MiniDFSCluster) for recordstore tests and users.
#
#   scripts/start-hdfs.sh        # builds on first run (Maven Central), then starts in background
#   scripts/stop-hdfs.sh         # stops it
#
# Env (all optional):
#   HDFS_NN_PORT=9000  HDFS_HTTP_PORT=9870  HDFS_DATA_DIR=/tmp/recordstore-minidfs (wiped on start)
#   HDFS_LOG=/tmp/recordstore-minidfs.log  HDFS_PID_FILE=/tmp/recordstore-minidfs.pid
#   HDFS_READY_FILE=<path>  (launcher also writes the READY line there)
#   HDFS_DATANODES=2 (also the replication; 2 lets small files close without a 500 ms wait)
#   HDFS_HEAP=1g  HDFS_JAVA_OPTS=<extra JVM flags>  HDFS_START_TIMEOUT=180 (seconds)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJ="$SCRIPT_DIR/minidfs"
TARGET="$PROJ/target"
CP_FILE="$TARGET/classpath.txt"

export HDFS_NN_PORT="${HDFS_NN_PORT:-9000}"
export HDFS_HTTP_PORT="${HDFS_HTTP_PORT:-9870}"
export HDFS_DATA_DIR="${HDFS_DATA_DIR:-/tmp/recordstore-minidfs}"
LOG="${HDFS_LOG:-/tmp/recordstore-minidfs.log}"
PID_FILE="${HDFS_PID_FILE:-/tmp/recordstore-minidfs.pid}"
TIMEOUT="${HDFS_START_TIMEOUT:-180}"
READY_LINE="READY hdfs://127.0.0.1:${HDFS_NN_PORT} http://127.0.0.1:${HDFS_HTTP_PORT}"
PROBE_URL="http://127.0.0.1:${HDFS_HTTP_PORT}/webhdfs/v1/?op=LISTSTATUS"

probe() { curl -sf -o /dev/null --max-time 5 "$PROBE_URL"; }

if probe; then
  echo "HDFS already answering on 127.0.0.1:${HDFS_HTTP_PORT}; not starting another."
  echo "$READY_LINE"
  exit 0
fi

# --- build (only when needed) -------------------------------------------------------------
needs_build() {
  [[ -s "$CP_FILE" && -f "$TARGET/classes/io/recordstore/MiniDfs.class" ]] || return 0
  [[ "$CP_FILE" -nt "$PROJ/pom.xml" ]] || return 0
  local f
  while IFS= read -r f; do
    [[ "$TARGET/classes/io/recordstore/MiniDfs.class" -nt "$f" ]] || return 0
  done < <(find "$PROJ/src" -type f)
  # every cached jar must still be in the local repository
  local IFS=:
  for f in $(cat "$CP_FILE"); do [[ -e "$f" ]] || return 0; done
  return 1
}

if needs_build; then
  command -v mvn >/dev/null || { echo "start-hdfs: mvn not found" >&2; exit 1; }
  echo "start-hdfs: building MiniDFS launcher (first run downloads Hadoop from Maven Central)..." >&2
  mvn_args=(-B -q -f "$PROJ/pom.xml" compile dependency:build-classpath "-Dmdep.outputFile=$CP_FILE")
  # Offline first (fast, works without network once ~/.m2 is warm), online as fallback.
  if ! mvn -o "${mvn_args[@]}" >"$TARGET.build.log" 2>&1; then
    if ! mvn "${mvn_args[@]}" >"$TARGET.build.log" 2>&1; then
      echo "start-hdfs: maven build failed:" >&2
      tail -n 40 "$TARGET.build.log" >&2
      exit 1
    fi
  fi
  rm -f "$TARGET.build.log"
fi

# --- start --------------------------------------------------------------------------------
pid=""
if [[ -f "$PID_FILE" ]]; then
  old="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ -n "$old" ]] && kill -0 "$old" 2>/dev/null \
     && tr '\0' ' ' < "/proc/$old/cmdline" 2>/dev/null | grep -q 'io.recordstore.MiniDfs'; then
    echo "start-hdfs: launcher pid $old is still starting; waiting for it." >&2
    pid="$old"
  fi
fi

if [[ -z "$pid" ]]; then
  JAVA_FLAGS=(
    "-Xmx${HDFS_HEAP:-1g}" -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -Djava.net.preferIPv4Stack=true
    # Hadoop 3.x on Java 17: jersey/JAXB (WebHDFS) and others need these opened.
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
    --add-opens=java.base/sun.security.action=ALL-UNNAMED
    --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  )
  # shellcheck disable=SC2206
  [[ -n "${HDFS_JAVA_OPTS:-}" ]] && JAVA_FLAGS+=(${HDFS_JAVA_OPTS})
  mkdir -p "$(dirname "$LOG")" "$(dirname "$PID_FILE")"
  : >"$LOG"
  nohup setsid java "${JAVA_FLAGS[@]}" -cp "$TARGET/classes:$(cat "$CP_FILE")" \
    io.recordstore.MiniDfs </dev/null >>"$LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
fi

# --- wait for READY + WebHDFS -------------------------------------------------------------
start=$SECONDS
while :; do
  if grep -q '^READY ' "$LOG" 2>/dev/null && probe; then
    grep -m1 '^READY ' "$LOG"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-hdfs: launcher (pid $pid) exited before becoming ready; last log lines ($LOG):" >&2
    tail -n 40 "$LOG" >&2
    rm -f "$PID_FILE"
    exit 1
  fi
  if (( SECONDS - start >= TIMEOUT )); then
    echo "start-hdfs: not ready after ${TIMEOUT}s (pid $pid still running; see $LOG)" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi
  sleep 1
done
