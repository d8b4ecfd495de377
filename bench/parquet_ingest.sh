#!/usr/bin/env bash
# parquet_ingest.sh: sagebox ingest of Parquet against DuckDB loading the same files,
# side by side in one hyperfine run.
#
#   bench/parquet_ingest.sh [ROWS...]        (default: 1000000)
#
# For each size: `sagebox demo` writes a CUR 2.0 CSV export once, and
# duckdb_parquet.mjs converts it to Parquet as AWS Data Exports write it (SNAPPY,
# TIMESTAMP, DOUBLE costs, MAP columns) under bench/out/pq-data-ROWS/parquet/. Then ONE
# hyperfine invocation runs:
#   sagebox-parquet        sagebox cost ingest of the Parquet folder into a fresh store
#   duckdb-parquet         DuckDB CREATE TABLE cur AS SELECT * FROM read_parquet([...], union_by_name=true)
#                          + CHECKPOINT, default threads (one per core)
#   duckdb-parquet-cols    the same, selecting only the 29 columns sagebox decodes
#   duckdb-parquet-1t      SELECT * with one DuckDB thread (sagebox decodes on one)
# Each --prepare removes the store / database and re-reads the Parquet files into the
# page cache. Peak RSS per run goes to bench/out/pq-ROWS/rss-NAME.txt (/usr/bin/time %M).
# Results: bench/out/pq-ROWS/{command.txt,hyperfine.json,hyperfine.md,load.txt}.
#
# Environment: SAGEBOX (default build/release/sagebox), OUT (default bench/out),
#   RUNS / WARMUP (default 3 / 1), IDLE_LOAD / IDLE_WAIT as in ingest.sh.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
SAGEBOX=${SAGEBOX:-$ROOT/build/release/sagebox}
OUT=${OUT:-$BENCH/out}
IDLE_LOAD=${IDLE_LOAD:-0.5}
IDLE_WAIT=${IDLE_WAIT:-0}
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000000)

[ -x "$SAGEBOX" ] || { echo "build first: cmake --preset release && cmake --build build/release -j2" >&2; exit 1; }
[ -d "$BENCH/node_modules/@duckdb/node-api" ] || (cd "$BENCH" && npm ci --no-audit --no-fund)
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }
mkdir -p "$OUT/bin"
cp -p "$SAGEBOX" "$OUT/bin/sagebox.pq.new" && mv "$OUT/bin/sagebox.pq.new" "$OUT/bin/sagebox.pq"
echo "sagebox binary: $SAGEBOX (built $(date -u -r "$SAGEBOX" +%FT%TZ)), source $(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo ?)"
SAGEBOX=$OUT/bin/sagebox.pq
echo "== machine: nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/\t//'); $(date -u +%FT%TZ)"

for rows in "${sizes[@]}"; do
  data="$OUT/pq-data-$rows"
  res="$OUT/pq-$rows"
  store="$OUT/pq-store-$rows"
  if [ ! -f "$data/.generated" ]; then
    rm -rf "$data"
    echo "== generating $rows rows of CUR 2.0 CSV and converting it to Parquet"
    "$SAGEBOX" demo --dir "$data" --rows "$rows" --formats cur2-csv --generate-only
    mapfile -t csv < <(find "$data/exports/cur2-csv" -name '*.csv' | sort)
    node "$BENCH/duckdb_parquet.mjs" convert "$data/parquet" "${csv[@]}"
    rm -rf "$data/exports"  # only the Parquet is needed from here
    touch "$data/.generated"
  fi
  mapfile -t pq < <(find "$data/parquet" -name '*.parquet' | sort)
  pq_bytes=$(stat -c %s "${pq[@]}" | awk '{s += $1} END {print s}')
  echo "== $rows rows: ${#pq[@]} Parquet file(s), $pq_bytes bytes"

  rm -rf "$res" && mkdir -p "$res"
  q() { printf '%q ' "$@"; }
  timed() { printf '/usr/bin/time -a -o %q -f %%M ' "$res/rss-$1.txt"; }
  warm="rm -rf $(q "$store"); cat $(q "${pq[@]}")>/dev/null"
  names=() cmds=()
  add() { names+=("$1"); cmds+=("$2"); }
  add sagebox-parquet "$(timed sagebox-parquet)$(q "$SAGEBOX" --store "$store" cost ingest -q "$data/parquet") >>$(q "$res/log-sagebox-parquet.txt")"
  add duckdb-parquet "$(timed duckdb-parquet)$(q node "$BENCH/duckdb_parquet.mjs" ingest --json "${pq[@]}") >>$(q "$res/log-duckdb-parquet.txt")"
  add duckdb-parquet-cols "$(timed duckdb-parquet-cols)$(q node "$BENCH/duckdb_parquet.mjs" ingest --json --columns sagebox "${pq[@]}") >>$(q "$res/log-duckdb-parquet-cols.txt")"
  add duckdb-parquet-1t "$(timed duckdb-parquet-1t)$(q node "$BENCH/duckdb_parquet.mjs" ingest --json --threads 1 "${pq[@]}") >>$(q "$res/log-duckdb-parquet-1t.txt")"
  hf=(hyperfine --warmup "${WARMUP:-1}" --runs "${RUNS:-3}" --style basic --prepare "$warm"
      --export-json "$res/hyperfine.json" --export-markdown "$res/hyperfine.md")
  for i in "${!names[@]}"; do hf+=(-n "${names[$i]}" "${cmds[$i]}"); done
  printf '%q ' "${hf[@]}" >"$res/command.txt"; echo >>"$res/command.txt"
  waited=0
  while awk -v l="$IDLE_LOAD" '{exit !($1 >= l)}' /proc/loadavg && [ "$waited" -lt "$IDLE_WAIT" ]; do
    sleep 10; waited=$((waited + 10))
  done
  echo "== load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (waited ${waited} s)"
  ( while :; do echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)"; sleep 15; done ) >"$res/load.txt" &
  sampler=$!
  "${hf[@]}"
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  echo "== load during the run (1-min avg samples): $(awk '{print $2}' "$res/load.txt" | tr '\n' ' ')"
  for n in "${names[@]}"; do
    echo "peak RSS $n: $(sort -n "$res/rss-$n.txt" | tail -1) KB; last log: $(tail -1 "$res/log-$n.txt" 2>/dev/null)"
  done
  rm -rf "$store"
done
