#!/usr/bin/python3
"""Signs a few Cost Explorer requests with botocore and writes them to botocore/*.json.

Run with Debian's Python and botocore (python3-botocore 1.29):
    /usr/bin/python3 tests/data/sigv4/botocore_sign.py

Each request goes through a real botocore `ce` client (the same code path as
`aws ce` and boto3): botocore serializes the AWS JSON 1.1 body, signs it with
botocore.auth.SigV4Auth and hands it to its HTTP layer. A `before-send` hook
captures the prepared request there, so nothing leaves the machine. The clock
is frozen by replacing the `datetime` module botocore.auth reads (and the
signer pinned to botocore.auth.SigV4Auth, not the CRT one), so the
signatures are reproducible. The JSON files record the exact headers and body
as sent (plus the Host header urllib3 adds from the endpoint URL), the fixed
credentials and the signing time; src/server/sigv4_test.cc verifies them.
"""
import datetime
import json
import os
import sys
import types

import botocore
import botocore.auth
import botocore.session

ACCESS_KEY = "AKIASAGEBOXTEST00001"
SECRET_KEY = "sagebox/Test+Secret/Key0000000000000000000"
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "botocore")


class _Captured(Exception):
    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def _freeze_botocore_clock(when):
    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

        @classmethod
        def now(cls, tz=None):
            return when if tz is None else when.replace(tzinfo=datetime.timezone.utc)

    fake = types.ModuleType("datetime")
    fake.__dict__.update(datetime.__dict__)
    fake.datetime = FrozenDatetime
    botocore.auth.datetime = fake


def _sign(name, description, endpoint, region, when, call):
    _freeze_botocore_clock(when)
    # With awscrt installed botocore swaps in its CRT signer for "v4"; pin the
    # pure-Python botocore.auth.SigV4Auth, the signer this data is about.
    botocore.auth.AUTH_TYPE_MAPS["v4"] = botocore.auth.SigV4Auth
    session = botocore.session.get_session()
    client = session.create_client(
        "ce",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )

    def capture(request, **_):
        raise _Captured(request)

    client.meta.events.register("before-send.ce", capture)
    try:
        call(client)
        raise SystemExit(f"{name}: botocore sent nothing")
    except _Captured as c:
        req = c.request
    netloc = endpoint.split("://", 1)[1].rstrip("/")
    headers = [["Host", netloc]]
    for k, v in req.headers.items():
        headers.append([k, v.decode() if isinstance(v, bytes) else v])
    body = req.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    target = req.url.split(netloc, 1)[1] or "/"
    doc = {
        "description": description,
        "generator": f"tests/data/sigv4/botocore_sign.py, botocore {botocore.__version__}, "
        f"Python {sys.version.split()[0]}",
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "region": region,
        "service": "ce",
        "signed_at": when.strftime("%Y%m%dT%H%M%SZ"),
        "signed_at_unix": int(when.replace(tzinfo=datetime.timezone.utc).timestamp()),
        "method": req.method,
        "target": target,
        "headers": headers,
        "body": body,
    }
    with open(os.path.join(OUT_DIR, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(name, doc["signed_at"])


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    _sign(
        "get-cost-and-usage-monthly",
        "GetCostAndUsage, MONTHLY UnblendedCost, to a local sagebox serve",
        "http://127.0.0.1:8080",
        "us-east-1",
        datetime.datetime(2025, 3, 1, 10, 15, 0),
        lambda c: c.get_cost_and_usage(
            TimePeriod={"Start": "2025-01-01", "End": "2025-03-01"},
            Granularity="MONTHLY",
            Metrics=["UnblendedCost"],
        ),
    )
    _sign(
        "get-cost-and-usage-group-filter",
        "GetCostAndUsage with GroupBy and a SERVICE filter, a non-ASCII tag value in the body",
        "http://localhost:18080",
        "us-east-1",
        datetime.datetime(2025, 12, 31, 23, 59, 30),
        lambda c: c.get_cost_and_usage(
            TimePeriod={"Start": "2025-12-01", "End": "2026-01-01"},
            Granularity="DAILY",
            Metrics=["UnblendedCost", "UsageQuantity"],
            GroupBy=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}, {"Type": "TAG", "Key": "team"}],
            Filter={
                "And": [
                    {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}},
                    {"Tags": {"Key": "team", "Values": ["r\u00e9seau-ml"]}},
                ]
            },
        ),
    )
    _sign(
        "get-cost-and-usage-aws-host",
        "GetCostAndUsage signed for the real Cost Explorer host name",
        "https://ce.us-east-1.amazonaws.com",
        "us-east-1",
        datetime.datetime(2024, 2, 29, 0, 0, 5),
        lambda c: c.get_cost_and_usage(
            TimePeriod={"Start": "2024-02-01", "End": "2024-03-01"},
            Granularity="MONTHLY",
            Metrics=["AmortizedCost"],
            GroupBy=[{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
        ),
    )
    _sign(
        "get-cost-and-usage-eu-west-1",
        "GetCostAndUsage signed in region eu-west-1 (sagebox accepts any region)",
        "http://127.0.0.1:8080",
        "eu-west-1",
        datetime.datetime(2025, 6, 15, 8, 0, 0),
        lambda c: c.get_cost_and_usage(
            TimePeriod={"Start": "2025-06-01", "End": "2025-06-15"},
            Granularity="DAILY",
            Metrics=["BlendedCost"],
        ),
    )


if __name__ == "__main__":
    main()
