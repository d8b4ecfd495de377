#!/usr/bin/env bash
# bad_ingest.sh STATE_PATH BAD_PATH...
#
# Ingests STATE_PATH into $STORE (the "before" state), snapshots the store (a detailed
# `cost query --format csv` plus the store's file names and checksums), runs
# `sagebox cost ingest BAD_PATH...` with its stdout and stderr passed through, snapshots
# again and exits with the bad ingest's exit code, or 98 if the store changed (the
# difference is printed on stderr), or 99 if setting up the state failed.
set -uo pipefail
state=$1
shift

if ! "$SAGEBOX" --store "$STORE" cost ingest -q "$state" > /dev/null; then
  echo "bad_ingest.sh: setting up the state (ingest $state) failed" >&2
  exit 99
fi

snapshot() {
  "$SAGEBOX" --store "$STORE" cost query --format csv --granularity DAILY \
    --group-by LINE_ITEM_TYPE --group-by USAGE_TYPE \
    --metrics UnblendedCost,BlendedCost,NetUnblendedCost,AmortizedCost,UsageQuantity \
    --from 2000-01-01 --to 2030-01-01 || echo "query failed with exit code $?"
  echo "--- store files"
  (cd "$STORE" && find . -type f | LC_ALL=C sort | xargs sha256sum)
}

snapshot > "$TMP/before.txt" 2>&1
if [[ -n "${BEFORE_BAD:-}" ]] && ! bash -c "$BEFORE_BAD"; then
  echo "bad_ingest.sh: BEFORE_BAD failed" >&2
  exit 99
fi
"$SAGEBOX" --store "$STORE" cost ingest "$@"
rc=$?
snapshot > "$TMP/after.txt" 2>&1
if ! cmp -s "$TMP/before.txt" "$TMP/after.txt"; then
  echo "bad_ingest.sh: THE STORE CHANGED after the failed ingest (exit code $rc):" >&2
  diff -u "$TMP/before.txt" "$TMP/after.txt" | head -30 >&2
  exit 98
fi
exit $rc
