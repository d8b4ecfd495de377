#!/usr/bin/env bash
# same_as_csv.sh CSV_PATH PARQUET_PATH...
#
# Ingests CSV_PATH into one store and each PARQUET_PATH (a file or folder) into a store
# of its own, runs the same detailed queries over every store (`cost query --format
# csv`: all metrics by line item type, by usage type and region daily, by tag and
# account, by resource, by AZ/operation/purchase type) and requires byte-identical
# output: costs are printed exactly (Decimal, 10 places), so equal text means equal
# totals to 10 decimal places. Prints one OK line, or the first difference and exits 1.
set -uo pipefail
csv=$1
shift
queries=(
  "--granularity MONTHLY --group-by LINE_ITEM_TYPE"
  "--granularity DAILY --group-by USAGE_TYPE --group-by REGION"
  "--granularity MONTHLY --group-by TAG:project --group-by LINKED_ACCOUNT"
  "--granularity MONTHLY --group-by TAG:team --group-by PAYER_ACCOUNT"
  "--granularity MONTHLY --group-by RESOURCE_ID"
  "--granularity HOURLY --group-by AZ --group-by OPERATION"
  "--granularity MONTHLY --group-by PURCHASE_TYPE --group-by SERVICE"
)
snapshot() {
  local store=$1 out=$2
  : > "$out"
  for q in "${queries[@]}"; do
    # shellcheck disable=SC2086
    "$SAGEBOX" --store "$store" cost query --format csv $q \
      --metrics UnblendedCost,BlendedCost,NetUnblendedCost,AmortizedCost,UsageQuantity \
      --from 2000-01-01 --to 2030-01-01 >> "$out" || return 1
  done
}
"$SAGEBOX" --store "$TMP/csv-store" cost ingest -q "$csv" > /dev/null || exit 1
snapshot "$TMP/csv-store" "$TMP/csv.txt" || exit 1
lines=$(wc -l < "$TMP/csv.txt")
i=0
for pq in "$@"; do
  i=$((i + 1))
  "$SAGEBOX" --store "$TMP/pq-store-$i" cost ingest -q "$pq" > /dev/null || exit 1
  snapshot "$TMP/pq-store-$i" "$TMP/pq-$i.txt" || exit 1
  if ! cmp -s "$TMP/csv.txt" "$TMP/pq-$i.txt"; then
    echo "DIFFERENT: $(basename "$pq") vs $(basename "$csv")"
    diff -u "$TMP/csv.txt" "$TMP/pq-$i.txt" | head -30
    exit 1
  fi
done
echo "OK: $# Parquet input(s) give the same ${#queries[@]} queries ($lines lines) as the CSV"
