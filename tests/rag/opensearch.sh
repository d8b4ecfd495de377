#!/usr/bin/env bash
# The npm OpenSearch client against `sagebox serve`: installs the client pinned by
# tests/rag/package-lock.json with `npm ci` in a temporary folder, starts serve on a free
# port (--port-file) with a fresh data folder, and runs opensearch_client.mjs against
# http://127.0.0.1:PORT/opensearch.
# Usage: opensearch.sh BINARY
set -euo pipefail
bin=$1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

mkdir -p "$tmp/npm"
cp "$here/package.json" "$here/package-lock.json" "$here/opensearch_client.mjs" "$tmp/npm/"
(cd "$tmp/npm" && npm ci --no-audit --no-fund --loglevel=error) > "$tmp/npm.log" 2>&1 || {
  cat "$tmp/npm.log"
  fail "npm ci"
}

start_server "$tmp/port" "$tmp/serve.log" "$bin" --data "$tmp/data" serve --listen 127.0.0.1:0 --port-file "$tmp/port"

node "$tmp/npm/opensearch_client.mjs" "http://127.0.0.1:$server_port/opensearch" ||
  fail "opensearch_client.mjs"
