#!/usr/bin/env bash
# `sagebox pipeline run --executor slurm` on a real one-node Slurm cluster (the `slurm` test
# fixture, scripts/test-slurm.sh; SLURM_CONF names it): the example's real jobs, where one
# algorithm's first attempt of every candidate fails.
#   1. every Map fan-out is one job array with the Map's MaxConcurrency as its %K throttle,
#      and the Retry resubmits an array of only the failed indices;
#   2. the jobs ran inside Slurm array tasks (SLURM_ARRAY_JOB_ID in their environment) and
#      their logs are in <data>/pipeline/slurm;
#   3. the execution SUCCEEDS and the best per stage equals scikit-learn's cross-validation;
#   4. stopping a run scancels its pending tasks: the execution ends ABORTED and no job is
#      left InProgress.
# Usage: slurm_e2e.sh path/to/sagebox   (SLURM_CONF or SAGEBOX_TEST_SLURM set)
set -euo pipefail
sagebox="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
example="$here/../../examples/pipeline"
py=/usr/bin/python3
export SLURM_CONF="${SLURM_CONF:-${SAGEBOX_TEST_SLURM:-}}"
if [[ -z "$SLURM_CONF" || ! -f "$SLURM_CONF" ]]; then
  [[ -n "${CI:-}" ]] && { echo "slurm_e2e: FAIL: no Slurm cluster (SLURM_CONF)" >&2; exit 1; }
  echo "slurm_e2e: skipped: no Slurm cluster (scripts/test-slurm.sh start)"
  exit 0
fi
work="$(mktemp -d)"
run_pid=""
cleanup() {
  [[ -n "$run_pid" ]] && kill -9 "$run_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "slurm_e2e: FAIL: $*" >&2
  exit 1
}
sb() { "$sagebox" --data "$work/data" "$@"; }

