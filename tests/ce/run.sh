#!/bin/bash
# Real AWS clients against `sagebox serve`'s Cost Explorer endpoint:
# /usr/bin/aws (awscli) and /usr/bin/python3 boto3, with and without
# --credentials, checked against `sagebox cost query` and friends.
#   tests/ce/run.sh path/to/sagebox
# Exit 0 pass, 1 fail, 77 skipped (no `serve` command or no Debian clients).
set -euo pipefail
SAGEBOX="$(realpath "$1")"
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$HERE/../lib/server.sh"
TMP="$tmp"

if ! "$SAGEBOX" serve --help > /dev/null 2>&1; then
  echo "ce_clients: this sagebox has no 'serve' command; skipped"; exit 77
fi
if [ ! -x /usr/bin/aws ] || ! /usr/bin/python3 -c 'import boto3' 2> /dev/null; then
  echo "ce_clients: /usr/bin/aws or python3-boto3 missing; skipped"; exit 77
fi

"$SAGEBOX" demo --dir "$TMP/demo" --months 2 --formats legacy-csv --generate-only > /dev/null
"$SAGEBOX" --store "$TMP/store" cost ingest -q "$TMP/demo/exports/legacy-csv" > /dev/null

# Starts serve in the background on a free port (its port file is written once it listens);
# sets PID and PORT.
start_ce_server() {
  start_server "$TMP/port" "$TMP/serve.log" "$SAGEBOX" --store "$TMP/store" serve --listen 127.0.0.1:0 \
    --port-file "$TMP/port" --ce-page-size 20 "$@"
  PID=$server_pid
  PORT=$server_port
}

start_ce_server
/usr/bin/python3 "$HERE/clients.py" --sagebox "$SAGEBOX" --store "$TMP/store" --port "$PORT" \
  --page-size 20
stop_server "$PID" || true

cat > "$TMP/credentials" << 'CREDS'
[default]
aws_access_key_id = AKIASAGEBOXTEST00001
aws_secret_access_key = sagebox-test-secret-0123456789
CREDS
start_ce_server --credentials "$TMP/credentials"
/usr/bin/python3 "$HERE/clients.py" --sagebox "$SAGEBOX" --store "$TMP/store" --port "$PORT" \
  --page-size 20 --key AKIASAGEBOXTEST00001 --secret sagebox-test-secret-0123456789 --auth
stop_server "$PID" || true
echo "ce_clients: ok"
