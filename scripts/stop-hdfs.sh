#!/usr/bin/env bash
# Stop the MiniDFSCluster started by scripts/start-hdfs.sh.
set -euo pipefail

PID_FILE="${HDFS_PID_FILE:-/tmp/recordstore-minidfs.pid}"
WAIT="${HDFS_STOP_TIMEOUT:-30}"

if [[ ! -f "$PID_FILE" ]]; then
  echo "stop-hdfs: no pid file ($PID_FILE); nothing to stop."
  exit 0
fi
pid="$(cat "$PID_FILE" 2>/dev/null || true)"
if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
  echo "stop-hdfs: pid ${pid:-?} not running; removing stale pid file."
  rm -f "$PID_FILE"
  exit 0
fi
if ! tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'io.recordstore.MiniDfs'; then
  echo "stop-hdfs: pid $pid is not the MiniDFS launcher; removing stale pid file." >&2
  rm -f "$PID_FILE"
  exit 0
fi

kill -TERM "$pid" 2>/dev/null || true
for ((i = 0; i < WAIT * 10; i++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "stop-hdfs: pid $pid did not exit after ${WAIT}s; sending KILL." >&2
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
rm -f "$PID_FILE"
echo "stop-hdfs: stopped (pid $pid)."
