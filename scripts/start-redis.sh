#!/usr/bin/env bash
# Start the local Redis servers that recordstore's tests, fault tests and benches use.
#
#   scripts/start-redis.sh     # idempotent: servers that already answer are left alone
#   scripts/stop-redis.sh      # stops them all
#
# Starts, daemonized and on loopback only, with data under $REDIS_BASE_DIR:
#   - plain server     127.0.0.1:$REDIS_PORT (6390), appendonly yes, appendfsync always
#   - auth server      127.0.0.1:$REDIS_AUTH_PORT (6391), requirepass $REDIS_PASSWORD and an
#                      ACL user "app" with password $REDIS_APP_PASSWORD, no persistence
#   - 3-master cluster 127.0.0.1:$REDIS_CLUSTER_PORTS (7001 7002 7003), no persistence
#   - TLS server       127.0.0.1:$REDIS_TLS_PORT (6393), TLS only, with a test CA and a server
#                      certificate for 127.0.0.1 made by openssl in $REDIS_BASE_DIR/tls
#
# Env (all optional): REDIS_PORT=6390 REDIS_AUTH_PORT=6391 REDIS_CLUSTER_PORTS="7001 7002 7003"
#   REDIS_TLS_PORT=6393
#   REDIS_PASSWORD=recordstore-secret REDIS_APP_PASSWORD=app-secret
#   REDIS_BASE_DIR=/tmp/recordstore-redis REDIS_START_TIMEOUT=30 (seconds per server)
set -euo pipefail

REDIS_PORT="${REDIS_PORT:-6390}"
REDIS_AUTH_PORT="${REDIS_AUTH_PORT:-6391}"
REDIS_CLUSTER_PORTS="${REDIS_CLUSTER_PORTS:-7001 7002 7003}"
REDIS_TLS_PORT="${REDIS_TLS_PORT:-6393}"
REDIS_PASSWORD="${REDIS_PASSWORD:-recordstore-secret}"
REDIS_APP_PASSWORD="${REDIS_APP_PASSWORD:-app-secret}"
BASE="${REDIS_BASE_DIR:-/tmp/recordstore-redis}"
TIMEOUT="${REDIS_START_TIMEOUT:-30}"

# --- install (only when missing) -----------------------------------------------------------
# apt_install PACKAGE WHY: installs a Debian package, with sudo unless we are root.
apt_install() {
  echo "start-redis: $2 not found; installing $1 with apt-get..." >&2
  local sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "$1"
}
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  apt_install redis-server "redis-server"
  # Debian starts a system service on 6379; ours do not need it, and it does not conflict.
fi
if ! command -v openssl >/dev/null; then
  apt_install openssl "openssl (it makes the TLS server's certificates)"
fi

mkdir -p "$BASE"

# cli PORT [AUTH_PASSWORD] ARGS...: redis-cli against a loopback port, quiet about auth.
cli() {
  local port="$1" pass="$2"
  shift 2
  if [[ -n "$pass" ]]; then
    REDISCLI_AUTH="$pass" redis-cli -h 127.0.0.1 -p "$port" "$@"
  else
    redis-cli -h 127.0.0.1 -p "$port" "$@"
  fi
}

answers() { [[ "$(cli "$1" "${2:-}" PING 2>/dev/null)" == "PONG" ]]; }

wait_for() {
  local port="$1" pass="${2:-}"
  for ((i = 0; i < TIMEOUT * 10; i++)); do
    answers "$port" "$pass" && return 0
    sleep 0.1
  done
  echo "start-redis: 127.0.0.1:$port did not answer PING within ${TIMEOUT}s; log:" >&2
  tail -n 20 "$BASE/$port/redis.log" >&2 || true
  exit 1
}

# start PORT AUTH_PASSWORD EXTRA_ARGS...: daemonize a server unless one already answers.
start() {
  local port="$1" pass="$2"
  shift 2
  if answers "$port" "$pass"; then
    echo "start-redis: 127.0.0.1:$port already answering; left alone."
    return 0
  fi
  local dir="$BASE/$port"
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@"
  wait_for "$port" "$pass"
  echo "start-redis: started 127.0.0.1:$port (dir $dir)"
}

# 1. Plain server, durable: every acknowledged write is fsynced before the reply.
start "$REDIS_PORT" "" --save '' --appendonly yes --appendfsync always

# 2. Auth server: a default-user password and an ACL user "app".
start "$REDIS_AUTH_PORT" "$REDIS_PASSWORD" --save '' --appendonly no \
  --requirepass "$REDIS_PASSWORD" \
  --user app on ">$REDIS_APP_PASSWORD" '~*' '&*' '+@all'

