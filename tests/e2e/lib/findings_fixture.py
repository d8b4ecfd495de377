#!/usr/bin/env python3
"""Writes a small SageMaker bill with planted waste and healthy neighbours,
plus the auxiliary inputs (describe-* JSON, CloudWatch metrics JSON Lines,
filter-log-events output) in the AWS CLI's shapes, for the findings e2e cases.

  findings_fixture.py OUT_DIR

Planted (kind -> resource):
  notebook-always-on          notebook-instance/dev-notebook (ml.t2.medium, 0.0464/h)
  studio-app-always-on        app/d-domain1234/user1/KernelGateway/datascience-... (ml.t3.medium)
                              (ran days 2-5, then deleted: found, but saves $0 now, low)
  data-wrangler-app-always-on app/d-domain1234/user1/KernelGateway/sagemaker-data-wrang-... (0.922/h)
                              (ran days 5-7, then deleted: found, but saves $0 now, low)
  gpu-notebook                notebook-instance/gpu-notebook (ml.g4dn.xlarge, 10 h/day)
  stopped-notebook-storage    notebook-instance/old-notebook
  idle-endpoint               endpoint/idle-endpoint
  oversized-job               processing-job/features-daily-005 (family features-daily)
  processing-io-overhead      processing-job/slow-io-003 (family slow-io)
  failed-jobs                 processing-job/etl-nightly*
  data-wrangler-job-sizing    processing-job/dw-flow-002
  leftover-dataset-copies     s3://ml-data/athena-copies/athena-prep-001/
  savings-plan-opportunity    the account (no Savings Plan in the bill: 64% fallback rate, low confidence)
Healthy: day-notebook (9 h weekdays), busy-endpoint, busy-job-*, train-prep-* (1 failure
in 10), dw-busy-001 (85% memory), fast-io-* (script fills the job).
"""
import json
import os
import sys
from datetime import datetime, timedelta, timezone

ACCT = "111111111111"
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)  # a Monday
DAYS = 21


def arn(what):
    return f"arn:aws:sagemaker:us-east-1:{ACCT}:{what}"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


rows = []


