#!/usr/bin/python3
"""Real AWS clients against sagebox's Cost Explorer endpoint (run by tests/ce/run.sh).

Every answer is checked against the sagebox CLI for the same question, so the
endpoint and the CLI cannot drift apart. Uses Debian's /usr/bin/aws and
python3-boto3 (botocore 1.29); no network beyond 127.0.0.1.
"""
import argparse
import json
import os
import subprocess
import sys
from decimal import Decimal

# No user configuration, profile or instance metadata may leak into the clients.
for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(k, None)
os.environ.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                   "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""})

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

# The CE service names sagebox shows for the demo's product codes (src/server/ce_api.cc).
NAMES = {"AmazonSageMaker": "Amazon SageMaker", "AmazonS3": "Amazon Simple Storage Service",
         "AmazonEC2": "Amazon Elastic Compute Cloud - Compute", "AWSCloudTrail": "AWS CloudTrail"}
START, END = "2024-01-01", "2024-03-01"
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def sagebox(args, *cmd):
    out = subprocess.run([args.sagebox, "--store", args.store, *cmd], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def flatten(results_by_time, service_key=None):
    """{(start, keys): {metric: Decimal}}; service_key: index of SERVICE codes to map to names."""
    out = {}
    for r in results_by_time:
        groups = r.get("Groups") or []
        if not groups:
            out[(r["TimePeriod"]["Start"], None)] = {
                m: Decimal(v["Amount"]) for m, v in r.get("Total", {}).items()}
        for g in groups:
            keys = list(g["Keys"])
            if service_key is not None:
                keys[service_key] = NAMES.get(keys[service_key], keys[service_key])
            k = (r["TimePeriod"]["Start"], tuple(keys))
            check(k not in out, f"group {k} appears once across pages")
            out[k] = {m: Decimal(v["Amount"]) for m, v in g["Metrics"].items()}
    return out


def aws_cli(args, *cmd):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=args.key, AWS_SECRET_ACCESS_KEY=args.secret)
    p = subprocess.run(["/usr/bin/aws", *cmd, "--endpoint-url", f"http://127.0.0.1:{args.port}",
                        "--region", "us-east-1", "--output", "json", "--no-cli-pager"],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"aws {' '.join(cmd)} failed ({p.returncode}): {p.stderr}")
    return json.loads(p.stdout)


def test_aws_cli_not_filter(args):
    """aws ce get-cost-and-usage with GroupBy and a Not filter == sagebox cost query."""
    not_filter = {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}}
    pages, token = [], None
    for _ in range(1000):
        extra = ["--next-page-token", token] if token else []
        r = aws_cli(args, "ce", "get-cost-and-usage", "--time-period", f"Start={START},End={END}",
                    "--granularity", "MONTHLY", "--metrics", "UnblendedCost", "AmortizedCost",
                    "--group-by", "Type=DIMENSION,Key=SERVICE", "Type=TAG,Key=team",
                    "--filter", json.dumps(not_filter), *extra)
        pages += r["ResultsByTime"]
        token = r.get("NextPageToken")
        if not token:
            break
    check(len(pages) > 2, f"aws ce: several pages of {args.page_size} groups ({len(pages)} parts)")
    types = sagebox(args, "cost", "query", "--from", START, "--to", END, "--group-by",
                    "LINE_ITEM_TYPE", "--format", "json")
    kept = sorted({g["Keys"][0] for r in types["ResultsByTime"] for g in r["Groups"]}
                  - {"Credit", "Refund"})
    check("Credit" in {g["Keys"][0] for r in types["ResultsByTime"] for g in r["Groups"]},
          "the demo bill has Credit lines (the Not filter matters)")
    cli = sagebox(args, "cost", "query", "--from", START, "--to", END, "--granularity", "MONTHLY",
                  "--metrics", "UnblendedCost,AmortizedCost", "--group-by", "SERVICE",
                  "--group-by", "TAG:team", "--filter", "LINE_ITEM_TYPE=" + ",".join(kept),
                  "--format", "json")
    got, want = flatten(pages), flatten(cli["ResultsByTime"], service_key=0)
    check(got == want, f"aws ce get-cost-and-usage (SERVICE x TAG:team, Not RECORD_TYPE "
                       f"Credit/Refund) == sagebox cost query ({len(want)} groups)")


