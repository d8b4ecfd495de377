#!/usr/bin/env bash
# pipeline_sweep.sh: the OCX-shaped example end to end (issue 16, "Measured": "the sweep of
# the OCX shape on real Debian data ... wall time against the sum of job times (parallel
# efficiency on 2 cores), and the best scores, which must equal what scikit-learn's own
# cross-validation gives for the same candidates").
#
# Runs examples/pipeline/ocx.yaml (3 stages × 11 candidates, plus the features and predict
# jobs) twice in fresh data folders: once as written (3 stages × 2 candidates at a time) and
# once one job at a time (both MaxConcurrency 1), the serial baseline whose wall time is the
# sum of uncontended job times. Job times of the parallel run are stretched by sharing 2
# cores, so the fair figure is serial wall / parallel wall (the speedup; at most 2 here). Also
# reads each run's sagemaker_jobs table (every job's own start and end) and compares the best
# model per stage with reference_cv.py's scikit-learn scores.
#
#   bench/pipeline_sweep.sh [SAGEBOX]      # default build/release/sagebox
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sagebox=$(realpath "${1:-build/release/sagebox}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3

sed -e 's/stage_max_concurrency: [0-9]*/stage_max_concurrency: 1/' \
  -e 's/candidate_max_concurrency: [0-9]*/candidate_max_concurrency: 1/' \
  "$root/examples/pipeline/ocx.yaml" > "$work/ocx-serial.yaml"
(cd "$root/examples/pipeline" && "$sagebox" --data "$work/serial" pipeline run \
  "$work/ocx-serial.yaml" --quiet --json > "$work/serial.json")
(cd "$root/examples/pipeline" && "$sagebox" --data "$work/data" pipeline run ocx.yaml --quiet \
  --json > "$work/run.json")
"$sagebox" pipeline compile "$root/examples/pipeline/ocx.yaml" -o "$work/ocx.asl.json"
"$py" "$root/examples/pipeline/reference_cv.py" "$work/ocx.asl.json" > "$work/reference.json"

"$py" - "$work" << 'EOF'
import json, sqlite3, sys
work = sys.argv[1]
ref = json.load(open(work + "/reference.json"))


def summary(label, name, folder):
    run = json.load(open(work + "/" + name + ".json"))
    db = sqlite3.connect(work + "/" + folder + "/sagebox.db")
    rows = db.execute("SELECT kind, started_us, ended_us FROM sagemaker_jobs").fetchall()
    wall = run["stopDate"] - run["startDate"]
    job_s = sum((e - s) / 1e6 for _, s, e in rows if s and e)
    print("%-9s %s: %d jobs (%d training), wall %.1f s, sum of job times %.1f s, cost $%s" % (
        label, run["status"], len(rows), sum(1 for r in rows if r[0] == "training"), wall, job_s,
        run["costUsd"]))
    return run, wall, job_s


serial, serial_wall, serial_jobs = summary("serial", "serial", "serial")
run, wall, _ = summary("parallel", "run", "data")
print("speedup %.2f (serial wall / parallel wall; 2 cores), parallel efficiency %.0f %%; "
      "serial overhead outside jobs %.1f s (%.1f %% of its wall)" % (
          serial_wall / wall, 100 * serial_wall / wall / 2, serial_wall - serial_jobs,
          100 * (serial_wall - serial_jobs) / serial_wall))
ok = serial["status"] == "SUCCEEDED"
for m in sorted(run["models"], key=lambda m: m["stage"]):
    got = float(m["metric"].split("=")[1])
    want = ref["stages"][m["stage"]]["best"]
    same = abs(got - want["mean"]) < 1e-9 and m["training_job"].startswith(
        m["stage"] + "-" + want["id"] + "-")
    ok = ok and same
    print("  %-14s best %-22s %.6f   scikit-learn %-22s %.6f   %s" % (
        m["stage"], m["training_job"].rsplit("-", 2)[0][len(m["stage"]) + 1:], got,
        want["id"], want["mean"], "equal" if same else "DIFFERENT"))
sys.exit(0 if ok and run["status"] == "SUCCEEDED" else 1)
EOF
