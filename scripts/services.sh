#!/usr/bin/env bash
# Start, stop or describe a private PostgreSQL and Redis for the integration tests.
#
#   scripts/services.sh start   # idempotent: starts what is not running, then prints `env`
#   scripts/services.sh stop    # stops both (data kept; `start` reuses it)
#   scripts/services.sh status  # exit 0 when both answer
#   scripts/services.sh env     # export AMPP_TEST_PG_URL=... AMPP_TEST_REDIS_URL=...
#   scripts/services.sh clean   # stop, then delete the data
#
# Both are our own instances (fixed ports, data under AMPP_SERVICES_DIR) and never the
# cluster Debian's postinst may have started on 5432, so tests behave the same everywhere.
# Needs Debian's postgresql and redis-server (scripts/install-deps.sh). As root, PostgreSQL
# runs as the `postgres` user, which is why the data lives under /tmp and not under $HOME.
# PostgreSQL runs with fsync off: it holds test data only.
set -euo pipefail

DIR="${AMPP_SERVICES_DIR:-${TMPDIR:-/tmp}/ampp-services-$(id -u)}"
PG_PORT="${AMPP_PG_PORT:-55432}"
REDIS_PORT="${AMPP_REDIS_PORT:-56379}"
PG_DATA="$DIR/pg"
PG_LOG="$DIR/pg.log"
REDIS_DIR="$DIR/redis"

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }

pg_bin() {
  local d
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  if [ ! -x "$d/pg_ctl" ]; then
    die "PostgreSQL not found under /usr/lib/postgresql (run scripts/install-deps.sh)"
  fi
  echo "$d"
}

# Run a PostgreSQL binary as the user owning the data: `postgres` when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_env() { echo "postgresql://postgres@127.0.0.1:$PG_PORT/postgres"; }
redis_env() { echo "redis://127.0.0.1:$REDIS_PORT/0"; }

pg_running() {
  local bin
  bin="$(pg_bin)"
  [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$bin/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1 \
    && "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2
}

redis_running() {
  command -v redis-cli >/dev/null || return 1
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true)" = PONG ]
}

start_pg() {
  local bin
  bin="$(pg_bin)"
  if pg_running; then
    return 0
  fi
  mkdir -p "$DIR"
  chmod 755 "$DIR"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    log "initdb $PG_DATA"
    rm -rf "$PG_DATA"
    mkdir -p "$PG_DATA"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_DATA"; fi
    chmod 700 "$PG_DATA"
    as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C \
      --no-sync >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    cat >>"$PG_DATA/postgresql.conf" <<EOF
# scripts/services.sh: a throwaway test instance
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DATA'
max_connections = 300
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
  fi
  if [ "$(id -u)" = 0 ]; then touch "$PG_LOG" && chown postgres: "$PG_LOG"; fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg "$bin/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -s 9>&- \
    || { tail -n 30 "$PG_LOG" >&2 || true; die "PostgreSQL did not start (log: $PG_LOG)"; }
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 30 || die "PostgreSQL is not accepting connections"
}

stop_pg() {
  local bin
  bin="$(pg_bin)"
  if [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$bin/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    as_pg "$bin/pg_ctl" stop -D "$PG_DATA" -m fast -w -s
  fi
}

start_redis() {
  if redis_running; then
    return 0
  fi
  command -v redis-server >/dev/null || die "redis-server not found (run scripts/install-deps.sh)"
  mkdir -p "$REDIS_DIR"
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$REDIS_DIR" \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --save "" --appendonly no >/dev/null 9>&-
  for _ in $(seq 1 100); do
    redis_running && return 0
    sleep 0.1
  done
  tail -n 30 "$REDIS_DIR/redis.log" >&2 || true
  die "Redis did not start (log: $REDIS_DIR/redis.log)"
}

stop_redis() {
  if redis_running; then
    log "stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -f "$REDIS_DIR/redis.pid" ]; then
    local pid
    pid="$(cat "$REDIS_DIR/redis.pid")"
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    rm -f "$REDIS_DIR/redis.pid"
  fi
}

print_env() {
  echo "export AMPP_TEST_PG_URL=$(pg_env) AMPP_TEST_REDIS_URL=$(redis_env)"
}

# Serialize concurrent invocations (parallel test sessions) so two never initdb one directory.
with_lock() {
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock 9
  local rc=0
  "$@" || rc=$?
  exec 9>&-
  return $rc
}

cmd="${1:-}"
case "$cmd" in
  start)
    with_lock start_pg
    start_redis
    print_env
    ;;
  stop)
    with_lock stop_pg
    stop_redis
    ;;
  status)
    ok=0
    if pg_running; then log "PostgreSQL: up ($(pg_env))"; else log "PostgreSQL: down"; ok=1; fi
    if redis_running; then log "Redis: up ($(redis_env))"; else log "Redis: down"; ok=1; fi
    exit $ok
    ;;
  env)
    print_env
    ;;
  clean)
    with_lock stop_pg
    stop_redis
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: $0 start|stop|status|env|clean" >&2
    exit 2
    ;;
esac
