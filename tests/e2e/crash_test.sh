#!/usr/bin/env bash
# crash_test.sh: `kill -9` at any moment of an ingest leaves a readable store in the
# state before the ingest (or, past the commit point, the complete new state).
#
# Needs SAGEBOX, DATA, TMP and E2E (as tests/e2e/run.sh sets them); STORE defaults to
# $TMP/store. Knobs: CRASH_ITERATIONS (10), CRASH_COPIES (50: copies of the real legacy
# CUR's 1,281 rows, about 50 MB), CRASH_SEED (random; printed, to replay a run).
#
#  1. State: the FOCUS sample plus a 1-copy version of big.csv (a loose file).
#  2. big.csv is rewritten with CRASH_COPIES copies (new line item ids per copy): its
#     next ingest replaces the 1-copy segment. One complete ingest into a copy of the
#     store measures the duration D and gives the "after" state.
#  3. CRASH_ITERATIONS times: start the ingest in the background, `kill -9` it after a
#     random delay in the i-th tenth of D, and compare `cost query` with "before".
#  4. A final complete ingest succeeds, leaves no stray segment files, equals "after",
#     and its totals equal the DuckDB oracle's times CRASH_COPIES.
set -euo pipefail
: "${SAGEBOX:?}" "${DATA:?}" "${TMP:?}" "${E2E:?}"
STORE="${STORE:-$TMP/store}"
ITER="${CRASH_ITERATIONS:-10}"
COPIES="${CRASH_COPIES:-50}"
SEED="${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}"
RANDOM=$((SEED % 32768))
LEGACY="$DATA/real/focus-converters/sample-anonymous-aws-export-dataset.csv"
FOCUS="$DATA/real/focus-sample-data/FOCUS-1.0/focus_sample.csv"
BIG="$TMP/big.csv"
echo "crash test: seed $SEED, $ITER kills, $COPIES copies"

fail() { echo "crash test FAILED: $*"; exit 1; }

# make_big COPIES: the legacy CUR's rows COPIES times, each copy with its own line item ids.
make_big() {
  python3 - "$LEGACY" "$BIG" "$1" <<'EOF'
import csv, sys
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
import os
os.replace(dst + ".tmp", dst)
EOF
}

snapshot() {  # snapshot STORE_DIR
  "$SAGEBOX" --store "$1" cost query --format csv --granularity DAILY \
    --group-by LINE_ITEM_TYPE --group-by USAGE_TYPE \
    --metrics UnblendedCost,BlendedCost,NetUnblendedCost,AmortizedCost,UsageQuantity \
    --from 2000-01-01 --to 2030-01-01
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# 1. The state before.
"$SAGEBOX" --store "$STORE" cost ingest -q "$FOCUS" > /dev/null || fail "ingest of $FOCUS"
make_big 1
"$SAGEBOX" --store "$STORE" cost ingest -q "$BIG" > /dev/null || fail "ingest of the 1-copy big.csv"
snapshot "$STORE" > "$TMP/before.csv" || fail "query of the state before"
cp -a "$STORE" "$TMP/backup"

# 2. The big input, the duration of a complete ingest and the state after.
make_big "$COPIES"
echo "big.csv: $(($(stat -c %s "$BIG") / 1048576)) MiB, $((COPIES * 1281)) line items"
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
"$SAGEBOX" --store "$STORE" cost query --format csv --granularity MONTHLY --group-by LINE_ITEM_TYPE \
  --metrics UnblendedCost,BlendedCost,NetUnblendedCost,AmortizedCost,UsageQuantity \
  --from 2000-01-01 --to 2030-01-01 |
  python3 "$E2E/lib/compare_totals.py" - "$E2E/oracle/expected/legacy_focus_converters.by_type.csv*$COPIES" \
    "$E2E/oracle/expected/focus_sample.by_type.csv" || fail "final totals differ from the oracle"
echo "crash test passed: $before_kept kill(s) left the state before, $after_kept the state after"
