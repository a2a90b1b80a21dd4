# Throw-away PostgreSQL and Redis servers for the test command (sourced by scripts/test.sh).
# shellcheck shell=bash

pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
PG_BIN=${PG_BIN:-$(pg_bin_dir)}

# The PostgreSQL server binaries (initdb, pg_ctl), installed from Debian when missing and root.
ensure_postgres() {
  [ -n "${DATABASE_URL:-}" ] && return 0
  [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL server binaries not found: install Debian's 'postgresql' package (or run this as root to let" \
      "it do so), set PG_BIN to the folder holding initdb, or point DATABASE_URL at a server you run" >&2
    exit 1
  fi
  # The package's own cluster is not used: the tests start a throw-away server on a free port.
  apt_install postgresql
  PG_BIN=$(pg_bin_dir)
  [ -x "$PG_BIN/initdb" ] || { echo "installed 'postgresql' but found no initdb under /usr/lib/postgresql" >&2; exit 1; }
}
SERVICES_DIR=""

stop_services() {
  [ -n "$SERVICES_DIR" ] || return 0
  if [ -f "$SERVICES_DIR/pg/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -f "$SERVICES_DIR/redis.pid" ]; then kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$SERVICES_DIR"
}

# initdb refuses to run as root: run PostgreSQL as the 'postgres' system user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_services() {
  ensure_postgres
  SERVICES_DIR=$(mktemp -d /tmp/guildops-services.XXXXXX)
  chmod 755 "$SERVICES_DIR"
  if [ -z "${DATABASE_URL:-}" ]; then
    [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL binaries not found (set PG_BIN or DATABASE_URL)" >&2; exit 1; }
    local port; port=$(free_port)
    mkdir -p "$SERVICES_DIR/pg"
    [ "$(id -u)" = 0 ] && chown postgres "$SERVICES_DIR/pg"
    say "starting PostgreSQL on 127.0.0.1:$port"
    as_pg "$PG_BIN/initdb" -D "$SERVICES_DIR/pg" -U postgres -A trust --no-sync >/dev/null
    as_pg "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg" -l "$SERVICES_DIR/pg/server.log" -w -o \
      "-p $port -k $SERVICES_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null
    as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres guildops
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/guildops"
    export PGBENCH_URL="$DATABASE_URL"
  fi
  if [ -z "${REDIS_URL:-}" ]; then
    local rport; rport=$(free_port)
    say "starting Redis on 127.0.0.1:$rport"
    redis-server --port "$rport" --databases 64 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log" >/dev/null
    for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
    export REDIS_URL="redis://127.0.0.1:$rport/0"
    export REDIS_DATABASES=64  # one per xdist worker (tests/parallel.py)
  fi
  trap stop_services EXIT
}
