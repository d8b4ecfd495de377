#!/usr/bin/env bash
# ingest.sh: sagebox ingest against DuckDB and zcat, side by side, on the same files.
#
#   bench/ingest.sh [ROWS...]        (default: 1000000 10000000)
#
# For each size: generate a legacy CUR export once (gzip and plain CSV, same
# seed so the same bytes) into bench/out/data-ROWS/, then run in ONE hyperfine
# invocation:
#   sagebox-gz      sagebox ingest of the .csv.gz export into a fresh store
#   sagebox-csv     sagebox ingest of the plain .csv export into a fresh store
#   duckdb-csv      DuckDB CREATE TABLE cur AS SELECT * FROM read_csv([...csv], header=true)
#   duckdb-csv-varchar   the same with all_varchar=true
#   duckdb-gz       DuckDB CTAS on the .csv.gz files
#   zcat-gz         zcat of the .csv.gz files to /dev/null
# Each command's --prepare removes the store / DuckDB database and re-reads
# its input files into the page cache. Every command runs under
# /usr/bin/time -f %M (peak RSS per run, appended to bench/out/ROWS/rss-NAME.txt)
# and logs its own output to log-NAME.txt.
# Results: bench/out/ROWS/{command.txt,hyperfine.json,hyperfine.md,summary.md},
# plus load.txt and timeline.txt (other people's CPU use while each command ran).
#
# Environment:
#   SAGEBOX=path/to/sagebox   (default build/release/sagebox)
#   OUT=dir                   (default bench/out)
#   RUNS=n WARMUP=n           (default: 3 runs + 1 warmup up to 2M rows, else 2 runs + 0 warmup)
#   GZ_ONLY=1                 skip the plain CSV variants (also chosen when disk is short)
#   DUCKDB_VARCHAR=0          skip the all_varchar=true variant
#   IDLE_LOAD=0.5 IDLE_WAIT=1800   before each size, wait up to IDLE_WAIT s for the
#                             1-minute load average to drop below IDLE_LOAD (the machine
#                             is shared); the load during the run is logged to load.txt
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH")
SAGEBOX=${SAGEBOX:-$ROOT/build/release/sagebox}
OUT=${OUT:-$BENCH/out}
DUCKDB_VARCHAR=${DUCKDB_VARCHAR:-1}
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000000 10000000)

[ -x "$SAGEBOX" ] || { echo "build first: cmake --preset release && cmake --build build/release -j2" >&2; exit 1; }
IDLE_LOAD=${IDLE_LOAD:-0.5}
IDLE_WAIT=${IDLE_WAIT:-1800}
[ -d "$BENCH/node_modules/@duckdb/node-api" ] || (cd "$BENCH" && npm ci --no-audit --no-fund)
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install hyperfine)" >&2; exit 1; }
mkdir -p "$OUT/bin"
# Run a snapshot of the binary: src/ is being edited and rebuilt by others.
cp -p "$SAGEBOX" "$OUT/bin/sagebox.new" && mv "$OUT/bin/sagebox.new" "$OUT/bin/sagebox"
echo "sagebox binary: $SAGEBOX (built $(date -u -r "$SAGEBOX" +%FT%TZ), sha256 $(sha256sum "$SAGEBOX" | cut -c1-16)), run as $OUT/bin/sagebox"
echo "source now (the binary may be older): $(git -C "$ROOT" log -1 --format="%h %cI" 2>/dev/null || echo "?") + $(git -C "$ROOT" status --short -- src 2>/dev/null | wc -l) changed/untracked paths under src/"
SAGEBOX=$OUT/bin/sagebox

echo "== machine"
echo "nproc: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/\t//'); $(date -u +%FT%TZ)"
"$SAGEBOX" --version
node "$BENCH/duckdb_ingest.mjs" --version
hyperfine --version
df -h "$OUT" | tail -1

