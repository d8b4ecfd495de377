#!/usr/bin/python3
"""boto3's `sagemaker` client against `sagebox serve` (run by tests/pipeline/run.sh).

Usage: sagemaker_jobs.py URL DATA_DIR TRAIN_SCRIPT
DATA_DIR is the server's data folder: s3://bucket/key is DATA_DIR/s3/bucket/key there.
"""
import os
import sys

import boto3
import botocore

url, data, train_script = sys.argv[1], sys.argv[2], sys.argv[3]
sm = boto3.client("sagemaker", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
FAST = {"Delay": 1, "MaxAttempts": 120}  # boto3's waiters poll every 60-120 s by default


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)


def processing(name, script, count=1, inputs=None, outputs=None):
    req = dict(
        ProcessingJobName=name, RoleArn=ROLE,
        AppSpecification={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/prep:1",
                          "ContainerEntrypoint": ["/bin/sh", "-c"], "ContainerArguments": [script]},
        ProcessingResources={"ClusterConfig": {"InstanceCount": count,
                                               "InstanceType": "ml.m5.xlarge",
                                               "VolumeSizeInGB": 30}},
        StoppingCondition={"MaxRuntimeInSeconds": 300})
    if inputs:
        req["ProcessingInputs"] = inputs
    if outputs:
        req["ProcessingOutputConfig"] = {"Outputs": outputs}
    return sm.create_processing_job(**req)


# 1. A processing job sharding 10 objects over 3 hosts, each writing what it got.
os.makedirs(f"{data}/s3/raw/parts", exist_ok=True)
for i in range(10):
    with open(f"{data}/s3/raw/parts/part-{i:02d}.csv", "w") as f:
        f.write(f"{i}\n")
arn = processing(
    "shard-3", 'cd "$SAGEBOX_ML_ROOT" && host=$(sed \'s/.*"current_host": *"\\([^"]*\\)".*/\\1/\' '
    'config/resourceconfig.json) && cat processing/input/parts/*.csv > processing/output/$host.txt',
    count=3,
    inputs=[{"InputName": "parts", "S3Input": {
        "S3Uri": "s3://raw/parts", "LocalPath": "/opt/ml/processing/input/parts",
        "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": "ShardedByS3Key"}}],
    outputs=[{"OutputName": "sums", "S3Output": {
        "S3Uri": "s3://clean/shard-3", "LocalPath": "/opt/ml/processing/output",
        "S3UploadMode": "EndOfJob"}}])["ProcessingJobArn"]
check(arn == "arn:aws:sagemaker:us-east-1:123456789012:processing-job/shard-3" or
      arn.endswith(":processing-job/shard-3"), f"arn {arn}")
sm.get_waiter("processing_job_completed_or_stopped").wait(ProcessingJobName="shard-3",
                                                          WaiterConfig=FAST)
d = sm.describe_processing_job(ProcessingJobName="shard-3")
check(d["ProcessingJobStatus"] == "Completed", f"shard-3: {d}")
check(d["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 3, "echoed resources")
check(d["ProcessingEndTime"] >= d["ProcessingStartTime"], "times")
got = {}
for h in ("algo-1", "algo-2", "algo-3"):
    with open(f"{data}/s3/clean/shard-3/{h}.txt") as f:
        got[h] = [int(x) for x in f.read().split()]
check(got == {"algo-1": [0, 3, 6, 9], "algo-2": [1, 4, 7], "algo-3": [2, 5, 8]}, f"shards {got}")
print("processing: 10 objects over 3 hosts:", got)

# 2. A failing job; ListProcessingJobs(StatusEquals=Failed) returns exactly it.
processing("breaks", 'echo "ValueError: column price is empty" > "$SAGEBOX_ML_ROOT/output/failure"; exit 2')
try:
    sm.get_waiter("processing_job_completed_or_stopped").wait(ProcessingJobName="breaks",
                                                              WaiterConfig=FAST)
    raise SystemExit("FAIL: the waiter accepted a failed job")
except botocore.exceptions.WaiterError as e:
    check("Failed" in str(e), f"waiter error {e}")
d = sm.describe_processing_job(ProcessingJobName="breaks")
check(d["ProcessingJobStatus"] == "Failed", d["ProcessingJobStatus"])
check(d["FailureReason"] == "ValueError: column price is empty\n", repr(d["FailureReason"]))
failed = sm.list_processing_jobs(StatusEquals="Failed")["ProcessingJobSummaries"]
check([s["ProcessingJobName"] for s in failed] == ["breaks"], f"failed list {failed}")
names = [s["ProcessingJobName"] for s in
         sm.list_processing_jobs(SortBy="Name", SortOrder="Ascending")["ProcessingJobSummaries"]]
check(names == ["breaks", "shard-3"], f"sorted {names}")
print("processing: failed job listed alone:", failed[0]["FailureReason"].strip())

# 3. Errors in AWS's shapes.
try:
    processing("bad_name", "true")
    raise SystemExit("FAIL: bad name accepted")
except botocore.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "ValidationException", str(e))
    check("processingJobName" in e.response["Error"]["Message"], str(e))
try:
    processing("shard-3", "true")
    raise SystemExit("FAIL: duplicate accepted")
except botocore.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "ResourceInUse", str(e))
try:
    sm.describe_training_job(TrainingJobName="nobody")
    raise SystemExit("FAIL: unknown job described")
