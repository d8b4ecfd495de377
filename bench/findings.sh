#!/usr/bin/env bash
# Findings latency: `sagebox cost findings` (every bill-only rule, whole
# process) beside DuckDB running the always-on rule alone in SQL, on the same
# generated CUR.
#
#   bench/findings.sh [ROWS...]        (default: 1000000)
#
# For each size: generates the legacy CUR once (`sagebox demo --generate-only`),
# ingests it into a sagebox store and a DuckDB table, then
#   - times `sagebox cost findings --format json` under hyperfine (start-up
#     included) and the DuckDB query inside one Node process (query only);
#   - checks both find the same always-on resources (notebook, Studio and Data
#     Wrangler apps; resource id and usage type).
# Results go to bench/out/findings-ROWS/ and are summarised on stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAGEBOX=${SAGEBOX:-build/release/sagebox}
OUT=bench/out
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1000000)
[[ -x $SAGEBOX ]] || { echo "build first: cmake --preset release && cmake --build build/release"; exit 1; }
[[ -d bench/node_modules/@duckdb ]] || (cd bench && npm ci --silent)

for n in "${sizes[@]}"; do
  data=$OUT/data-$n
  res=$OUT/findings-$n
  mkdir -p "$res"
  if [[ ! -d $data/exports/legacy-csv-gz || ! -d $data/exports/legacy-csv ]]; then
    "$SAGEBOX" demo --dir "$data" --rows "$n" --formats legacy-csv-gz,legacy-csv --generate-only
  fi
  mapfile -t csv < <(find "$data/exports/legacy-csv" -name '*.csv' | LC_ALL=C sort)
  store=$OUT/fstore-$n
  db=$OUT/fduck-$n.duckdb
  rm -rf "$store" "$db" "$db.wal"
  "$SAGEBOX" --store "$store" cost ingest -q "$data/exports/legacy-csv-gz" > "$res/ingest.txt"
  node bench/duckdb_ingest.mjs --keep --db "$db" "${csv[@]}" > "$res/duckdb-ingest.txt"

  f=(--store "$store" cost findings --format json)
  "$SAGEBOX" "${f[@]}" > "$res/findings.json"
  hyperfine --warmup 1 --runs 5 --style basic --export-json "$res/hyperfine.json" \
    -n sagebox-findings "$SAGEBOX ${f[*]}" > "$res/hyperfine.txt"
  node bench/duckdb_findings.mjs --db "$db" --runs 5 --json --dump "$res/duckdb-always-on.csv" \
    > "$res/duckdb-findings.json"

  python3 - "$res/findings.json" "$res/duckdb-always-on.csv" <<'PY' | tee "$res/agree.txt"
import csv, json, sys
sb = {(f["resource_id"], f["usage_type"]) for f in json.load(open(sys.argv[1]))["findings"]
      if f["kind"].endswith("-always-on")}
dk = {(r["resource_id"], r["usage_type"]) for r in csv.DictReader(open(sys.argv[2]))}
print(f"always-on: {len(sb)} from sagebox, {len(dk)} from DuckDB, {len(sb ^ dk)} differ")
sys.exit(1 if sb ^ dk else 0)
PY
  sb_mean=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$res/hyperfine.json")
  dk_mean=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"])' "$res/duckdb-findings.json")
  nf=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$res/findings.json")
  python3 - "$n" "$sb_mean" "$dk_mean" "$nf" <<'PY' | tee "$res/summary.md"
import sys
n, sb, dk, nf = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"### {int(n):,} requested rows\n")
print("| | seconds (mean) | ratio |\n|---|---:|---:|")
print(f"| sagebox cost findings, all bill-only rules ({nf} findings; whole process) | {sb:.4f} | 1.00 |")
print(f"| DuckDB, the always-on rule alone (query only, inside Node) | {dk:.4f} | {dk/sb:.2f}x sagebox |")
PY
done
