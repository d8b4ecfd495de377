#!/usr/bin/env bash
# The endpoint's serving speed (bench/RESULTS.md, "Endpoint: serving"): builds the models
# with bench/make_serve_models.py, starts `sagebox endpoint serve` (release build) on
# loopback and runs build/release/endpoint_serve_bench against it: server overhead against
# libtorch in-process, throughput with and without dynamic batching, cold load against
# torch::jit::load. Fails (exit 1) if the bench's checks fail or the server does not start.
#
#   bash bench/endpoint_serve.sh [BENCH FLAGS...]     e.g. --seconds 5 --rounds 2
#
# Needs: cmake --preset release -DSAGEBOX_WEB_UI=OFF &&
#        cmake --build build/release --target sagebox endpoint_serve_bench
# Output: bench/out/endpoint-serve/{result.md,serve.log,metrics.txt}; the models are
# generated once into bench/out/endpoint-serve/models (PAD_BYTES, default 200000000, sizes
# the cold-load model; delete the folder to regenerate). MODELS=DIR serves another folder
# of the same four models (how the bench's checks were seen to fail on wrong weights).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=build/release/sagebox
BENCH=build/release/endpoint_serve_bench
for b in "$BIN" "$BENCH"; do
  [[ -x $b ]] || { echo "missing $b: cmake --build build/release --target sagebox endpoint_serve_bench" >&2; exit 2; }
done
OUT=bench/out/endpoint-serve
MODELS=${MODELS:-$OUT/models}
mkdir -p "$OUT"
if [[ ! -s $MODELS/big/1/model.pt ]]; then
  rm -rf "$MODELS"
  /usr/bin/python3 bench/make_serve_models.py "$MODELS" --pad-bytes "${PAD_BYTES:-200000000}"
fi
WORK=$(mktemp -d)
PID=""
cleanup() {
  if [[ -n $PID ]]; then kill "$PID" 2> /dev/null && wait "$PID" 2> /dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Its own data folder (database), so the run touches nothing of the user's.
"$BIN" --data "$WORK/data" endpoint serve --models "$MODELS" --listen 127.0.0.1:0 \
  --port-file "$WORK/port" --memory-budget 4GiB > "$OUT/serve.log" 2>&1 &
PID=$!
for _ in $(seq 300); do
  [[ -s $WORK/port ]] && break
  kill -0 "$PID" 2> /dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
  sleep 0.1
done
[[ -s $WORK/port ]] || { echo "the server wrote no port in 30 s" >&2; exit 1; }
URL=http://127.0.0.1:$(cat "$WORK/port")

{
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "Commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo ' (with local changes)'); server: $BIN (release), client and server on the same cores"
  echo
} | tee "$OUT/result.md"
status=0
"$BENCH" --url "$URL" --models "$MODELS" "$@" | tee -a "$OUT/result.md" || status=1
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/result.md"
curl -s "$URL/metrics" > "$OUT/metrics.txt" || true
exit $status
