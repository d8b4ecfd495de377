#!/bin/bash
# Real AWS clients against `sagebox serve`'s Cost Explorer endpoint:
# /usr/bin/aws (awscli) and /usr/bin/python3 boto3, with and without
# --credentials, checked against `sagebox cost query` and friends.
#   tests/ce/run.sh path/to/sagebox
# Exit 0 pass, 1 fail, 77 skipped (no `serve` command or no Debian clients).
set -euo pipefail
SAGEBOX="$(realpath "$1")"
HERE="$(cd "$(dirname "$0")" && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/sagebox-ce.XXXXXX")"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

if ! "$SAGEBOX" serve --help > /dev/null 2>&1; then
  echo "ce_clients: this sagebox has no 'serve' command; skipped"; exit 77
fi
if [ ! -x /usr/bin/aws ] || ! /usr/bin/python3 -c 'import boto3' 2> /dev/null; then
  echo "ce_clients: /usr/bin/aws or python3-boto3 missing; skipped"; exit 77
fi

"$SAGEBOX" demo --dir "$TMP/demo" --months 2 --formats legacy-csv --generate-only > /dev/null
"$SAGEBOX" --store "$TMP/store" cost ingest -q "$TMP/demo/exports/legacy-csv" > /dev/null

# Starts the server in the background on a free port; sets PID and PORT.
start_server() {
  rm -f "$TMP/port"
  "$SAGEBOX" --store "$TMP/store" serve --listen 127.0.0.1:0 --port-file "$TMP/port" \
    --ce-page-size 7 "$@" > "$TMP/serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do
    if [ -s "$TMP/port" ] && grep -q "listening on" "$TMP/serve.log"; then
      PORT="$(cat "$TMP/port")"; return 0
    fi
    if ! kill -0 "$PID" 2> /dev/null; then break; fi
    sleep 0.1
  done
  echo "ce_clients: the server did not start:"; cat "$TMP/serve.log"; exit 1
}
stop_server() {
  kill "$PID"; wait "$PID" || true; PID=""
}

start_server
/usr/bin/python3 "$HERE/clients.py" --sagebox "$SAGEBOX" --store "$TMP/store" --port "$PORT" \
  --page-size 7
stop_server

cat > "$TMP/credentials" << 'CREDS'
[default]
aws_access_key_id = AKIASAGEBOXTEST00001
aws_secret_access_key = sagebox-test-secret-0123456789
CREDS
start_server --credentials "$TMP/credentials"
/usr/bin/python3 "$HERE/clients.py" --sagebox "$SAGEBOX" --store "$TMP/store" --port "$PORT" \
  --page-size 7 --key AKIASAGEBOXTEST00001 --secret sagebox-test-secret-0123456789 --auth
stop_server
echo "ce_clients: ok"
