"""boto3 through `sagebox endpoint route` (tests/endpoint/scale.sh drives it).

  scale_client.py placement ROUTER URL...              -> JSON {"placement", "busiest"}
  scale_client.py failover ROUTER PLACEMENT.json URL...
  scale_client.py hot ROUTER DEAD_URL URL...
"""
import json
import sys
import urllib.request

import boto3

MODELS = [f"scale_{k}" for k in range(1, 10)]


def runtime(router):
    return boto3.client("sagemaker-runtime", endpoint_url=router, region_name="us-east-1")


def invoke(rt, model):
    body = {"inputs": [{"name": "INPUT0", "shape": [4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
    resp = rt.invoke_endpoint(EndpointName="sagebox", TargetModel=model,
                              ContentType="application/json", Body=json.dumps(body))
    out = json.loads(resp["Body"].read())
    k = float(model.rsplit("_", 1)[1])
    got = out["outputs"][0]["data"]
    assert got == [k, 2 * k, 3 * k, 4 * k], f"{model}: {got}"
    return resp["ResponseMetadata"]["HTTPHeaders"]["x-sagebox-instance"]


def loaded(url):
    with urllib.request.urlopen(url + "/models", timeout=10) as r:
        return {m["modelName"] for m in json.load(r)["models"]}


def placement(router, urls):
    rt = runtime(router)
    where = {}
    for _ in range(2):
        for m in MODELS:
            got = invoke(rt, m)
            assert where.setdefault(m, got) == got, f"{m} went to {where[m]} and then {got}"
    held = {u: loaded(u) for u in urls}
    for m, u in where.items():
        holders = [x for x in urls if m in held[x]]
        assert holders == [u], f"{m}: routed to {u}, loaded on {holders}"
    used = set(where.values())
    assert len(used) >= 2, f"all nine models went to {used}"
    busiest = max(urls, key=lambda u: sum(1 for x in where.values() if x == u))
    print(json.dumps({"placement": where, "busiest": busiest}))
    print(f"placement: {len(used)} instances used", file=sys.stderr)


def failover(router, placement_file, urls):
    before = json.load(open(placement_file))
    dead = before["busiest"]
    rt = runtime(router)
    moved = 0
    for m in MODELS:
        got = invoke(rt, m)
        assert got != dead, f"{m} was sent to the dead instance"
        if before["placement"][m] != dead:
            assert got == before["placement"][m], f"{m} moved from a live instance to {got}"
        else:
            moved += 1
    assert moved >= 1
    live = [u for u in urls if u != dead]
    held = {u: loaded(u) for u in live}
    for m in MODELS:
        assert sum(1 for u in live if m in held[u]) == 1, f"{m} loaded {held}"
    print(f"failover: {moved} models moved, the rest stayed", file=sys.stderr)


def hot(router, dead, urls):
    rt = runtime(router)
    live = [u for u in urls if u != dead]
    seen = set()
    for _ in range(60):  # 60 requests within a few seconds: well over --hot-rps 3
        seen.add(invoke(rt, "scale_1"))
    assert seen == set(live), f"hot model served by {seen}, expected {live}"
    for u in live:
        assert "scale_1" in loaded(u), f"hot model not loaded on {u}"
    with urllib.request.urlopen(router + "/api/endpoint/route", timeout=10) as r:
        status = json.load(r)
    assert "scale_1" in status["hot_models"], status["hot_models"]
    assert [i["healthy"] for i in status["instances"]].count(False) == 1, status["instances"]
    print("hot: replicated on", sorted(seen), file=sys.stderr)


if __name__ == "__main__":
    cmd, router = sys.argv[1], sys.argv[2]
    if cmd == "placement":
        placement(router, sys.argv[3:])
    elif cmd == "failover":
        failover(router, sys.argv[3], sys.argv[4:])
    elif cmd == "hot":
        hot(router, sys.argv[3], sys.argv[4:])
    else:
        sys.exit(f"unknown command {cmd}")
