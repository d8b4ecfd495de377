# shellcheck shell=bash
# Shared by the end-to-end shell tests that run servers (sagebox serve, endpoint serve,
# endpoint route, stand-in model servers): sourced, never run, as
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
# Sourcing it makes a temporary folder `tmp` and sets an EXIT trap that stops every server
# started here and removes `tmp` (a script that needs more on exit calls server_cleanup from
# its own trap). It offers:
#   start_server PORTFILE LOG CMD ARGS...  start CMD in the background (stdout and stderr to
#                                          LOG) and wait for it to write its port to PORTFILE;
#                                          sets server_pid and server_port
#   spawn_server PORTFILE LOG CMD ARGS...  only the start (sets server_pid), to start several
#                                          servers side by side before waiting for them
#   wait_server PORTFILE PID LOG           only the wait (sets server_port)
#   stop_server PID                        SIGTERM, wait; returns the server's exit status
#   fail MESSAGE                           "FAIL: MESSAGE", the tail of every server's log, exit 1
# A server that exits, or writes no port within server_wait_seconds (60: a Debug build with
# ASan on a busy machine starts slowly), is a failure naming its log.
# The servers are started from here, not through a shell function such as `sb`: a function in
# the background runs in a subshell, and killing that subshell's pid would leave the server on.

server_wait_seconds=60
server_pid=""
server_port=""
tmp="$(mktemp -d)"
_server_pids=()
_server_logs=()

server_cleanup() {
  local p
  for p in "${_server_pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${_server_pids[@]}"; do wait "$p" 2> /dev/null || true; done
  _server_pids=()
  rm -rf "$tmp"
}
trap server_cleanup EXIT

fail() {
  local log
  echo "FAIL: $*" >&2
  for log in "${_server_logs[@]}"; do
    [[ -f "$log" ]] || continue
    echo "--- $log (last 30 lines)" >&2
    tail -30 "$log" >&2
  done
  exit 1
}

spawn_server() {
  local pf=$1 log=$2
  shift 2
  rm -f "$pf"
  "$@" > "$log" 2>&1 &
  server_pid=$!
  _server_pids+=("$server_pid")
  _server_logs+=("$log")
}

wait_server() {
  local pf=$1 pid=$2 log=$3 i rc
  for ((i = 0; i < server_wait_seconds * 10; i++)); do
    if [[ -s "$pf" ]]; then
      # shellcheck disable=SC2034  # read by the scripts that source this file
      server_port=$(cat "$pf")
      return 0
    fi
    if ! kill -0 "$pid" 2> /dev/null; then
      rc=0
      wait "$pid" 2> /dev/null || rc=$?
      fail "the server logging to $log exited with status $rc before writing $pf"
    fi
    sleep 0.1
  done
  fail "the server logging to $log wrote no port to $pf within $server_wait_seconds s"
}

start_server() {
  spawn_server "$@"
  wait_server "$1" "$server_pid" "$2"
}

stop_server() {
  local pid=$1 status=0 p kept=()
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || status=$?
  for p in "${_server_pids[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
  _server_pids=("${kept[@]}")
  return "$status"
}
