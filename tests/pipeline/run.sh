#!/usr/bin/env bash
# End to end for SageMaker jobs run as local processes (pipeline/sagemaker):
#   1. `sagebox serve` on a free port with a temporary data folder; boto3's `sagemaker`
#      client (tests/pipeline/sagemaker_jobs.py) creates, waits for, describes, lists and
#      stops processing and training jobs (a scikit-learn script on Debian's iris data);
#      then boto3's `stepfunctions` client (tests/pipeline/stepfunctions.py) runs state
#      machines of processing jobs: start, wait, history, list, redrive, stop, errors;
#   2. `sagebox job run` through the CLI: a training job from flags (log lines on stderr,
#      --json prints DescribeTrainingJob, exit 0), a failing processing job (exit 5 with the
#      FailureReason), a --request file, and a usage error.
# Usage: run.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
sb() { "$bin" --data "$tmp/data" "$@"; }

mkdir -p "$tmp/data/s3/datasets/iris"
cp "$here/../data/pipeline/iris.csv" "$tmp/data/s3/datasets/iris/iris.csv"

# 1. boto3 against the server.
start_server "$tmp/port" "$tmp/server.log" "$bin" --data "$tmp/data" serve --listen 127.0.0.1:0 \
  --port-file "$tmp/port"
$py "$here/sagemaker_jobs.py" "http://127.0.0.1:$server_port" "$tmp/data" \
  "$here/jobs/train_iris.py" > "$tmp/boto3.out" 2>&1 || fail "boto3: $(cat "$tmp/boto3.out")"
cat "$tmp/boto3.out"
$py "$here/stepfunctions.py" "http://127.0.0.1:$server_port" "$tmp" > "$tmp/sfn.out" 2>&1 ||
  fail "stepfunctions: $(cat "$tmp/sfn.out")"
cat "$tmp/sfn.out"
stop_server "$server_pid" || fail "server exit status"

# 2. The CLI.
sb job run --kind training --name cli-iris --channel train=s3://datasets/iris \
  --hyperparameter max_depth=2 --metric 'cv:accuracy=cv_accuracy=([0-9.]+)' \
  --output-path s3://models/cli --json -- /usr/bin/python3 "$here/jobs/train_iris.py" \
  > "$tmp/cli.json" 2> "$tmp/cli.err" || fail "job run: $(cat "$tmp/cli.err")"
grep -q '^\[algo-1\] loaded 150 rows, max_depth=2' "$tmp/cli.err" || fail "no log streaming: $(cat "$tmp/cli.err")"
grep -q 'cli-iris InProgress (' "$tmp/cli.err" || fail "no progress: $(cat "$tmp/cli.err")"
grep -Eq 'cli-iris Completed: [0-9]+ s x 1 ml.m5.xlarge at \$0.23/h \(us-east-1\) = \$' "$tmp/cli.err" ||
  fail "no cost line: $(cat "$tmp/cli.err")"
$py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["TrainingJobStatus"] == "Completed" and d["FinalMetricDataList"][0]["MetricName"] == "cv:accuracy" and d["HyperParameters"] == {"max_depth": "2"}, d' \
  "$tmp/cli.json" || fail "job run --json: $(cat "$tmp/cli.json")"
[[ -s "$tmp/data/s3/models/cli/cli-iris/output/model.tar.gz" ]] || fail "no model.tar.gz"

set +e
sb job run --name cli-fails -- /bin/sh -c 'echo "reading input" ; echo "KeyError: label" >&2; exit 4' \
  > /dev/null 2> "$tmp/fail.err"
code=$?
set -e
[[ $code == 5 ]] || fail "failing job: exit $code, expected 5: $(cat "$tmp/fail.err")"
grep -q 'cli-fails Failed: AlgorithmError: algo-1 ended with exit code 4: KeyError: label' "$tmp/fail.err" ||
  fail "failing job message: $(cat "$tmp/fail.err")"

cat > "$tmp/request.json" << JSON
{"ProcessingJobName": "from-file", "RoleArn": "arn:aws:iam::123456789012:role/R",
 "AppSpecification": {"ImageUri": "local", "ContainerEntrypoint": ["/bin/cp"],
   "ContainerArguments": ["/opt/ml/processing/input/iris/iris.csv", "/opt/ml/processing/output/copy.csv"]},
 "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium", "VolumeSizeInGB": 1}},
 "ProcessingInputs": [{"InputName": "iris", "S3Input": {"S3Uri": "s3://datasets/iris",
   "LocalPath": "/opt/ml/processing/input/iris", "S3DataType": "S3Prefix"}}],
 "ProcessingOutputConfig": {"Outputs": [{"OutputName": "copy", "S3Output": {"S3Uri": "file://$tmp/copied",
   "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]}}
JSON
sb job run --request "$tmp/request.json" --quiet || fail "job run --request"
cmp -s "$tmp/copied/copy.csv" "$here/../data/pipeline/iris.csv" || fail "--request output differs"

set +e
sb job run --name bad_name -- true 2> "$tmp/usage.err"
code=$?
set -e
[[ $code == 1 ]] || fail "bad name: exit $code, expected 1"
grep -q "processingJobName" "$tmp/usage.err" || fail "bad name message: $(cat "$tmp/usage.err")"
sb job run --help | grep -q 'sagebox job run --kind training' || fail "--help has no example"
echo "pipeline_jobs_e2e: OK"