for rows in "${sizes[@]}"; do
  data="$OUT/data-$rows"
  res="$OUT/$rows"
  store="$OUT/store-$rows"
  duckdb_db="$OUT/duckdb-$rows.duckdb"
  gz_only=${GZ_ONLY:-0}

  # ---- data, generated once per size -------------------------------------
  if [ ! -f "$data/.generated" ]; then
    # About 900 B of plain CSV per line item, plus the .gz, the store and
    # DuckDB's database; ask for 1.3 kB per row free before writing plain CSV.
    avail_kb=$(df -Pk "$OUT" | awk 'NR==2 {print $4}')
    need_kb=$((rows * 13 / 10))
    if [ "$gz_only" != 1 ] && [ "$avail_kb" -lt "$need_kb" ]; then
      echo "only $((avail_kb / 1024)) MiB free, $((need_kb / 1024)) MiB needed for plain CSV: $rows rows on gzip only"
      gz_only=1
    fi
    formats=legacy-csv-gz
    [ "$gz_only" = 1 ] || formats=legacy-csv-gz,legacy-csv
    rm -rf "$data"
    echo "== generating $rows rows ($formats) into $data"
    "$SAGEBOX" demo --dir "$data" --rows "$rows" --formats "$formats" --generate-only
  fi
  [ -d "$data/exports/legacy-csv" ] || gz_only=1
  mapfile -t gz < <(find "$data/exports/legacy-csv-gz" -name '*.csv.gz' | sort)
  csv=()
  [ "$gz_only" = 1 ] || mapfile -t csv < <(find "$data/exports/legacy-csv" -name '*.csv' | sort)
  if [ ! -f "$data/.generated" ]; then
    # Both variants must hold the same bytes, or the comparison means nothing.
    if [ ${#csv[@]} -gt 0 ] && [ "$(zcat "${gz[@]}" | md5sum)" != "$(cat "${csv[@]}" | md5sum)" ]; then
      echo "the .gz and plain CSV exports differ" >&2; exit 1
    fi
    touch "$data/.generated"
  fi

  # Uncompressed CSV bytes: the plain files, or one zcat pass (cached).
  if [ ! -f "$data/.plain_bytes" ]; then
    if [ ${#csv[@]} -gt 0 ]; then
      stat -c %s "${csv[@]}" | awk '{s += $1} END {print s}' >"$data/.plain_bytes"
    else
      zcat "${gz[@]}" | wc -c >"$data/.plain_bytes"
    fi
  fi

  # ---- one hyperfine run, all commands side by side -----------------------
  rm -rf "$res" && mkdir -p "$res"
  if [ "$rows" -le 2000000 ]; then runs=${RUNS:-3}; warmup=${WARMUP:-1}; else runs=${RUNS:-2}; warmup=${WARMUP:-0}; fi
  q() { printf '%q ' "$@"; }
  timed() { printf '/usr/bin/time -a -o %q -f %%M ' "$res/rss-$1.txt"; }
  # Each command's --prepare removes the store and the DuckDB database and re-reads
  # its own input files, so every timed run starts with them in the page cache
  # (this VM's DAMON reclaim pages out cold page cache between runs).
  clean="rm -rf $(q "$store") $(q "$duckdb_db") $(q "$duckdb_db.wal")"
  warm_gz="cat $(q "${gz[@]}")>/dev/null"
  warm_csv=""
  [ ${#csv[@]} -eq 0 ] || warm_csv="cat $(q "${csv[@]}")>/dev/null"
  names=() cmds=() preps=()
  add() { names+=("$1"); cmds+=("$2"); preps+=("echo \$(date +%s) $1 >>$(q "$res/timeline.txt"); $clean; $3"); }
  add sagebox-gz "$(timed sagebox-gz)$(q "$SAGEBOX" --store "$store" cost ingest -q "$data/exports/legacy-csv-gz") >>$(q "$res/log-sagebox-gz.txt")" "$warm_gz"
  if [ ${#csv[@]} -gt 0 ]; then
    add sagebox-csv "$(timed sagebox-csv)$(q "$SAGEBOX" --store "$store" cost ingest -q "$data/exports/legacy-csv") >>$(q "$res/log-sagebox-csv.txt")" "$warm_csv"
    add duckdb-csv "$(timed duckdb-csv)$(q node "$BENCH/duckdb_ingest.mjs" --json --db "$duckdb_db" "${csv[@]}") >>$(q "$res/log-duckdb-csv.txt")" "$warm_csv"
    if [ "$DUCKDB_VARCHAR" = 1 ]; then
      add duckdb-csv-varchar "$(timed duckdb-csv-varchar)$(q node "$BENCH/duckdb_ingest.mjs" --json --all-varchar --db "$duckdb_db" "${csv[@]}") >>$(q "$res/log-duckdb-csv-varchar.txt")" "$warm_csv"
    fi
  fi
  add duckdb-gz "$(timed duckdb-gz)$(q node "$BENCH/duckdb_ingest.mjs" --json --db "$duckdb_db" "${gz[@]}") >>$(q "$res/log-duckdb-gz.txt")" "$warm_gz"
  if [ ${#csv[@]} -eq 0 ] && [ "$DUCKDB_VARCHAR" = 1 ]; then
    add duckdb-gz-varchar "$(timed duckdb-gz-varchar)$(q node "$BENCH/duckdb_ingest.mjs" --json --all-varchar --db "$duckdb_db" "${gz[@]}") >>$(q "$res/log-duckdb-gz-varchar.txt")" "$warm_gz"
  fi
  add zcat-gz "$(timed zcat-gz)zcat $(q "${gz[@]}")>/dev/null" "$warm_gz"

  hf=(hyperfine --warmup "$warmup" --runs "$runs" --style basic
      --export-json "$res/hyperfine.json" --export-markdown "$res/hyperfine.md")
  for i in "${!names[@]}"; do hf+=(--prepare "${preps[$i]}"); done
  for i in "${!names[@]}"; do hf+=(-n "${names[$i]}" "${cmds[$i]}"); done
  printf '%q ' "${hf[@]}" >"$res/command.txt"; echo >>"$res/command.txt"
  waited=0
  while awk -v l="$IDLE_LOAD" '{exit !($1 >= l)}' /proc/loadavg && [ "$waited" -lt "$IDLE_WAIT" ]; do
    [ $((waited % 60)) -eq 0 ] && echo "waiting for a quiet machine: load $(cut -d' ' -f1-3 /proc/loadavg)"
    sleep 10; waited=$((waited + 10))
  done
  echo "== $rows rows: load before the run $(cut -d' ' -f1-3 /proc/loadavg) (waited ${waited} s); command in $res/command.txt"
  # Sample the load every 15 s while hyperfine runs: epoch, load averages, the
  # CPU % of processes outside this script's session (other people's work),
  # and the busiest of them.
  sid=$(ps -o sid= -p $$ | tr -d ' ')
  ( while :; do
      others=$(ps -eo sid=,pcpu=,comm= --sort=-pcpu | awk -v me="$sid" '$1 != me && $2 > 0 {t += $2; if (n < 3) {top = top sprintf("%s:%s ", $3, $2); n++}} END {printf "%.0f %s", t, top}')
      echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg) | others_cpu% $others"
      sleep 15
    done ) >"$res/load.txt" &
  sampler=$!
  "${hf[@]}"
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true

  # Store size after one last ingest (the run's stores were removed by --prepare).
  rm -rf "$store"
  "$SAGEBOX" --store "$store" cost ingest -q "$data/exports/legacy-csv-gz" >"$res/last-ingest.txt"
  du -sb "$store" | cut -f1 >"$res/store_bytes"
  rm -rf "$store" "$duckdb_db" "$duckdb_db.wal"

  node "$BENCH/summarize.mjs" "$res" "$data" "$rows" | tee "$res/summary.md"
done