except botocore.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "ResourceNotFound", str(e))

# 4. Training with hyperparameters and MetricDefinitions: scikit-learn on iris.
os.makedirs(f"{data}/s3/code", exist_ok=True)
sm.create_training_job(
    TrainingJobName="iris-tree", RoleArn=ROLE,
    AlgorithmSpecification={
        "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1",
        "TrainingInputMode": "File",
        "ContainerEntrypoint": ["/usr/bin/python3", train_script],
        "MetricDefinitions": [{"Name": "fold:accuracy", "Regex": "fold=\\d+ accuracy=([0-9.]+)"},
                              {"Name": "cv:accuracy", "Regex": "cv_accuracy=([0-9.]+)"}]},
    HyperParameters={"max_depth": "3", "folds": "5"},
    InputDataConfig=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": "s3://datasets/iris",
        "S3DataDistributionType": "FullyReplicated"}}, "ContentType": "text/csv"}],
    OutputDataConfig={"S3OutputPath": "s3://models/iris"},
    ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
    StoppingCondition={"MaxRuntimeInSeconds": 600})
sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="iris-tree",
                                                        WaiterConfig=FAST)
t = sm.describe_training_job(TrainingJobName="iris-tree")
check(t["TrainingJobStatus"] == "Completed", f"iris-tree: {t.get('FailureReason')}")
check(t["SecondaryStatus"] == "Completed", t["SecondaryStatus"])
check([s["Status"] for s in t["SecondaryStatusTransitions"]] ==
      ["Starting", "Downloading", "Training", "Uploading", "Completed"],
      str(t["SecondaryStatusTransitions"]))
metrics = {m["MetricName"]: m["Value"] for m in t["FinalMetricDataList"]}
check(set(metrics) == {"fold:accuracy", "cv:accuracy"}, str(metrics))
# scikit-learn's own cross-validation of the same candidate gives the same score.
import csv  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402
with open(f"{data}/s3/datasets/iris/iris.csv") as f:
    rows = list(csv.reader(f))[1:]
X = [[float(v) for v in r[:-1]] for r in rows]
y = [int(r[-1]) for r in rows]
expect = cross_val_score(DecisionTreeClassifier(max_depth=3, random_state=0), X, y, cv=5)
check(abs(metrics["cv:accuracy"] - round(expect.mean(), 6)) < 1e-9, f"{metrics} vs {expect.mean()}")
check(abs(metrics["fold:accuracy"] - round(expect[-1], 6)) < 1e-9, "last fold")
check(t["ModelArtifacts"]["S3ModelArtifacts"] == "s3://models/iris/iris-tree/output/model.tar.gz",
      str(t["ModelArtifacts"]))
check(os.path.getsize(f"{data}/s3/models/iris/iris-tree/output/model.tar.gz") > 100, "model.tar.gz")
check(t["BillableTimeInSeconds"] >= 1 and t["TrainingTimeInSeconds"] >= 1, "times")
check(t["HyperParameters"] == {"max_depth": "3", "folds": "5"}, str(t["HyperParameters"]))
print("training: FinalMetricDataList", metrics, "(scikit-learn's own cv:", expect.mean(), ")")

# 5. stop_training_job on a sleeping job: Stopping, then Stopped.
sm.create_training_job(
    TrainingJobName="sleeper", RoleArn=ROLE,
    AlgorithmSpecification={"TrainingImage": "local", "TrainingInputMode": "File",
                            "ContainerEntrypoint": ["/bin/sleep"], "ContainerArguments": ["300"]},
    OutputDataConfig={"S3OutputPath": "s3://models/sleep"},
    ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
    StoppingCondition={"MaxRuntimeInSeconds": 600})
import time  # noqa: E402
for _ in range(100):
    if sm.describe_training_job(TrainingJobName="sleeper")["SecondaryStatus"] == "Training":
        break
    time.sleep(0.1)
sm.stop_training_job(TrainingJobName="sleeper")
s = sm.describe_training_job(TrainingJobName="sleeper")
check(s["TrainingJobStatus"] in ("Stopping", "Stopped"), s["TrainingJobStatus"])
sm.get_waiter("training_job_completed_or_stopped").wait(TrainingJobName="sleeper",
                                                        WaiterConfig=FAST)
s = sm.describe_training_job(TrainingJobName="sleeper")
check(s["TrainingJobStatus"] == "Stopped", s["TrainingJobStatus"])
check(s["SecondaryStatus"] == "Stopped", s["SecondaryStatus"])
listed = sm.list_training_jobs(StatusEquals="Stopped")["TrainingJobSummaries"]
check([j["TrainingJobName"] for j in listed] == ["sleeper"], str(listed))
print("training: sleeper", s["TrainingJobStatus"], "after stop_training_job")
print("OK")