def test_boto3(args, ce):
    # GetCostAndUsage over NextPageToken == the CLI's answer.
    pages, token, n = [], None, 0
    while True:
        kw = {"NextPageToken": token} if token else {}
        r = ce.get_cost_and_usage(TimePeriod={"Start": START, "End": END}, Granularity="DAILY",
                                  Metrics=["UnblendedCost", "UsageQuantity"],
                                  GroupBy=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}], **kw)
        n += 1
        if n <= 3:
            check(sum(len(x["Groups"]) for x in r["ResultsByTime"]) <= args.page_size,
                  f"page {n} has at most {args.page_size} groups")
        pages += r["ResultsByTime"]
        token = r.get("NextPageToken")
        if not token:
            break
    cli = sagebox(args, "cost", "query", "--from", START, "--to", END, "--granularity", "DAILY",
                  "--metrics", "UnblendedCost,UsageQuantity", "--group-by", "USAGE_TYPE",
                  "--format", "json")
    want = flatten(cli["ResultsByTime"])
    check(n > 10 and flatten(pages) == want,
          f"boto3 get_cost_and_usage over {n} pages == sagebox cost query ({len(want)} groups)")

    # GetCostForecast == sagebox cost forecast (history through 2024-02-29).
    f = ce.get_cost_forecast(TimePeriod={"Start": END, "End": "2024-03-15"},
                             Metric="UNBLENDED_COST", Granularity="DAILY")
    cf = sagebox(args, "cost", "forecast", "--as-of", "2024-02-29", "--horizon", "14",
                 "--granularity", "DAILY", "--format", "json")
    strip = [(x["TimePeriod"]["Start"], x["MeanValue"], x["PredictionIntervalLowerBound"],
              x["PredictionIntervalUpperBound"]) for x in f["ForecastResultsByTime"]]
    want = [(x["TimePeriod"]["Start"], x["MeanValue"], x["PredictionIntervalLowerBound"],
             x["PredictionIntervalUpperBound"]) for x in cf["ForecastResultsByTime"]]
    check(len(strip) == 14 and strip == want, "boto3 get_cost_forecast == sagebox cost forecast")
    check(f["Total"]["Amount"] == cf["Total"]["Amount"], "forecast Total matches")

    # GetDimensionValues REGION == the CLI's regions.
    dv = ce.get_dimension_values(TimePeriod={"Start": START, "End": END}, Dimension="REGION",
                                 Context="COST_AND_USAGE")
    regions = sagebox(args, "cost", "query", "--from", START, "--to", END, "--group-by", "REGION",
                      "--format", "json")
    want = {g["Keys"][0] for r in regions["ResultsByTime"] for g in r["Groups"]} - {""}
    got = [v["Value"] for v in dv["DimensionValues"]]
    check(set(got) == want and len(got) == len(want) and dv["TotalSize"] == len(want),
          f"boto3 get_dimension_values REGION == CLI regions {sorted(want)}")

    # GetTags: keys, then the values of "team".
    tags = ce.get_tags(TimePeriod={"Start": START, "End": END})
    check("team" in tags["Tags"], f"boto3 get_tags lists 'team' ({tags['Tags']})")
    tv = ce.get_tags(TimePeriod={"Start": START, "End": END}, TagKey="team")
    teams = sagebox(args, "cost", "query", "--from", START, "--to", END, "--group-by", "TAG:team",
                    "--format", "json")
    want = sorted({g["Keys"][0].split("$", 1)[1] for r in teams["ResultsByTime"]
                   for g in r["Groups"]} - {""})
    check(tv["Tags"] == want, f"boto3 get_tags TagKey=team == CLI {want}")

    # Savings Plans: utilization, coverage, recommendation == the CLI's JSON.
    u = ce.get_savings_plans_utilization(TimePeriod={"Start": START, "End": END},
                                         Granularity="MONTHLY")
    cu = sagebox(args, "cost", "savings-plans", "utilization", "--from", START, "--to", END,
                 "--granularity", "MONTHLY", "--format", "json")
    check(u["Total"] == cu["Total"] and
          u["SavingsPlansUtilizationsByTime"] == cu["SavingsPlansUtilizationsByTime"],
          "boto3 get_savings_plans_utilization == sagebox cost savings-plans utilization")
    check(Decimal(u["Total"]["Utilization"]["TotalCommitment"]) > 0,
          "the demo bill has a Savings Plan commitment")
    c = ce.get_savings_plans_coverage(TimePeriod={"Start": START, "End": END},
                                      Granularity="MONTHLY")
    cc = sagebox(args, "cost", "savings-plans", "coverage", "--from", START, "--to", END,
                 "--granularity", "MONTHLY", "--format", "json")
    check(c["SavingsPlansCoverages"] == cc["SavingsPlansCoverages"],
          "boto3 get_savings_plans_coverage == sagebox cost savings-plans coverage")
    rec = ce.get_savings_plans_purchase_recommendation(
        SavingsPlansType="SAGEMAKER_SP", TermInYears="ONE_YEAR", PaymentOption="NO_UPFRONT",
        LookbackPeriodInDays="THIRTY_DAYS")
    cr = sagebox(args, "cost", "savings-plans", "recommend", "--term-in-years", "ONE_YEAR",
                 "--payment-option", "NO_UPFRONT", "--lookback-period-in-days", "THIRTY_DAYS",
                 "--format", "json")
    check(rec["SavingsPlansPurchaseRecommendation"] == cr["SavingsPlansPurchaseRecommendation"],
          "boto3 get_savings_plans_purchase_recommendation == sagebox cost savings-plans "
          "recommend (HourlyCommitmentToPurchase " +
          rec["SavingsPlansPurchaseRecommendation"]["SavingsPlansPurchaseRecommendationSummary"]
          .get("HourlyCommitmentToPurchase", "?") + ")")

    # Errors surface as ClientError with the AWS code.
    for what, call, code in [
        ("unsupported metric", lambda: ce.get_cost_and_usage(
            TimePeriod={"Start": START, "End": END}, Granularity="MONTHLY",
            Metrics=["NetAmortizedCost"]), "ValidationException"),
        ("Or across keys", lambda: ce.get_cost_and_usage(
            TimePeriod={"Start": START, "End": END}, Granularity="MONTHLY",
            Metrics=["UnblendedCost"],
            Filter={"Or": [{"Dimensions": {"Key": "SERVICE", "Values": ["AmazonS3"]}},
                           {"Dimensions": {"Key": "REGION", "Values": ["us-east-1"]}}]}),
         "ValidationException"),
        ("token of another request", lambda: ce.get_cost_and_usage(
            TimePeriod={"Start": START, "End": END}, Granularity="MONTHLY",
            Metrics=["UnblendedCost"], GroupBy=[{"Type": "DIMENSION", "Key": "REGION"}],
            NextPageToken=first_token(ce)), "RequestChangedException"),
    ]:
        try:
            call()
            check(False, f"{what}: ClientError {code}")
        except ClientError as e:
            check(e.response["Error"]["Code"] == code and e.response["Error"]["Message"] != "",
                  f"{what}: ClientError {e.response['Error']['Code']}: "
                  f"{e.response['Error']['Message'][:70]}")


