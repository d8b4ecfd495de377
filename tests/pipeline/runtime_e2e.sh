#!/usr/bin/env bash
# `sagebox pipeline` end to end, on the example's real jobs (scikit-learn on Debian's
# datasets): a config with two stages and two algorithms, where one algorithm's first attempt
# of every candidate fails (a hidden failure the Retry absorbs).
#   1. bad inputs start nothing: a config with an error exits 2 naming file:line, an
#      unknown executor is refused, and no execution is recorded;
#   2. `pipeline run` SUCCEEDS; every candidate is a run, the best per stage is registered,
#      and its score equals scikit-learn's own cross-validation (reference_cv.py);
#   3. a run killed with SIGKILL mid-way resumes (`pipeline resume`) without re-running the
#      features job that had completed, and SUCCEEDS;
#   4. status, runs and models answer as tables and JSON;
#   5. `job exec` refuses an unknown job (exit 2) and one that already ran (exit 1).
# Usage: runtime_e2e.sh path/to/sagebox
set -euo pipefail
sagebox="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
example="$here/../../examples/pipeline"
py=/usr/bin/python3
work="$(mktemp -d)"
run_pid=""
cleanup() {
  [[ -n "$run_pid" ]] && kill -9 "$run_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "runtime_e2e: FAIL: $*" >&2
  exit 1
}
sb() { "$sagebox" --data "$work/data" "$@"; }

