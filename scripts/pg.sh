#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on a loopback port for tests and benchmarks.
#   source scripts/pg.sh && pg_start      -> exports JUNCTION_TEST_POSTGRES, PG_PORT, PG_DIR
#   pg_stop                               -> stops it and removes its data directory
# Installs PostgreSQL from Debian's packages when no server binaries are found. Runs the server as
# a non-root user (initdb refuses root), with its data in a temporary directory.
# (sourced: leaves the caller's shell options alone)

pg_find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

pg_install() {
  if pg_find_bin >/dev/null; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "pg.sh: PostgreSQL is not installed and this user cannot apt-get install it" >&2
    return 1
  fi
  echo "pg.sh: installing PostgreSQL from Debian's packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  # The Debian package starts a cluster on 5432; we do not use it.
  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --force 15 main stop >/dev/null 2>&1 || true
}

pg_free_port() {
  local p
  for p in $(seq 55432 55532); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

pg_start() {
  pg_install
  local bin; bin=$(pg_find_bin)
  PG_PORT=${PG_PORT:-$(pg_free_port)}
  PG_DIR=$(mktemp -d /tmp/junction-pg.XXXXXX)
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U junction --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=1000 -c shared_buffers=256MB" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; return 1; }
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U junction -d postgres -qc "CREATE DATABASE junction" >/dev/null
  PG_BIN=$bin
  export PG_PORT PG_DIR PG_BIN
  export JUNCTION_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=junction;Database=junction"
  echo "pg.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT" >&2
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] || return 0
  local run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
