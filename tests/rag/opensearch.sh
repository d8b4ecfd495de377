#!/usr/bin/env bash
# The npm OpenSearch client against `sagebox serve`: installs the client pinned by
# tests/rag/package-lock.json with `npm ci` in a temporary folder, starts serve on a free
# port (--port-file) with a fresh data folder, and runs opensearch_client.mjs against
# http://127.0.0.1:PORT/opensearch.
# Usage: opensearch.sh BINARY
set -euo pipefail
bin=$1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [[ -f "$tmp/serve.log" ]] && tail -30 "$tmp/serve.log" >&2
  exit 1
}

mkdir -p "$tmp/npm"
cp "$here/package.json" "$here/package-lock.json" "$here/opensearch_client.mjs" "$tmp/npm/"
(cd "$tmp/npm" && npm ci --no-audit --no-fund --loglevel=error) > "$tmp/npm.log" 2>&1 || {
  cat "$tmp/npm.log"
  fail "npm ci"
}

"$bin" --data "$tmp/data" serve --listen 127.0.0.1:0 --port-file "$tmp/port" > "$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do  # up to 60 s: a Debug (ASan) build on a busy machine
  [[ -s "$tmp/port" ]] && break
  kill -0 "$pid" 2> /dev/null || fail "serve exited"
  sleep 0.1
done
[[ -s "$tmp/port" ]] || fail "serve did not start"

node "$tmp/npm/opensearch_client.mjs" "http://127.0.0.1:$(cat "$tmp/port")/opensearch" ||
  fail "opensearch_client.mjs"
