#!/usr/bin/env bash
# `cost sql` latency beside DuckDB on its own table, same queries, same data.
#
#   bench/sql.sh [ROWS]        (default: 1000000)
#
# Generates a CUR 1.0 (Athena snake_case) export with `sagebox demo
# --generate-only` (3 months from 2024-01), ingests it into a sagebox store and
# into a DuckDB table (CTAS from the CSV, typed as Athena's CUR table; see
# bench/duckdb_sql.mjs), then for each bench/sql/*.sql (the articles' four
# queries, the two Studio ones with operation CreateApp as the demo bills
# Studio apps, and the CUR Query Library's sagemakerwrid.sql):
#   - sagebox: whole process under hyperfine (start-up and store open included);
#   - DuckDB: the query alone inside one Node process (first run discarded);
#   - checks both return the same rows (as sorted CSV lines).
# Results go to bench/out/sql-ROWS/; a Markdown table is printed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SAGEBOX=${SAGEBOX:-build/release/sagebox}
OUT=bench/out
n=${1:-1000000}
AS_OF=2024-04-10
[[ -x $SAGEBOX ]] || { echo "build first: cmake --preset release && cmake --build build/release"; exit 1; }
[[ -d bench/node_modules/@duckdb ]] || (cd bench && npm ci --silent)

data=$OUT/sqldata-$n
res=$OUT/sql-$n
store=$OUT/sqlstore-$n
mkdir -p "$res"
if [[ ! -d $data/exports/cur1-snake ]]; then
  "$SAGEBOX" demo --dir "$data" --rows "$n" --formats cur1-snake --generate-only
fi
rm -rf "$store"
"$SAGEBOX" --store "$store" cost ingest -q "$data/exports/cur1-snake" > "$res/ingest.txt"
queries=(bench/sql/*.sql)
node bench/duckdb_sql.mjs --csv-glob "$data/exports/cur1-snake/*/*/*/*.csv" --as-of "$AS_OF" \
  --out "$res" --runs 5 "${queries[@]}" > "$res/duckdb.jsonl"

for q in "${queries[@]}"; do
  name=$(basename "$q" .sql)
  cmd=("$SAGEBOX" --store "$store" cost sql --file "$q" --as-of "$AS_OF" --format csv)
  "${cmd[@]}" > "$res/$name.sagebox.csv"
  hyperfine --warmup 1 --runs 5 --style basic --export-json "$res/$name.hyperfine.json" \
    -n "$name" "${cmd[*]}" > /dev/null
done

python3 - "$res" "$n" "${queries[@]}" <<'PY' | tee "$res/summary.md"
import json, sys, os
res, n, queries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
duck = [json.loads(l) for l in open(os.path.join(res, "duckdb.jsonl"))]
load = duck[0]
dq = {d["query"]: d for d in duck[1:]}
print(f"### `cost sql` vs DuckDB, {load['rows']:,} CUR rows (demo, 3 months)\n")
print("| query | result rows | sagebox s (whole process) | DuckDB s (query only) | DuckDB / sagebox | same rows |")
print("|---|---:|---:|---:|---:|---|")
for q in queries:
    name = os.path.basename(q)[:-4]
    hf = json.load(open(os.path.join(res, f"{name}.hyperfine.json")))["results"][0]
    sb = [l for l in open(os.path.join(res, f"{name}.sagebox.csv"), encoding="utf-8")]
    dk = [l for l in open(os.path.join(res, f"{name}.duckdb.csv"), encoding="utf-8")]
    same = sb[0] == dk[0] and sorted(sb[1:]) == sorted(dk[1:])
    d = dq[name]
    print(f"| {name} | {len(sb) - 1:,} | {hf['mean']:.4f} | {d['mean']:.4f} | {d['mean'] / hf['mean']:.2f}x | {'yes' if same else 'NO'} |")
print(f"\nDuckDB load (CTAS from CSV): {load['load']:.1f} s; sagebox ingest: {open(os.path.join(res, 'ingest.txt')).readline().strip()}")
PY