# flaky_train.sh: random-forest's first attempt per candidate fails (markers in $work).
export FLAKY_DIR="$work"
# A one-stage config: write_config NAME FEATURES-FOLDER CANDIDATE-CONCURRENCY, algorithms on stdin.
write_config() {
  {
    cat << EOF
pipeline: $1
data: {root: s3://e2e/slurm}
defaults:
  instance_type: ml.m5.xlarge
  max_runtime_seconds: 300
  retry: {max_attempts: 1, interval_seconds: 1, backoff_rate: 1.0}
features:
  command: [$py, $example/jobs/features.py]
  outputs: {features: s3://e2e/slurm/$2}
training:
  channels: {train: s3://e2e/slurm/$2}
stages:
  - {name: iris, values: {dataset: iris}}
metric: {name: cv_accuracy, regex: 'cv_accuracy=([0-9.]+)', direction: maximize}
cross_validation: {folds: 3, seed: 7, scoring: accuracy}
registry: {model_name: '$1-{stage}', alias: champion}
limits: {stage_max_concurrency: 1, candidate_max_concurrency: $3}
algorithms:
EOF
    cat
  } > "$work/$1.yaml"
}
write_config e2e features 2 << EOF
  - name: logistic-regression
    command: [$py, $example/jobs/train.py]
    grid: {C: [0.1, 1.0], max_iter: [2000]}
  - name: random-forest
    command: [/bin/sh, $here/flaky_train.sh]
    grid: {n_estimators: [10, 20], max_depth: [3]}
EOF
cd "$work"

# 1-3. A run on Slurm.
sb pipeline run e2e.yaml --executor slurm --name onslurm --json > run.json 2> run.err ||
  fail "pipeline run --executor slurm: exit $? ($(tail -20 run.err))"
grep "slurm: array" run.err > arrays.txt || fail "no array was submitted: $(cat run.err)"
$py - "$work" << 'EOF' || fail "the arrays are wrong: $(cat "$work/arrays.txt")"
import json, re, sys
work = sys.argv[1]
arrays = {}
for line in open(work + "/arrays.txt"):
    m = re.search(r"slurm: array (\d+) \[([^\]]+)\] for (.*)$", line)
    assert m, line
    arrays.setdefault(m.group(3).split("#", 1)[1], []).append(m.group(2))
def key(suffix):
    hits = [k for k in arrays if k.endswith(suffix)]
    assert len(hits) == 1, (suffix, sorted(arrays))
    return hits[0]
# The features job: an array of one. The 4 candidates: one array throttled at 2; their
# Retry: an array of only the 2 random-forest indices.
assert arrays[key("Features#1")] == ["0"], arrays
first = arrays[key("/Candidates/Train#1")]
retry = arrays[key("/Candidates/Train#2")]
assert first == ["0-3%2"], first
def indices(spec):
    out = []
    for item in spec.split("%")[0].split(","):
        lo, _, hi = item.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out
assert len(retry) == 1 and retry[0].endswith("%2") and len(indices(retry[0])) == 2, retry
assert set(indices(retry[0])) < set(indices(first[0])), (first, retry)
run = json.load(open(work + "/run.json"))
assert run["status"] == "SUCCEEDED", run
assert [m["stage"] for m in run["models"]] == ["iris"], run["models"]
print("arrays:", {k.split("/", 1)[-1]: v for k, v in arrays.items()})
EOF
# Each random-forest attempt ran in a Slurm array task.
[[ "$(grep -c -v none slurm-tasks)" == 4 ]] || fail "jobs outside Slurm tasks: $(cat slurm-tasks)"
ls data/pipeline/slurm/slurm-*_*.out > /dev/null 2>&1 || fail "no Slurm task logs in data/pipeline/slurm"
"$sagebox" pipeline compile e2e.yaml -o e2e.asl.json
$py "$example/reference_cv.py" e2e.asl.json > reference.json
$py - "$work" << 'EOF' || fail "the best score differs from scikit-learn's"
import json, sys
work = sys.argv[1]
ref = json.load(open(work + "/reference.json"))
run = json.load(open(work + "/run.json"))
for m in run["models"]:
    name, value = m["metric"].split("=")
    assert abs(float(value) - ref["stages"][m["stage"]]["best"]["mean"]) < 1e-9, m
EOF

# 4. Stopped while its tasks wait: scancel, ABORTED, nothing left running.
write_config slow features2 1 << 'EOF'
  - name: sleeper
    command: [/bin/sh, -c, 'sleep 120']
    grid: {n: [1, 2, 3, 4]}
EOF
"$sagebox" --data "$work/data" pipeline run slow.yaml --executor slurm --name stopped \
  > stopped.out 2> stopped.err &
run_pid=$!
for _ in $(seq 1 600); do
  grep -q "slurm: array .*Candidates/Train#1" stopped.err && break
  sleep 0.1
done
grep -q "slurm: array .*Candidates/Train#1" stopped.err || fail "no candidate array: $(cat stopped.err)"
sleep 3
kill -TERM "$run_pid"
set +e
wait "$run_pid"
rc=$?
set -e
run_pid=""
[[ $rc == 5 ]] || fail "a stopped run: exit $rc ($(tail -5 stopped.err))"
sb pipeline status stopped --json | $py -c 'import json,sys; e=json.load(sys.stdin); assert e["status"]=="ABORTED", e' ||
  fail "the stopped run is not ABORTED"
# No job is left open, and Slurm has no task of ours left running or pending.
open_jobs="$($py -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM sagemaker_jobs WHERE status IN ('InProgress','Stopping')\").fetchone()[0])" data/sagebox.db)"
[[ "$open_jobs" == 0 ]] || fail "jobs left open after the stop: $open_jobs"
for _ in $(seq 1 100); do
  [[ -z "$(squeue --noheader --name=sagebox --states=PENDING,RUNNING 2> /dev/null)" ]] && break
  sleep 0.2
done
[[ -z "$(squeue --noheader --name=sagebox --states=PENDING,RUNNING)" ]] ||
  fail "Slurm still runs our tasks: $(squeue --name=sagebox)"
echo "slurm_e2e: ok"
