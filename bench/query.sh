#!/usr/bin/env bash
# Query latency and store size, sagebox beside DuckDB on the same generated CUR.
#
#   bench/query.sh [ROWS...]        (default: 1000000 10000000)
#
# For each size: generates the legacy CUR (gzip and plain) once with
# `sagebox demo --generate-only`, ingests it into a sagebox store and into a
# DuckDB table (CTAS from read_csv, types sniffed), then
#   - times the daily x usage-type SageMaker query: sagebox as a whole process
#     under hyperfine (start-up included), DuckDB inside one Node process
#     (query only, first run discarded);
#   - checks both give the same rows and sums;
#   - compares the store's bytes with the .csv.gz bytes (and DuckDB's file).
# Results go to bench/out/query-ROWS/ and are summarised on stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAGEBOX=${SAGEBOX:-build/release/sagebox}
OUT=bench/out
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1000000 10000000)
[[ -x $SAGEBOX ]] || { echo "build first: cmake --preset release && cmake --build build/release"; exit 1; }
[[ -d bench/node_modules/@duckdb ]] || (cd bench && npm ci --silent)

for n in "${sizes[@]}"; do
  data=$OUT/data-$n
  res=$OUT/query-$n
  mkdir -p "$res"
  if [[ ! -d $data/exports/legacy-csv-gz || ! -d $data/exports/legacy-csv ]]; then
    "$SAGEBOX" demo --dir "$data" --rows "$n" --formats legacy-csv-gz,legacy-csv --generate-only
  fi
  mapfile -t csv < <(find "$data/exports/legacy-csv" -name '*.csv' | LC_ALL=C sort)
  store=$OUT/qstore-$n
  db=$OUT/qduck-$n.duckdb
  rm -rf "$store" "$db" "$db.wal"
  "$SAGEBOX" --store "$store" cost ingest -q "$data/exports/legacy-csv-gz" > "$res/ingest.txt"
  node bench/duckdb_ingest.mjs --keep --db "$db" "${csv[@]}" > "$res/duckdb-ingest.txt"

  q=(--store "$store" cost query --granularity DAILY --filter SERVICE=AmazonSageMaker
     --group-by USAGE_TYPE --format csv)
  "$SAGEBOX" "${q[@]}" > "$res/sagebox.csv"
  hyperfine --warmup 2 --runs 10 --style basic --export-json "$res/hyperfine.json" \
    -n sagebox-query "$SAGEBOX ${q[*]}" > "$res/hyperfine.txt"
  node bench/duckdb_query.mjs --db "$db" --runs 10 --json --dump "$res/duckdb-rows.csv" > "$res/duckdb-query.json"

  # Same answer? (day, usage type) -> exact sum, from both.
  python3 - "$res/sagebox.csv" "$res/duckdb-rows.csv" <<'PY' | tee "$res/agree.txt"
import csv, decimal, sys
sb = {(r["Start"], r["USAGE_TYPE"]): decimal.Decimal(r["UnblendedCost"]) for r in csv.DictReader(open(sys.argv[1]))}
dk = {(r["day"], r["usage_type"]): decimal.Decimal(r["unblended"]) for r in csv.DictReader(open(sys.argv[2]))}
bad = [k for k in set(sb) | set(dk) if sb.get(k) != dk.get(k)]
print(f"{len(sb)} groups from sagebox, {len(dk)} from DuckDB, {len(bad)} differ")
sys.exit(1 if bad else 0)
PY
  sb_bytes=$(du -sb "$store" | cut -f1)
  gz_bytes=$(find "$data/exports/legacy-csv-gz" -name '*.gz' -printf '%s\n' | awk '{s+=$1} END {print s}')
  duck_bytes=$(stat -c %s "$db")
  sb_mean=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$res/hyperfine.json")
  dk_mean=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"])' "$res/duckdb-query.json")
  python3 - "$n" "$sb_mean" "$dk_mean" "$sb_bytes" "$gz_bytes" "$duck_bytes" "$res/sagebox.csv" <<'PY' | tee "$res/summary.md"
import sys
n, sb, dk, sbb, gzb, dkb, csvp = sys.argv[1:]
sb, dk, sbb, gzb, dkb = float(sb), float(dk), int(sbb), int(gzb), int(dkb)
rows = sum(1 for _ in open(csvp)) - 1
print(f"### {int(n):,} requested rows: daily x usage-type SageMaker query ({rows} result rows)\n")
print("| | seconds (mean) | ratio |\n|---|---:|---:|")
print(f"| sagebox (whole process, start-up included) | {sb:.4f} | 1.00 |")
print(f"| DuckDB (query only, inside Node) | {dk:.4f} | {dk/sb:.2f}x sagebox |")
print(f"\nTarget >= 5x faster than DuckDB: {'met' if dk/sb >= 5 else 'NOT met'} ({dk/sb:.2f}x)\n")
print("| storage | bytes | vs .csv.gz |\n|---|---:|---:|")
print(f"| .csv.gz input | {gzb:,} | 1.00 |")
print(f"| sagebox store | {sbb:,} | {sbb/gzb:.3f} |")
print(f"| DuckDB database file | {dkb:,} | {dkb/gzb:.3f} |")
print(f"\nTarget store <= 0.5x .csv.gz: {'met' if sbb/gzb <= 0.5 else 'NOT met'} ({sbb/gzb:.3f}x)")
PY
done