def first_token(ce):
    r = ce.get_cost_and_usage(TimePeriod={"Start": START, "End": END}, Granularity="DAILY",
                              Metrics=["UnblendedCost"],
                              GroupBy=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}])
    return r["NextPageToken"]


def client(args, key, secret):
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                 region_name="us-east-1").client(
        "ce", endpoint_url=f"http://127.0.0.1:{args.port}",
        config=Config(retries={"max_attempts": 1}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sagebox", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--port", required=True)
    ap.add_argument("--page-size", type=int, required=True)
    ap.add_argument("--key", default="AKIAANYTHING")
    ap.add_argument("--secret", default="anything")
    ap.add_argument("--auth", action="store_true", help="the server checks --credentials")
    args = ap.parse_args()
    test_aws_cli_not_filter(args)
    test_boto3(args, client(args, args.key, args.secret))
    if args.auth:
        for what, key, secret in [("wrong secret", args.key, args.secret + "x"),
                                  ("unknown key", "AKIAUNKNOWN000000000", args.secret)]:
            try:
                client(args, key, secret).get_dimension_values(
                    TimePeriod={"Start": START, "End": END}, Dimension="REGION")
                check(False, f"{what}: rejected")
            except ClientError as e:
                status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                check(status in (400, 401, 403),
                      f"{what}: ClientError {e.response['Error']['Code']} (HTTP {status})")
    if FAILS:
        print(f"{len(FAILS)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
