#!/usr/bin/env bash
# Stop the Redis servers started by scripts/start-redis.sh (same env variables).
set -euo pipefail

REDIS_PORT="${REDIS_PORT:-6390}"
REDIS_AUTH_PORT="${REDIS_AUTH_PORT:-6391}"
REDIS_CLUSTER_PORTS="${REDIS_CLUSTER_PORTS:-7001 7002 7003}"
REDIS_TLS_PORT="${REDIS_TLS_PORT:-6393}"
BASE="${REDIS_BASE_DIR:-/tmp/recordstore-redis}"

read -r -a CPORTS <<<"$REDIS_CLUSTER_PORTS"
for port in "$REDIS_PORT" "$REDIS_AUTH_PORT" "${CPORTS[@]}" "$REDIS_TLS_PORT"; do
  pid_file="$BASE/$port/redis.pid"
  if [[ ! -f "$pid_file" ]]; then
    echo "stop-redis: 127.0.0.1:$port: no pid file; nothing to stop."
    continue
  fi
  pid="$(cat "$pid_file" 2>/dev/null || true)"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    echo "stop-redis: 127.0.0.1:$port: pid ${pid:-?} not running; removing stale pid file."
    rm -f "$pid_file"
    continue
  fi
  if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server.*:$port"; then
    echo "stop-redis: pid $pid is not our redis-server on $port; leaving it." >&2
    rm -f "$pid_file"
    continue
  fi
  # TERM makes redis-server exit cleanly (fsyncing the AOF where there is one).
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "stop-redis: pid $pid did not exit after 10s; sending KILL." >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  echo "stop-redis: stopped 127.0.0.1:$port (pid $pid)."
done
