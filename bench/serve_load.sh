#!/usr/bin/env bash
# Load test of `sagebox serve` on loopback: wrk with 64 connections for 30 s per endpoint,
# over a year of demo billing data. Fails (exit 1) on any socket error or non-2xx response.
#
#   bash bench/serve_load.sh [SECONDS]        (default 30; needs build/release and wrk)
#   CACHE_MB=0 bash bench/serve_load.sh       (every request computed: the response cache off)
#
# Endpoints, each its own wrk run:
#   explorer  GET /api/query, a year of DAILY cost grouped by SERVICE (the dashboard's default
#             chart over a year)
#   ce        POST / GetCostAndUsage, a year MONTHLY grouped by USAGE_TYPE (AWS JSON 1.1), as
#             `aws ce get-cost-and-usage` sends it
#   page      GET / (the dashboard page)
# Raw wrk output goes to bench/out/serve/; the p50/p99 lines are printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECS=${1:-30}
BIN=build/release/sagebox
[[ -x $BIN ]] || { echo "build the release preset first: cmake --preset release && cmake --build build/release" >&2; exit 2; }
command -v wrk > /dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
OUT=bench/out/serve
mkdir -p "$OUT"
WORK=$(mktemp -d)
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2> /dev/null && wait "$PID" 2> /dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" demo --dir "$WORK/demo" --months 12 --start-month 2024-01 --formats legacy-csv --generate-only > /dev/null
"$BIN" --store "$WORK/store" cost ingest -q "$WORK/demo/exports/legacy-csv" > "$OUT/ingest.txt"
"$BIN" --store "$WORK/store" serve --listen 127.0.0.1:0 --port-file "$WORK/port" \
  --cache-mb "${CACHE_MB:-64}" > "$OUT/serve.log" 2>&1 &
PID=$!
for _ in $(seq 100); do [[ -s $WORK/port ]] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")
URL=http://127.0.0.1:$PORT

cat > "$WORK/ce.lua" << 'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AWSInsightsIndexService.GetCostAndUsage"
wrk.body = '{"TimePeriod":{"Start":"2024-01-01","End":"2025-01-01"},"Granularity":"MONTHLY",' ..
           '"Metrics":["UnblendedCost"],"GroupBy":[{"Type":"DIMENSION","Key":"USAGE_TYPE"}]}'
LUA

rows=$(grep -oE '[0-9]+ line items' "$OUT/ingest.txt" | head -1)
echo "store: 12 months of demo data, $rows; response cache ${CACHE_MB:-64} MiB; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
status=0
run() {
  local name=$1
  shift
  wrk -t2 -c64 -d"${SECS}s" --timeout 10s --latency "$@" > "$OUT/$name.txt"
  local p50 p99 rps errs non2xx
  p50=$(awk '/Latency Distribution/{f=1} f&&$1=="50%"{print $2; exit}' "$OUT/$name.txt")
  p99=$(awk '/Latency Distribution/{f=1} f&&$1=="99%"{print $2; exit}' "$OUT/$name.txt")
  rps=$(awk '/Requests\/sec/{print $2}' "$OUT/$name.txt")
  errs=$(grep -oE 'Socket errors: .*' "$OUT/$name.txt" || echo "Socket errors: none")
  non2xx=$(grep -oE 'Non-2xx or 3xx responses: [0-9]+' "$OUT/$name.txt" || echo "Non-2xx or 3xx responses: 0")
  total=$(grep -oE '[0-9]+ requests in' "$OUT/$name.txt" | grep -oE '^[0-9]+')
  printf '%-9s requests %8s  req/s %9s  p50 %9s  p99 %9s  %s; %s\n' "$name" "$total" "$rps" "$p50" "$p99" "$errs" "$non2xx"
  if [[ $errs != "Socket errors: none" || $non2xx != "Non-2xx or 3xx responses: 0" ]]; then status=1; fi
}
run explorer "$URL/api/query?from=2024-01-01&to=2025-01-01&granularity=DAILY&group_by=SERVICE"
run ce -s "$WORK/ce.lua" "$URL/"
run page "$URL/"
kill "$PID" && wait "$PID" 2> /dev/null || true
PID=""
exit $status
