#!/usr/bin/env bash
# pipeline_overhead.sh: what `sagebox pipeline run` adds per task, process against process
# (issue 16, "Scheduling overhead per task and per Map iteration (10,000 trivial iterations)
# against running the same commands with xargs -P").
#
# The same N trivial commands (/bin/true) run twice, 2 at a time, on this machine:
#   xargs    seq N | xargs -P 2 -n 1 /bin/true
#   sagebox  a state machine whose Map (MaxConcurrency 2) runs one SageMaker processing job
#            per item (createProcessingJob.sync: request validation, the job's row, its /opt/ml
#            work area and logs, the job runner, the history events and checkpoints in SQLite)
# 10,000 inline iterations write about 60,000 history events, past Step Functions' 25,000, so
# the run raises the limit (--max-history-events). Each is timed end to end (wall seconds, from the process's start to its exit); the
# difference per item is sagebox's overhead per task, and the ratio is printed.
#
#   bench/pipeline_overhead.sh [N] [SAGEBOX]      # default 10000, build/release/sagebox
set -euo pipefail
n=${1:-10000}
sagebox=$(realpath "${2:-build/release/sagebox}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$n" "$work" << 'EOF'
import json, sys
n, work = int(sys.argv[1]), sys.argv[2]
job = {
    "Type": "Task",
    "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
    "Parameters": {
        "ProcessingJobName.$": "States.Format('t-{}', $.i)",
        "RoleArn": "arn:aws:iam::123456789012:role/R",
        "AppSpecification": {"ImageUri": "local", "ContainerEntrypoint": ["/bin/true"]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1,
                                                  "InstanceType": "ml.m5.xlarge",
                                                  "VolumeSizeInGB": 1}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60}},
    "ResultSelector": {"s.$": "$.ProcessingJobStatus"},
    "End": True}
asl = {"StartAt": "Fan", "States": {"Fan": {
    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Job",
                      "States": {"Job": job}},
    "ResultSelector": {"n.$": "States.ArrayLength($)"}, "End": True}}}
json.dump(asl, open(work + "/overhead.asl.json", "w"))
json.dump({"items": [{"i": i} for i in range(n)]}, open(work + "/input.json", "w"))
EOF

now() { date +%s.%N; }
t0=$(now)
seq "$n" | xargs -P 2 -n 1 /bin/true
t1=$(now)
xargs_s=$(echo "$t1 - $t0" | bc -l)

t0=$(now)
"$sagebox" --data "$work/data" pipeline run "$work/overhead.asl.json" --quiet --json --max-history-events 100000 \
  --input "$(cat "$work/input.json")" > "$work/result.json"
t1=$(now)
sagebox_s=$(echo "$t1 - $t0" | bc -l)
status=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], d["output"]["n"])' "$work/result.json")
[[ "$status" == "SUCCEEDED $n" ]] || { echo "sagebox run: $status" >&2; exit 1; }

/usr/bin/python3 - "$n" "$xargs_s" "$sagebox_s" << 'EOF'
import sys
n, x, s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print("items %d, 2 at a time" % n)
print("xargs -P 2        %8.2f s   %7.3f ms per command" % (x, 1000 * x / n))
print("sagebox pipeline  %8.2f s   %7.3f ms per task" % (s, 1000 * s / n))
print("overhead per task %8.3f ms (sagebox - xargs, per item); ratio %.1fx" % (1000 * (s - x) / n, s / x))
EOF
