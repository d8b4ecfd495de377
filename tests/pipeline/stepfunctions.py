#!/usr/bin/python3
"""boto3's `stepfunctions` client against `sagebox serve` (run by tests/pipeline/run.sh).

A state machine whose Map runs one SageMaker processing job per item (Step Functions'
createProcessingJob.sync integration): create it, start executions, wait for them the way the
articles' notebooks do (describe_execution in a loop), read the history with the paginator,
list with a status filter, redrive a failed execution, stop a running one, and the API's
errors as boto3's modeled exceptions.

Usage: stepfunctions.py URL WORK_DIR
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3

url, work = sys.argv[1], sys.argv[2]
sfn = boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
ROLE = "arn:aws:iam::123456789012:role/StepFunctionsRole"


def raw(action, body):
    """An action Debian's botocore (1.29) does not model yet (RedriveExecution, 2023), or its
    newer response members (redriveCount, redriveStatus): AWS JSON 1.0 by hand."""
    req = urllib.request.Request(url + "/", data=json.dumps(body).encode(), method="POST",
                                 headers={"X-Amz-Target": "AWSStepFunctions." + action,
                                          "Content-Type": "application/x-amz-json-1.0"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)


def job_task():
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
        "Parameters": {
            "ProcessingJobName.$":
                "States.Format('{}-{}-{}', $$.Execution.Name, $.id, $$.State.RetryCount)",
            "RoleArn": "arn:aws:iam::123456789012:role/R",
            "AppSpecification": {"ImageUri": "local", "ContainerEntrypoint": ["/bin/sh", "-c"],
                                 "ContainerArguments.$": "States.Array($.script)"},
            "ProcessingResources": {"ClusterConfig": {
                "InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 1}},
            "StoppingCondition": {"MaxRuntimeInSeconds": 120}},
        "ResultSelector": {"job.$": "$.ProcessingJobName", "status.$": "$.ProcessingJobStatus"},
        "End": True}


DEFINITION = {
    "Comment": "one processing job per item",
    "StartAt": "Fan",
    "States": {
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Job",
                                  "States": {"Job": job_task()}},
                "ResultPath": "$.results", "Next": "Done"},
        "Done": {"Type": "Succeed"}}}


def wait(arn, timeout=120):
    # The articles' loop: describe until the execution is no longer RUNNING.
    deadline = time.time() + timeout
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING" or time.time() > deadline:
            return d
        time.sleep(0.5)


def items(fail_flag=None):
    out = []
    for i in ("a", "b", "c"):
        script = "echo item %s" % i
        if fail_flag and i == "b":
            script += "; test ! -e %s" % fail_flag
        out.append({"id": i, "script": script})
    return {"items": out}


# Create (idempotent for the same definition), describe, list.
m = sfn.create_state_machine(name="fan", definition=json.dumps(DEFINITION), roleArn=ROLE)
arn = m["stateMachineArn"]
check(arn == "arn:aws:states:us-east-1:000000000000:stateMachine:fan", arn)
again = sfn.create_state_machine(name="fan", definition=json.dumps(DEFINITION), roleArn=ROLE)
check(again["stateMachineArn"] == arn, "create again")
d = sfn.describe_state_machine(stateMachineArn=arn)
check(d["status"] == "ACTIVE" and json.loads(d["definition"]) == DEFINITION, "describe machine")
check([x["name"] for x in sfn.list_state_machines()["stateMachines"]] == ["fan"], "list machines")

# An execution that succeeds.
e = sfn.start_execution(stateMachineArn=arn, name="ok-1", input=json.dumps(items()))
d = wait(e["executionArn"])
check(d["status"] == "SUCCEEDED", "ok-1: %s" % d)
out = json.loads(d["output"])
check([r["status"] for r in out["results"]] == ["Completed"] * 3, "ok-1 output: %s" % out)
check(out["results"][1]["job"] == "ok-1-b-0", "job name: %s" % out["results"][1])
events = []
for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=e["executionArn"], PaginationConfig={"PageSize": 5}):
    events += page["events"]
types = [ev["type"] for ev in events]
check(types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded", "history: %s" % types)
check(types.count("TaskSubmitted") == 3 and types.count("TaskSucceeded") == 3, "tasks: %s" % types)
check([ev["id"] for ev in events] == list(range(1, len(events) + 1)), "event ids")
check(events[0]["timestamp"].year >= 2024, "timestamps are dates")

# A hidden failure, then a redrive that runs only the failed item again.
flag = os.path.join(work, "fail-b")
open(flag, "w").close()
e2 = sfn.start_execution(stateMachineArn=arn, name="flaky-1", input=json.dumps(items(flag)))
d = wait(e2["executionArn"])
check(d["status"] == "FAILED" and d["error"] == "States.TaskFailed", "flaky-1: %s" % d)
status, rd = raw("DescribeExecution", {"executionArn": e2["executionArn"]})
check(status == 200 and rd["redriveStatus"] == "REDRIVABLE", "redriveStatus: %s" % rd)
failed = sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"]
check([x["name"] for x in failed] == ["flaky-1"], "list FAILED: %s" % failed)
os.remove(flag)
status, rd = raw("RedriveExecution", {"executionArn": e2["executionArn"]})
check(status == 200 and "redriveDate" in rd, "RedriveExecution: %s %s" % (status, rd))
d = wait(e2["executionArn"])
status, rd = raw("DescribeExecution", {"executionArn": e2["executionArn"]})
check(d["status"] == "SUCCEEDED" and rd["redriveCount"] == 1, "redriven: %s" % rd)
out = json.loads(d["output"])
check(out["results"][1]["job"] == "flaky-1-b-0-r1", "redriven job: %s" % out["results"][1])
check(out["results"][0]["job"] == "flaky-1-a-0", "a kept its first result: %s" % out["results"][0])
hist = sfn.get_execution_history(executionArn=e2["executionArn"], maxResults=1000,
                                 reverseOrder=True)["events"]
check(hist[0]["type"] == "ExecutionSucceeded", "reverse order")
check(sum(1 for ev in hist if ev["type"] == "ExecutionRedriven") == 1, "one ExecutionRedriven")
check(sum(1 for ev in hist if ev["type"] == "ExecutionStarted") == 1, "one ExecutionStarted")

# Stop a running execution: ABORTED, its job stopped.
slow = {"items": [{"id": "slow", "script": "sleep 60"}]}
e3 = sfn.start_execution(stateMachineArn=arn, name="slow-1", input=json.dumps(slow))
time.sleep(1.5)
sfn.stop_execution(executionArn=e3["executionArn"], error="Operator", cause="not needed")
d = wait(e3["executionArn"], timeout=30)
check(d["status"] == "ABORTED" and d["error"] == "Operator", "stopped: %s" % d)

# Errors, as boto3's modeled exceptions.
def raises(exc, fn, **kw):
    try:
        fn(**kw)
    except exc:
        return
    raise SystemExit("FAIL: %s did not raise %s" % (fn.__name__, exc.__name__))


raises(sfn.exceptions.InvalidDefinition, sfn.create_state_machine, name="bad",
       definition=json.dumps({"StartAt": "Nope", "States": {}}), roleArn=ROLE)
raises(sfn.exceptions.StateMachineAlreadyExists, sfn.create_state_machine, name="fan",
       definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
       roleArn=ROLE)
raises(sfn.exceptions.StateMachineDoesNotExist, sfn.start_execution,
       stateMachineArn=arn + "-nope")
raises(sfn.exceptions.ExecutionAlreadyExists, sfn.start_execution, stateMachineArn=arn,
       name="ok-1", input="{}")
raises(sfn.exceptions.InvalidExecutionInput, sfn.start_execution, stateMachineArn=arn,
       input="{not json")
raises(sfn.exceptions.ExecutionDoesNotExist, sfn.describe_execution,
       executionArn=arn.replace("stateMachine", "execution") + ":nope")
status, rd = raw("RedriveExecution", {"executionArn": e["executionArn"]})
check(status == 400 and rd.get("__type", "").endswith("ExecutionNotRedrivable"),
      "redrive a SUCCEEDED execution: %s %s" % (status, rd))
print("stepfunctions: ok (%d events in ok-1's history)" % len(events))