def line(rid, ut, start, hours, amount, rate, team="ml"):
    end = start + timedelta(hours=hours)
    cost = f"{float(amount) * float(rate):.10f}".rstrip("0").rstrip(".")
    bp = start.replace(day=1, hour=0, minute=0, second=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows.append([f"id{len(rows)}", bp, ACCT, "Usage", iso(start), iso(end), "AmazonSageMaker",
                 ut, rid, amount, cost, cost, team])


def hourly(rid, ut, rate, start, hours, per_hour=1, team="ml"):
    for h in range(hours):
        line(rid, ut, start + timedelta(hours=h), 1, str(per_hour), rate, team)


def main(out):
    os.makedirs(out, exist_ok=True)
    hourly(arn("notebook-instance/dev-notebook"), "USE1-Notebk:ml.t2.medium", "0.0464", T0, 24 * DAYS)
    for d in range(DAYS):
        if (T0 + timedelta(days=d)).weekday() < 5:
            hourly(arn("notebook-instance/day-notebook"), "USE1-Notebk:ml.t3.medium", "0.05",
                   T0 + timedelta(days=d, hours=8), 9)
            hourly(arn("notebook-instance/gpu-notebook"), "USE1-Notebk:ml.g4dn.xlarge", "0.7364",
                   T0 + timedelta(days=d, hours=8), 10)
    hourly(arn("app/d-domain1234/user1/KernelGateway/datascience-1-0-ml-t3-medium-1abf3407"),
           "USE1-Studio:KernelGateway-ml.t3.medium", "0.05", T0 + timedelta(days=2), 24 * 4)
    hourly(arn("app/d-domain1234/user1/KernelGateway/sagemaker-data-wrang-ml-m5-4xlarge-b741c1a025d5"),
           "USE1-Studio_DW:KernelGateway-ml.m5.4xlarge", "0.922", T0 + timedelta(days=5), 24 * 3)
    # Stopped on day 1 but its volume billed every day; day-notebook's volume is healthy.
    hourly(arn("notebook-instance/old-notebook"), "USE1-Notebk:ml.t2.medium", "0.0464", T0 + timedelta(hours=9), 4)
    for d in range(DAYS):
        for nb in ("old-notebook", "day-notebook"):
            line(arn(f"notebook-instance/{nb}"), "USE1-Notebk:VolumeUsage.gp2", T0 + timedelta(days=d), 24,
                 "0.0161290323", "0.112")
    # Endpoints, 2 instances each, every hour.
    for ep in ("idle-endpoint", "busy-endpoint"):
        hourly(arn(f"endpoint/{ep}"), "USE1-Host:ml.m5.xlarge", "0.23", T0, 24 * DAYS, 2)

    jobs, metrics, events = [], [], []

    def series(ns, metric, dims, start, minutes, value, period=60, stat="Maximum"):
        ts = [iso(start + timedelta(seconds=period * i)) for i in range(minutes * 60 // period)]
        metrics.append({"namespace": ns, "metric": metric, "dimensions": dims, "statistic": stat,
                        "period": period, "unit": "Percent", "timestamps": ts,
                        "values": [value] * len(ts)})

    def job(name, itype, start, minutes, status="Completed", count=1, cpu=None, mem=None,
            dw=False, athena=None, script=None, ut_kind="Processing", rate="0.23"):
        end = start + timedelta(minutes=minutes)
        hours = f"{minutes / 60 * count:.10f}".rstrip("0").rstrip(".")
        line(arn(f"processing-job/{name}"), f"USE1-{ut_kind}:{itype}", start, 1, hours, rate)
        j = {"ProcessingJobName": name, "ProcessingJobArn": arn(f"processing-job/{name}"),
             "ProcessingJobStatus": status,
             "ProcessingResources": {"ClusterConfig": {"InstanceCount": count, "InstanceType": itype,
                                                       "VolumeSizeInGB": 30}},
             "ProcessingStartTime": start.isoformat(), "ProcessingEndTime": end.isoformat(),
             "AppSpecification": {"ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/" +
                                  ("sagemaker-data-wrangler-container:3.x" if dw else "sklearn:1.2")},
             "ProcessingInputs": [{"InputName": "data", "S3Input": {
                 "S3Uri": "s3://ml-data/in/", "LocalPath": "/opt/ml/processing/input",
                 "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
             "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
                 "S3Uri": "s3://ml-data/out/", "LocalPath": "/opt/ml/processing/output",
                 "S3UploadMode": "EndOfJob"}}]}}
        if status == "Failed":
            j["FailureReason"] = "AlgorithmError: KeyError: 'label'"
        if athena:
            j["ProcessingInputs"].append({"InputName": "athena", "DatasetDefinition": {
                "AthenaDatasetDefinition": {"Catalog": "AwsDataCatalog", "Database": "db",
                                            "QueryString": "SELECT 1", "WorkGroup": "primary",
                                            "OutputS3Uri": athena, "OutputFormat": "PARQUET"},
                "LocalPath": "/opt/ml/processing/athena"}})
        jobs.append(j)
        for h in range(1, count + 1):
            host = {"Host": f"{name}/algo-{h}"}
            if cpu is not None:
                series("/aws/sagemaker/ProcessingJobs", "CPUUtilization", host, start, minutes, cpu)
            if mem is not None:
                series("/aws/sagemaker/ProcessingJobs", "MemoryUtilization", host, start, minutes, mem)
        if script:
            s0, s1 = script
            stream = f"{name}/algo-1-{int(start.timestamp())}"
            for at, msg in ((s0, "Start custom script"), (s1, "End custom script")):
                ms = int((start + timedelta(minutes=at)).timestamp() * 1000)
                events.append({"logStreamName": stream, "timestamp": ms, "message": msg,
                               "ingestionTime": ms + 300, "eventId": str(ms)})

    for i in range(1, 6):  # oversized: 16 vCPU, peak 400% = 25%/vCPU, memory 30%
        job(f"features-daily-{i:03}", "ml.c5.4xlarge", T0 + timedelta(days=i, hours=2), 60,
            cpu=400, mem=30, rate="0.816", script=(1, 59))
    for i in range(1, 4):  # healthy: busy CPU
        job(f"busy-job-{i}", "ml.c5.4xlarge", T0 + timedelta(days=i, hours=5), 60,
            cpu=1400, mem=70, rate="0.816", script=(1, 59))
    for i in range(1, 4):  # the article's I/O example: 15-min script in a 19-min job
        job(f"slow-io-{i:03}", "ml.m5.xlarge", T0 + timedelta(days=i, hours=7), 19,
            cpu=300, mem=60, script=(2, 17))
    for i in range(1, 4):
        job(f"fast-io-{i:03}", "ml.m5.xlarge", T0 + timedelta(days=i, hours=8), 16,
            cpu=300, mem=60, script=(0.5, 15.5))
    for i in range(1, 6):  # 3 of 5 fail
        job(f"etl-nightly-{i:03}", "ml.m5.xlarge", T0 + timedelta(days=i, hours=1), 30,
            status="Failed" if i <= 3 else "Completed")
    for i in range(1, 11):  # healthy: 1 of 10 fails
        job(f"train-prep-{i:03}", "ml.m5.xlarge", T0 + timedelta(days=i, hours=3), 20,
            status="Failed" if i == 1 else "Completed")
    # Data Wrangler: 2 x ml.m5.24xlarge at 20% memory = 153.6 GiB used -> one ml.m5.12xlarge.
    job("dw-flow-002", "ml.m5.24xlarge", T0 + timedelta(days=3, hours=4), 120, count=2, mem=20,
        dw=True, ut_kind="processing_DW", rate="5.53")
    job("dw-busy-001", "ml.m5.4xlarge", T0 + timedelta(days=3, hours=4), 60, mem=85, dw=True,
        ut_kind="processing_DW", rate="0.922")
    job("athena-prep-001", "ml.m5.xlarge", T0 + timedelta(days=4), 30,
        athena="s3://ml-data/athena-copies/athena-prep-001/")

    # Endpoint metrics: CPU every hour for both (coverage), invocations for the busy one.
    for ep, inv in (("idle-endpoint", None), ("busy-endpoint", 120.0)):
        dims = {"EndpointName": ep, "VariantName": "AllTraffic"}
        series("/aws/sagemaker/Endpoints", "CPUUtilization", dims, T0, 60 * 24 * DAYS, 5.0, period=3600)
        ts = [iso(T0 + timedelta(hours=h)) for h in range(24 * DAYS)] if inv else []
        metrics.append({"namespace": "AWS/SageMaker", "metric": "Invocations", "dimensions": dims,
                        "statistic": "Sum", "period": 3600, "unit": "None", "timestamps": ts,
                        "values": [inv] * len(ts)})

    header = ("identity/LineItemId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,"
              "lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,"
              "lineItem/ProductCode,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,"
              "lineItem/UnblendedCost,lineItem/BlendedCost,resourceTags/user:team")
    with open(os.path.join(out, "bill.csv"), "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    with open(os.path.join(out, "jobs.json"), "w") as f:
        json.dump(jobs, f, indent=1)
    with open(os.path.join(out, "metrics.jsonl"), "w") as f:
        for m in metrics:
            f.write(json.dumps(m) + "\n")
    with open(os.path.join(out, "logs.json"), "w") as f:
        json.dump({"events": events}, f)


if __name__ == "__main__":
    main(sys.argv[1])
