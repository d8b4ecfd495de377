#!/usr/bin/env bash
# End-to-end cases against the sagebox binary.
#
#   tests/e2e/run.sh path/to/sagebox [CASE_NAME_SUBSTRING...]
#
# Each case is a folder tests/e2e/cases/<name>/ with
#   cmd                 shell text run by bash (pipefail) in a fresh temp folder; it sees
#                       $SAGEBOX (the binary), $STORE (a fresh, not yet existing store folder),
#                       $DATA (tests/data), $TMP (the temp folder, also the working directory),
#                       $E2E (tests/e2e, for the helpers in lib/), $ROOT (the repository) and
#                       $CASE (the case folder)
#   expected_exit       the exit code (default 0)
#   expected_stdout     stdout, exactly          | expected_stdout.re  a Python regex that must
#   expected_stderr     stderr, exactly          | expected_stderr.re  match somewhere (re.search,
#                                                                      MULTILINE)
#   timeout             seconds (default 300)
# Streams without an expected_* file are not checked. Prints one line per case and
# "N passed, M failed" last; exits 1 if any case failed. E2E_KEEP=1 keeps the temp folders.
# E2E_SHARD=I/N runs every N-th case starting at the I-th (0-based), so CTest can run
# the suite as N tests in parallel.
set -uo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 path/to/sagebox [CASE_NAME_SUBSTRING...]" >&2
  exit 2
fi
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$E2E/../.." && pwd)"
SAGEBOX="$(realpath "$1")"
shift
if [[ ! -x "$SAGEBOX" ]]; then
  echo "e2e: $SAGEBOX is not an executable" >&2
  exit 2
fi
export SAGEBOX E2E ROOT
export DATA="$ROOT/tests/data"
# Sanitizer builds: fail loudly, no colour codes in the captured stderr.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:color=never}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:color=never}"
unset SAGEBOX_STORE SAGEBOX_DATA SAGEBOX_DATABASE SAGEBOX_MASTER_KEY

passed=0
failed=0
failed_names=()

# check STREAM ACTUAL_FILE CASE_DIR -> prints a reason and returns 1 on mismatch
check_stream() {
  local stream=$1 actual=$2 dir=$3
  if [[ -f "$dir/expected_$stream" ]]; then
    if ! cmp -s "$dir/expected_$stream" "$actual"; then
      echo "    $stream differs from expected_$stream:"
      diff -u "$dir/expected_$stream" "$actual" | head -40 | sed 's/^/    /'
      return 1
    fi
  fi
  if [[ -f "$dir/expected_$stream.re" ]]; then
    if ! python3 - "$dir/expected_$stream.re" "$actual" <<'EOF'; then
import re, sys
pattern = open(sys.argv[1], encoding="utf-8").read().strip("\n")
text = open(sys.argv[2], encoding="utf-8", errors="replace").read()
sys.exit(0 if re.search(pattern, text, re.MULTILINE) else 1)
EOF
      echo "    $stream does not match expected_$stream.re:"
      sed 's/^/    | /' "$dir/expected_$stream.re"
      echo "    actual $stream:"
      head -40 "$actual" | sed 's/^/    > /'
      return 1
    fi
  fi
  return 0
}

shard_i=0
shard_n=1
if [[ -n "${E2E_SHARD:-}" ]]; then
  shard_i="${E2E_SHARD%/*}"
  shard_n="${E2E_SHARD#*/}"
fi
index=-1
for dir in "$E2E"/cases/*/; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  index=$((index + 1))
  (( index % shard_n == shard_i )) || continue
  if [[ $# -gt 0 ]]; then
    match=0
    for f in "$@"; do [[ "$name" == *"$f"* ]] && match=1; done
    [[ $match == 1 ]] || continue
  fi
  if [[ ! -f "$dir/cmd" ]]; then
    echo "FAIL $name: no cmd file"
    failed=$((failed + 1)); failed_names+=("$name")
    continue
  fi
  TMP="$(mktemp -d "${TMPDIR:-/tmp}/sagebox-e2e-$name.XXXXXX")"
  export TMP CASE="$dir" STORE="$TMP/store"
  want_exit=0
  [[ -f "$dir/expected_exit" ]] && want_exit="$(tr -d '[:space:]' < "$dir/expected_exit")"
  limit=300
  [[ -f "$dir/timeout" ]] && limit="$(tr -d '[:space:]' < "$dir/timeout")"
  start=${EPOCHREALTIME/./}
  (cd "$TMP" && exec timeout -k 10 "$limit" bash -o pipefail -c "$(cat "$dir/cmd")") \
    < /dev/null > "$TMP/.stdout" 2> "$TMP/.stderr"
  rc=$?
  ms=$(( (${EPOCHREALTIME/./} - start) / 1000 ))
  secs="$((ms / 1000)).$(( (ms % 1000) / 100 ))"
  report=""
  if [[ $rc == 124 ]]; then
    report+="    timed out after ${limit}s"$'\n'
  elif [[ "$rc" != "$want_exit" ]]; then
    report+="    exit code $rc, expected $want_exit"$'\n'
  fi
  if out="$(check_stream stdout "$TMP/.stdout" "$dir")"; then :; else report+="$out"$'\n'; fi
  if out="$(check_stream stderr "$TMP/.stderr" "$dir")"; then :; else report+="$out"$'\n'; fi
  if [[ -z "$report" ]]; then
    echo "PASS $name (${secs}s)"
    passed=$((passed + 1))
  else
    echo "FAIL $name (${secs}s)"
    printf '%s' "$report"
    if [[ "$rc" != "$want_exit" && ! -f "$dir/expected_stderr" && ! -f "$dir/expected_stderr.re" ]]; then
      echo "    stderr:"
      tail -20 "$TMP/.stderr" | sed 's/^/    > /'
    fi
    failed=$((failed + 1))
    failed_names+=("$name")
  fi
  if [[ "${E2E_KEEP:-0}" == 1 ]]; then
    echo "    (kept $TMP)"
  else
    rm -rf "$TMP"
  fi
done

if [[ $failed -gt 0 ]]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
