#!/usr/bin/env bash
# crash_test.sh: `kill -9` at any moment of an ingest leaves a readable store in the
# state before the ingest (or, past the commit point, the complete new state).
#
# Needs SAGEBOX, DATA, TMP and E2E (as tests/e2e/run.sh sets them); STORE defaults to
# $TMP/store. Knobs: CRASH_ITERATIONS (10), CRASH_SEED (random; printed, to replay a
# run), CRASH_INPUT:
#   demo    (default when `sagebox demo` exists) a legacy CUR delivery (folder with
#           manifest) of about 50 MB from `sagebox demo --months 1 --rows 57000`; it
#           restates January 2024, which an earlier, smaller demo delivery holds.
#   concat  (the fallback) the real legacy CUR's 1,281 rows copied CRASH_COPIES (50)
#           times with new line item ids, about 50 MB, as a loose file that replaces
#           its own earlier 1-copy version.
#
#  1. State before: the real legacy CUR and FOCUS samples plus the earlier version of
#     the big input.
#  2. One complete ingest of the big input into a copy of the store measures its
#     duration D and gives the state after.
#  3. CRASH_ITERATIONS times: start the ingest in the background, `kill -9` it after a
#     random delay in the i-th tenth of D, and compare `cost query` with "before".
#  4. A final complete ingest succeeds, leaves no stray files, equals "after", and its
#     totals equal the DuckDB oracle's (real samples; concat: times CRASH_COPIES) and, for
#     the demo data, what `sagebox demo` itself stored.
set -euo pipefail
: "${SAGEBOX:?}" "${DATA:?}" "${TMP:?}" "${E2E:?}"
STORE="${STORE:-$TMP/store}"
ITER="${CRASH_ITERATIONS:-10}"
COPIES="${CRASH_COPIES:-50}"
SEED="${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}"
RANDOM=$((SEED % 32768))
INPUT="${CRASH_INPUT:-}"
if [[ -z "$INPUT" ]]; then
  if "$SAGEBOX" demo --help > /dev/null 2>&1; then INPUT=demo; else INPUT=concat; fi
fi
LEGACY="$DATA/real/focus-converters/sample-anonymous-aws-export-dataset.csv"
FOCUS="$DATA/real/focus-sample-data/FOCUS-1.0/focus_sample.csv"
ORACLE="$E2E/oracle/expected"
echo "crash test: seed $SEED, $ITER kills, input: $INPUT"

fail() { echo "crash test FAILED: $*"; exit 1; }