# The features job counts its runs.
cat > "$work/features.sh" << EOF
#!/bin/sh
echo run >> "$work/features.count"
exec $py "$example/jobs/features.py" "\$@"
EOF
# flaky_train.sh: random-forest's first attempt per candidate fails (markers in $work).
export FLAKY_DIR="$work"
cat > "$work/e2e.yaml" << EOF
pipeline: e2e-small
data: {root: s3://e2e/small}
defaults:
  instance_type: ml.m5.xlarge
  max_runtime_seconds: 300
  retry: {max_attempts: 1, interval_seconds: 1, backoff_rate: 1.0}
features:
  command: [/bin/sh, $work/features.sh]
  outputs: {features: s3://e2e/small/features}
training:
  channels: {train: s3://e2e/small/features}
stages:
  - {name: iris, values: {dataset: iris}}
  - {name: wine, values: {dataset: wine}}
algorithms:
  - name: logistic-regression
    command: [$py, $example/jobs/train.py]
    grid: {C: [0.1, 1.0], max_iter: [2000]}
  - name: random-forest
    command: [/bin/sh, $here/flaky_train.sh]
    grid: {n_estimators: [20], max_depth: [3]}
metric: {name: cv_accuracy, regex: 'cv_accuracy=([0-9.]+)', direction: maximize}
cross_validation: {folds: 3, seed: 7, scoring: accuracy}
registry: {model_name: 'e2e-{stage}', alias: champion}
limits: {stage_max_concurrency: 2, candidate_max_concurrency: 2}
EOF
cd "$work"

# 1. Bad inputs start nothing.
sed 's/direction: maximize/direction: upward/' e2e.yaml > bad.yaml
set +e
sb pipeline run bad.yaml > bad.out 2> bad.err
rc=$?
set -e
[[ $rc == 2 ]] || fail "a bad config: exit $rc, expected 2"
grep -q "bad.yaml:[0-9]*:[0-9]*" bad.err || fail "the error names no file:line:col: $(cat bad.err)"
grep -q "direction" bad.err || fail "the error names no key: $(cat bad.err)"
sb pipeline validate bad.yaml > /dev/null 2>&1 && fail "validate accepted bad.yaml"
sb pipeline validate e2e.yaml | grep -q "valid" || fail "validate refused e2e.yaml"
sb pipeline run e2e.yaml --executor k8s > /dev/null 2> executor.err && fail "--executor k8s ran"
grep -q "expected local or slurm" executor.err || fail "--executor k8s: $(cat executor.err)"
[[ "$(sb pipeline status --json)" == "[]" ]] || fail "refused runs recorded an execution"

# 2. A run: the hidden failures are retried, the execution SUCCEEDS.
sb pipeline run e2e.yaml --name first --json > first.json 2> first.err ||
  fail "pipeline run: exit $? ($(tail -5 first.err))"
[[ "$($py -c 'import json,sys; print(json.load(open("first.json"))["status"])')" == SUCCEEDED ]] ||
  fail "first run: $(cat first.json)"
grep -q "random-forest-0-.*-0 Failed" first.err || fail "no hidden failure was retried: $(cat first.err)"
[[ "$(wc -l < features.count)" == 1 ]] || fail "features ran $(wc -l < features.count) times"
sb pipeline runs --json > runs.json
$py - "$work" << 'EOF' || fail "runs or models are wrong"
import json, sys
work = sys.argv[1]
runs = json.load(open(work + "/runs.json"))
# 2 stages x 3 candidates, each logged once (the retried ones too), all FINISHED.
assert len(runs) == 6, runs
assert all(r["status"] == "FINISHED" for r in runs), [r["status"] for r in runs]
assert all("cv_accuracy" in r["metrics"] and r["cost_usd"] for r in runs), runs
assert sorted({r["stage"] for r in runs}) == ["iris", "wine"]
first = json.load(open(work + "/first.json"))
models = {m["stage"]: m for m in first["models"]}
assert sorted(models) == ["iris", "wine"], first["models"]
EOF
"$sagebox" pipeline compile e2e.yaml -o e2e.asl.json
$py "$example/reference_cv.py" e2e.asl.json > reference.json
$py - "$work" << 'EOF' || fail "best scores differ from scikit-learn's"
import json, sys
work = sys.argv[1]
ref = json.load(open(work + "/reference.json"))
first = json.load(open(work + "/first.json"))
for m in first["models"]:
    name, value = m["metric"].split("=")
    want = ref["stages"][m["stage"]]["best"]["mean"]
    assert name == "cv_accuracy", m
    assert abs(float(value) - want) < 1e-9, (m, want)
    assert m["training_job"].startswith(m["stage"] + "-" + ref["stages"][m["stage"]]["best"]["id"]), (m, ref["stages"][m["stage"]]["best"])
print("best per stage equals reference_cv.py")
EOF

# 3. Killed mid-way, then resumed: the completed features job does not run again.
rm -f attempted*
# Not through sb(): `&` on a function forks a subshell, and kill would hit that, not sagebox.
"$sagebox" --data "$work/data" pipeline run e2e.yaml --name killed > killed.out 2> killed.err &
run_pid=$!
for _ in $(seq 1 300); do
  [[ "$(wc -l < features.count)" == 2 ]] && grep -q "features-.* Completed" killed.err && break
  sleep 0.1
done
grep -q "features-.* Completed" killed.err || fail "the features job of 'killed' never completed: $(cat killed.err)"
sleep 1
kill -9 "$run_pid"
wait "$run_pid" 2> /dev/null || true
run_pid=""
sb pipeline status killed --json > killed-status.json
sb pipeline resume killed --json > resumed.json 2> resumed.err ||
  fail "resume: exit $? ($(tail -5 resumed.err))"
$py - "$work" << 'EOF' || fail "the resumed execution is wrong"
import json, sys
work = sys.argv[1]
before = json.load(open(work + "/killed-status.json"))
after = json.load(open(work + "/resumed.json"))
# The dead process's execution was recovered as interrupted by the next command.
assert before["status"] == "FAILED" and before.get("error") == "sagebox.Interrupted", before
assert after["status"] == "SUCCEEDED", after
assert after["redriveCount"] == 1, after
assert sorted(m["stage"] for m in after["models"]) == ["iris", "wine"], after["models"]
EOF
[[ "$(wc -l < features.count)" == 2 ]] || fail "resume re-ran the completed features job"
grep -q "started" resumed.err || fail "resume ran no job: $(cat resumed.err)"

# 4. Status, runs and models for people.
sb pipeline status | grep -q "killed .*SUCCEEDED" || fail "status: $(sb pipeline status)"
sb pipeline status first | grep -q "Best model per stage" || fail "status first: $(sb pipeline status first)"
sb pipeline runs --stage wine | grep -q "wine-logistic-regression-0" || fail "runs --stage wine"
sb pipeline models | grep -q "e2e-iris .*champion" || fail "models: $(sb pipeline models)"

# 5. `job exec` (what a Slurm task runs) starts only a deferred job still waiting.
set +e
sb job exec training no-such-job > /dev/null 2> exec.err
rc=$?
set -e
[[ $rc == 2 ]] || fail "job exec of an unknown job: exit $rc ($(cat exec.err))"
done_job="$($py -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT name FROM sagemaker_jobs WHERE kind='processing' AND status='Completed' LIMIT 1\").fetchone()[0])" data/sagebox.db)"
set +e
sb job exec processing "$done_job" > /dev/null 2> exec.err
rc=$?
set -e
[[ $rc == 1 ]] && grep -q "already started" exec.err || fail "job exec of a finished job: exit $rc ($(cat exec.err))"
echo "runtime_e2e: ok"
