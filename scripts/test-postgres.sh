#!/usr/bin/env bash
# test-postgres.sh: a private, throwaway PostgreSQL 15 cluster for the db tests.
#
#   scripts/test-postgres.sh start   # init (first time), start, wait until ready,
#                                    # create database sagebox_test; ok if running
#   scripts/test-postgres.sh stop    # stop it once no other user of it is left
#   scripts/test-postgres.sh url     # postgresql://postgres@127.0.0.1:PORT/sagebox_test
#
# Never the system service: the cluster lives in $SAGEBOX_TEST_POSTGRES_DIR (default
# /tmp/sagebox-pg-$UID), listens on 127.0.0.1:$SAGEBOX_TEST_POSTGRES_PORT (default 55432)
# and on a unix socket inside its data folder, and trusts loopback connections only.
# fsync is off: the data is worth nothing after the tests.
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system
# user (runuser), which owns the data folder.
#
# Several ctest runs (worktrees, parallel builds) may share the cluster: each `start`
# registers its caller (the parent process: ctest, or your shell) and `stop` unregisters
# it; the server stops when no live caller is left.
set -euo pipefail

PG_BIN=${SAGEBOX_TEST_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
DIR=${SAGEBOX_TEST_POSTGRES_DIR:-/tmp/sagebox-pg-$(id -u)}
PORT=${SAGEBOX_TEST_POSTGRES_PORT:-55432}
DATA=$DIR/data
DB=sagebox_test

die() {
  echo "test-postgres.sh: $*" >&2
  exit 1
}

as_server=()
if [[ "$(id -u)" == 0 ]]; then
  id postgres > /dev/null 2>&1 || die "running as root needs the 'postgres' system user (apt-get install postgresql-15)"
  as_server=(runuser -u postgres --)
fi
pg() { "${as_server[@]}" "$@"; }

running() { [[ -f $DATA/PG_VERSION ]] && pg "$PG_BIN/pg_ctl" -D "$DATA" status > /dev/null 2>&1; }

# Callers are files named by PID under $DIR/users; dead ones are swept.
live_users() {
  local f n=0
  for f in "$DIR"/users/*; do
    [[ -e $f ]] || continue
    if kill -0 "${f##*/}" 2> /dev/null; then n=$((n + 1)); else rm -f "$f"; fi
  done
  echo "$n"
}

init_cluster() {
  [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] ||
    die "PostgreSQL 15 server binaries not found in $PG_BIN (apt-get install postgresql-15, or bash scripts/install-deps.sh)"
  command -v pg_isready > /dev/null || die "pg_isready not found (apt-get install postgresql-client-15)"
  [[ -f $DATA/PG_VERSION ]] && return 0
  rm -rf "$DATA"
  mkdir -p "$DATA"
  chmod 700 "$DATA"
  [[ ${#as_server[@]} == 0 ]] || chown postgres: "$DATA" "$DIR/server.log"
  pg "$PG_BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C --auth=trust > "$DIR/initdb.log" 2>&1 ||
    die "initdb failed; see $DIR/initdb.log"
  cat >> "$DATA/postgresql.conf" << CONF
# test-postgres.sh
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  cat > "$DATA/pg_hba.conf" << HBA
# test-postgres.sh: loopback only, no passwords.
local all all trust
host all all 127.0.0.1/32 trust
HBA
}

start() {
  if ! running; then
    init_cluster
    # 9>&-: the server must not inherit the lock, or it would hold it for its whole life.
    pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start > /dev/null 9>&- ||
      die "the server did not start; see $DIR/server.log"
  fi
  local i
  for i in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    [[ $i == 60 ]] && die "the server on 127.0.0.1:$PORT is not ready after 30 s; see $DIR/server.log"
    sleep 0.5
  done
  local psql=(psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tA)
  if [[ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]]; then
    "${psql[@]}" -c "CREATE DATABASE $DB" > /dev/null
  fi
  touch "$DIR/users/$PPID"
  echo "PostgreSQL test cluster ready: $(url)"
}

stop() {
  rm -f "$DIR/users/$PPID"
  [[ "$(live_users)" == 0 ]] || return 0
  if running; then pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop > /dev/null; fi
}

url() { echo "postgresql://postgres@127.0.0.1:$PORT/$DB"; }

cmd=${1:-}
case "$cmd" in
  start | stop)
    mkdir -p "$DIR/users"
    [[ -O $DIR ]] || die "$DIR belongs to another user; set SAGEBOX_TEST_POSTGRES_DIR"
    chmod 755 "$DIR"
    touch "$DIR/server.log"
    cd "$DIR"  # the server user must be able to enter the working folder
    # One start or stop at a time: parallel ctest runs must not both run initdb.
    exec 9> "$DIR/lock"
    flock -w 120 9 || die "$DIR/lock is held by another start or stop for over 2 minutes"
    "$cmd"
    ;;
  url) url ;;
  *) die "usage: $0 start|stop|url" ;;
esac