# 3. Cluster: three masters, no replicas.
read -r -a CPORTS <<<"$REDIS_CLUSTER_PORTS"
for p in "${CPORTS[@]}"; do
  start "$p" "" --save '' --appendonly no --cluster-enabled yes \
    --cluster-config-file nodes.conf --cluster-node-timeout 5000
done

cluster_ok() { cli "${CPORTS[0]}" "" CLUSTER INFO 2>/dev/null | tr -d '\r' | grep -q '^cluster_state:ok$'; }
known_nodes() { cli "$1" "" CLUSTER INFO 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_known_nodes://p'; }

wait_cluster_ok() {
  for ((i = 0; i < TIMEOUT * 10; i++)); do
    cluster_ok && return 0
    sleep 0.1
  done
  return 1
}

if cluster_ok; then
  echo "start-redis: cluster on ${CPORTS[*]} already ok."
else
  # A restarted cluster reloads nodes.conf and becomes ok by itself; give it a moment.
  if [[ "$(known_nodes "${CPORTS[0]}")" == "${#CPORTS[@]}" ]] && (TIMEOUT=10 wait_cluster_ok); then
    echo "start-redis: cluster on ${CPORTS[*]} recovered."
  else
    # Fresh or inconsistent nodes: empty them and create the cluster from scratch.
    for p in "${CPORTS[@]}"; do
      cli "$p" "" FLUSHALL >/dev/null
      cli "$p" "" CLUSTER RESET HARD >/dev/null
    done
    addrs=()
    for p in "${CPORTS[@]}"; do addrs+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$BASE/cluster-create.log" 2>&1 || {
      echo "start-redis: cluster create failed:" >&2
      cat "$BASE/cluster-create.log" >&2
      exit 1
    }
    if ! wait_cluster_ok; then
      echo "start-redis: cluster on ${CPORTS[*]} did not reach cluster_state:ok" >&2
      cli "${CPORTS[0]}" "" CLUSTER INFO >&2 || true
      exit 1
    fi
    echo "start-redis: created cluster on ${CPORTS[*]}."
  fi
fi

# 4. TLS server: a private CA (the tests pass it as ?tls_ca=) signs a certificate for 127.0.0.1.
TLS="$BASE/tls"
tls_answers() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_TLS_PORT" --tls --cacert "$TLS/ca.crt" PING 2>/dev/null)" == "PONG" ]]
}
if [[ -f "$TLS/ca.crt" ]] && tls_answers; then
  echo "start-redis: 127.0.0.1:$REDIS_TLS_PORT (TLS) already answering; left alone."
else
  if [[ ! -s "$TLS/server.crt" ]]; then
    mkdir -p "$TLS"
    (
      cd "$TLS"
      openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
        -subj "/CN=recordstore test CA" 2>/dev/null
      openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
        -subj "/CN=127.0.0.1" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.cnf
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
        -out server.crt -days 3650 -extfile san.cnf 2>/dev/null
    )
  fi
  dir="$BASE/$REDIS_TLS_PORT"
  mkdir -p "$dir"
  redis-server --port 0 --tls-port "$REDIS_TLS_PORT" --bind 127.0.0.1 --protected-mode yes \
    --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --tls-cert-file "$TLS/server.crt" --tls-key-file "$TLS/server.key" \
    --tls-ca-cert-file "$TLS/ca.crt" --tls-auth-clients no --save '' --appendonly no
  for ((i = 0; i < TIMEOUT * 10; i++)); do
    tls_answers && break
    sleep 0.1
  done
  if ! tls_answers; then
    echo "start-redis: TLS server 127.0.0.1:$REDIS_TLS_PORT did not answer; log:" >&2
    tail -n 20 "$dir/redis.log" >&2 || true
    exit 1
  fi
  echo "start-redis: started 127.0.0.1:$REDIS_TLS_PORT (TLS, dir $dir)"
fi

echo "start-redis: ready:"
echo "  RECORDSTORE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
echo "  auth server 127.0.0.1:$REDIS_AUTH_PORT (default user password in \$REDIS_PASSWORD, ACL user app)"
echo "  RECORDSTORE_REDIS_CLUSTER_URL=redis+cluster://$(
  IFS=,
  a=()
  for p in "${CPORTS[@]}"; do a+=("127.0.0.1:$p"); done
  echo "${a[*]}"
)"
echo "  RECORDSTORE_REDIS_TLS_URL=rediss://127.0.0.1:$REDIS_TLS_PORT/0?tls_ca=$TLS/ca.crt"