# make_concat COPIES: the legacy CUR's rows COPIES times, each copy with its own ids.
make_concat() {
  python3 - "$LEGACY" "$TMP/big.csv" "$1" <<'EOF'
import csv, os, sys
src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
idc = header.index("identity/LineItemId")
with open(dst + ".tmp", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    for k in range(copies):
        for r in body:
            r = list(r)
            r[idc] = f"{r[idc]}-copy{k:04d}"
            w.writerow(r)
os.replace(dst + ".tmp", dst)
EOF
}

snapshot() {  # snapshot STORE_DIR [--from D --to D]
  local dir=$1
  shift
  local range=(--from 2000-01-01 --to 2030-01-01)
  [[ $# -gt 0 ]] && range=("$@")
  "$SAGEBOX" --store "$dir" cost query --format csv --granularity DAILY \
    --group-by LINE_ITEM_TYPE --group-by USAGE_TYPE \
    --metrics UnblendedCost,BlendedCost,NetUnblendedCost,AmortizedCost,UsageQuantity "${range[@]}"
}

monthly_totals() {  # monthly_totals STORE_DIR FROM TO
  "$SAGEBOX" --store "$1" cost query --format csv --granularity MONTHLY --group-by LINE_ITEM_TYPE \
    --metrics UnblendedCost,BlendedCost,NetUnblendedCost,AmortizedCost,UsageQuantity \
    --from "$2" --to "$3"
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# 1. The state before, and the big input.
"$SAGEBOX" --store "$STORE" cost ingest -q "$LEGACY" "$FOCUS" > /dev/null || fail "ingest of the real samples"
if [[ $INPUT == demo ]]; then
  "$SAGEBOX" demo --dir "$TMP/demo-small" --months 1 --rows 5000 > /dev/null || fail "sagebox demo (small)"
  "$SAGEBOX" demo --dir "$TMP/demo-big" --months 1 --rows 57000 > /dev/null || fail "sagebox demo (big)"
  "$SAGEBOX" --store "$STORE" cost ingest -q "$TMP/demo-small/exports/legacy-csv" > /dev/null ||
    fail "ingest of the small demo delivery"
  BIG="$TMP/demo-big/exports/legacy-csv"
else
  make_concat 1
  "$SAGEBOX" --store "$STORE" cost ingest -q "$TMP/big.csv" > /dev/null || fail "ingest of the 1-copy big.csv"
  make_concat "$COPIES"
  BIG="$TMP/big.csv"
fi
echo "big input: $(($(du -sb "$BIG" | cut -f1) / 1048576)) MiB"
snapshot "$STORE" > "$TMP/before.csv" || fail "query of the state before"
cp -a "$STORE" "$TMP/backup"

# 2. The duration of a complete ingest, and the state after.
cp -a "$STORE" "$TMP/calibrate"
t0=$(now_ms)
"$SAGEBOX" --store "$TMP/calibrate" cost ingest -q "$BIG" > /dev/null || fail "calibration ingest"
D=$(($(now_ms) - t0))
snapshot "$TMP/calibrate" > "$TMP/after.csv" || fail "query of the state after"
cmp -s "$TMP/before.csv" "$TMP/after.csv" && fail "the big ingest did not change the query output"
echo "a complete ingest takes ${D} ms"

# 3. Kill it at random moments.
before_kept=0
after_kept=0
for i in $(seq 1 "$ITER"); do
  delay=$(( (D * (i - 1) + D * (RANDOM % 1000) / 1000) / ITER ))
  "$SAGEBOX" --store "$STORE" cost ingest -q "$BIG" > /dev/null 2>&1 &
  pid=$!
  sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
  kill -9 "$pid" 2> /dev/null || true
  rc=0
  { wait "$pid"; } 2> /dev/null || rc=$?
  if ! snapshot "$STORE" > "$TMP/now.csv" 2> "$TMP/now.err"; then
    fail "kill $i after ${delay} ms (exit $rc): the store is not readable: $(head -3 "$TMP/now.err")"
  fi
  if cmp -s "$TMP/before.csv" "$TMP/now.csv"; then
    [[ $rc == 137 ]] || fail "kill $i after ${delay} ms: ingest exited $rc but the store did not change"
    echo "kill $i/$ITER after ${delay} ms: killed, state before intact"
    before_kept=$((before_kept + 1))
  elif cmp -s "$TMP/after.csv" "$TMP/now.csv"; then
    # Past the commit point (or finished): the new state is complete, which is also atomic.
    echo "kill $i/$ITER after ${delay} ms: $([[ $rc == 137 ]] && echo "killed past the commit point" || echo "ingest had finished (exit $rc)"), new state complete"
    after_kept=$((after_kept + 1))
    rm -rf "$STORE" && cp -a "$TMP/backup" "$STORE"
  else
    diff "$TMP/before.csv" "$TMP/now.csv" | head -20
    fail "kill $i after ${delay} ms (exit $rc): the query output is neither the state before nor after"
  fi
done
[[ $before_kept -ge $((ITER / 2)) ]] ||
  fail "only $before_kept of $ITER kills hit a running ingest; the input is too small to test"

# 4. A complete ingest after all that.
"$SAGEBOX" --store "$STORE" cost ingest -q "$BIG" > /dev/null || fail "the final ingest failed"
snapshot "$STORE" > "$TMP/final.csv"
cmp -s "$TMP/after.csv" "$TMP/final.csv" || fail "the final state differs from a clean ingest's"
python3 - "$STORE" <<'EOF' || fail "stray files in the store after the final ingest"
import json, os, sys
d = sys.argv[1]
live = {s["file"] for s in json.load(open(os.path.join(d, "MANIFEST")))["segments"]}
stray = sorted(n for n in os.listdir(d) if n not in live and n not in ("MANIFEST", "LOCK"))
if stray:
    print("not named by MANIFEST:", stray)
    sys.exit(1)
EOF
factor=""
[[ $INPUT == concat ]] && factor="*$((COPIES + 1))"  # the copies plus the sample itself
monthly_totals "$STORE" 2023-11-01 2023-12-01 |
  python3 "$E2E/lib/compare_totals.py" - "$ORACLE/legacy_focus_converters.by_type.csv$factor" ||
  fail "final 2023-11 totals differ from the oracle"
monthly_totals "$STORE" 2024-09-01 2024-10-01 |
  python3 "$E2E/lib/compare_totals.py" - "$ORACLE/focus_sample.by_type.csv" ||
  fail "final 2024-09 totals differ from the oracle"
if [[ $INPUT == demo ]]; then
  demo_store="$TMP/demo-big/stores/legacy-csv"
  cmp -s <(snapshot "$STORE" --from 2024-01-01 --to 2024-02-01) \
    <(snapshot "$demo_store" --from 2024-01-01 --to 2024-02-01) ||
    fail "final January 2024 differs from what sagebox demo stored for the same delivery"
  echo "January 2024 equals sagebox demo's own store"
fi
echo "crash test passed: $before_kept kill(s) left the state before, $after_kept the state after"
