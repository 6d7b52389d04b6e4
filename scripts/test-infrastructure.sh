#!/usr/bin/env bash
# Starts (or stops) throwaway PostgreSQL, Redis and S3-compatible servers on 127.0.0.1 for the adapter
# tests, and writes the variables that point the tests at them. Kafka needs no server: its tests use
# librdkafka's in-process mock cluster.
#
#   scripts/test-infrastructure.sh start   # then: source .data/test-infrastructure/env
#   scripts/test-infrastructure.sh stop
#
# Needs: PostgreSQL 15 server binaries, redis-server, Node.js/npm (see README, 'Running the tests').
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${AGENTPLATFORM_TEST_INFRA_DIR:-$root/.data/test-infrastructure}
pg_port=${AGENTPLATFORM_TEST_PG_PORT:-55432}
redis_port=${AGENTPLATFORM_TEST_REDIS_PORT:-56379}
s3_port=${AGENTPLATFORM_TEST_S3_PORT:-54568}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

wait_for_port() { # name port
  for _ in $(seq 1 300); do  # up to 30 s: a loaded machine starts node slowly
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$1 did not start listening on 127.0.0.1:$2" >&2
  return 1
}

start() {
  mkdir -p "$state"
  chmod 755 "$state"

  # PostgreSQL: a fresh cluster, trust auth on loopback only.
  rm -rf "$state/pg" "$state/pg-run"
  mkdir -p "$state/pg" "$state/pg-run"
  if [ "$(id -u)" = 0 ]; then chown postgres "$state/pg" "$state/pg-run"; fi
  as_postgres "$pg_bin/initdb -D '$state/pg' -U postgres --auth=trust -E UTF8 --no-locale --no-sync" >"$state/pg-init.log" 2>&1
  as_postgres "$pg_bin/pg_ctl -D '$state/pg' -w -l '$state/pg-run/postgres.log' -o \"-c listen_addresses=127.0.0.1 -p $pg_port -c fsync=off -c unix_socket_directories='$state/pg-run'\" start" >/dev/null

  # Redis: in memory only.
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize yes \
    --pidfile "$state/redis.pid" --logfile "$state/redis.log"
  wait_for_port Redis "$redis_port"

  # S3: s3rver (no signature checks; the adapter talks to it exactly as to MinIO or AWS).
  if [ ! -x "$root/scripts/s3rver/node_modules/.bin/s3rver" ]; then
    (cd "$root/scripts/s3rver" && npm ci --no-audit --no-fund --silent)
  fi
  rm -rf "$state/s3"
  mkdir -p "$state/s3"
  nohup "$root/scripts/s3rver/node_modules/.bin/s3rver" --directory "$state/s3" --address 127.0.0.1 --port "$s3_port" --silent \
    >"$state/s3.log" 2>&1 &
  echo $! >"$state/s3.pid"
  wait_for_port S3 "$s3_port"

  cat >"$state/env" <<ENV
export AGENTPLATFORM_TEST_POSTGRES='Host=127.0.0.1;Port=$pg_port;Username=postgres'
export AGENTPLATFORM_TEST_REDIS='127.0.0.1:$redis_port'
export AGENTPLATFORM_TEST_S3='Endpoint=http://127.0.0.1:$s3_port;AccessKey=S3RVER;SecretKey=S3RVER'
ENV
  echo "PostgreSQL 127.0.0.1:$pg_port, Redis 127.0.0.1:$redis_port, S3 127.0.0.1:$s3_port"
  echo "Point the tests at them with: source $state/env"
}

stop() {
  if [ -f "$state/pg/postmaster.pid" ]; then
    as_postgres "$pg_bin/pg_ctl -D '$state/pg' -m immediate stop >/dev/null" || true
  fi
  [ -f "$state/redis.pid" ] && kill "$(cat "$state/redis.pid")" 2>/dev/null || true
  [ -f "$state/s3.pid" ] && kill "$(cat "$state/s3.pid")" 2>/dev/null || true
  rm -f "$state/redis.pid" "$state/s3.pid"
}

case "${1:-}" in
  start) stop; start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
