#!/usr/bin/python3
"""Replays MLflow's Python client against sagebox's MLflow REST subset.

Each call below is what MLflow 2.x's client puts on the wire for the named fluent API
(mlflow/tracking/fluent.py → MlflowClient → RestStore._call_endpoint, which sends GET fields
as the query string and everything else as a proto-JSON body; int64 fields as numbers):
  set_experiment(name)       GET experiments/get-by-name, 404 → POST experiments/create
  start_run(run_name=...)    POST runs/create {experiment_id, user_id, start_time, tags, run_name}
  log_params(d)              POST runs/log-batch {run_id, params}
  log_metrics(d, step=s)     POST runs/log-batch {run_id, metrics: [{key, value, timestamp, step}]}
  set_tags(d)                POST runs/log-batch {run_id, tags}
  end_run()                  POST runs/update {run_id, run_uuid, status: FINISHED, end_time}
  search_runs(...)           POST runs/search {experiment_ids, filter, run_view_type,
                             max_results: 10000 (NUM_RUNS_PER_PAGE_PANDAS), order_by}
  register_model("runs:/ID/model", name)
                             POST registered-models/create (RESOURCE_ALREADY_EXISTS is fine),
                             GET runs/get (the run's artifact_uri), POST model-versions/create
                             {name, source, run_id}, GET model-versions/get until READY
  set_registered_model_alias POST registered-models/alias {name, alias, version}
  get_model_version_by_alias GET registered-models/alias?name&alias
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/") + "/api/2.0/mlflow/"


def call(method, endpoint, body=None, expect=200):
    url = BASE + endpoint
    data = None
    headers = {"User-Agent": "mlflow-python-client/2.x replay"}
    if method == "GET":
        if body:
            url += "?" + urllib.parse.urlencode(body, doseq=True)
    else:
        data = json.dumps(body or {}).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    out = json.loads(text) if text else {}
    if status != expect:
        raise SystemExit(f"{method} {endpoint} {body}: HTTP {status}, expected {expect}: {text}")
    return out


def now_ms():
    return int(time.time() * 1000)


# mlflow.set_experiment("iris-sweep")
r = call("GET", "experiments/get-by-name", {"experiment_name": "iris-sweep"}, expect=404)
assert r["error_code"] == "RESOURCE_DOES_NOT_EXIST", r
exp_id = call("POST", "experiments/create", {"name": "iris-sweep"})["experiment_id"]

# Three candidates: start_run, log_params, log_metrics(step=fold), set_tags, end_run.
candidates = [("logreg", {"C": "1.0"}, [0.93, 0.96, 0.95]),
              ("rf", {"n_estimators": "100", "max_depth": "3"}, [0.95, 0.97, 0.96]),
              ("xgboost", {"max_depth": "2"}, [0.91, 0.93, 0.92])]
runs = {}
for algo, params, folds in candidates:
    run = call("POST", "runs/create", {
        "experiment_id": exp_id, "user_id": "ci", "start_time": now_ms(), "run_name": algo,
        "tags": [{"key": "mlflow.user", "value": "ci"},
                 {"key": "mlflow.source.name", "value": "replay.py"},
                 {"key": "mlflow.source.type", "value": "LOCAL"},
                 {"key": "mlflow.runName", "value": algo}]})["run"]
    run_id = run["info"]["run_id"]
    assert run["info"]["status"] == "RUNNING" and len(run_id) == 32, run
    runs[algo] = run_id
    call("POST", "runs/log-batch", {"run_id": run_id,
                                   "params": [{"key": k, "value": v} for k, v in params.items()]})
    for step, acc in enumerate(folds):
        call("POST", "runs/log-batch", {"run_id": run_id, "metrics": [
            {"key": "fold_acc", "value": acc, "timestamp": now_ms(), "step": step}]})
    mean = sum(folds) / len(folds)
    call("POST", "runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": "cv_acc", "value": mean, "timestamp": now_ms(), "step": 0}]})
    call("POST", "runs/log-batch", {"run_id": run_id, "tags": [
        {"key": "sagebox.stage", "value": "iris"}, {"key": "algorithm", "value": algo}]})
    call("POST", "runs/update", {"run_id": run_id, "run_uuid": run_id, "status": "FINISHED",
                                 "end_time": now_ms()})

# MLflow refuses to change a logged param (INVALID_PARAMETER_VALUE, HTTP 400).
r = call("POST", "runs/log-batch", {"run_id": runs["rf"], "params": [
    {"key": "max_depth", "value": "5"}]}, expect=400)
assert r["error_code"] == "INVALID_PARAMETER_VALUE", r

# The metric history keeps every step.
hist = call("GET", "metrics/get-history", {"run_id": runs["rf"], "metric_key": "fold_acc"})
assert [m["step"] for m in hist["metrics"]] == [0, 1, 2], hist

# mlflow.search_runs(filter_string=..., order_by=["metrics.cv_acc DESC"])
found = call("POST", "runs/search", {
    "experiment_ids": [exp_id],
    "filter": "metrics.cv_acc > 0.93 AND tags.`sagebox.stage` = 'iris' AND attributes.status = 'FINISHED'",
    "run_view_type": "ACTIVE_ONLY", "max_results": 10000, "order_by": ["metrics.cv_acc DESC"]})
names = [r["info"]["run_name"] for r in found["runs"]]
assert names == ["rf", "logreg"], names
best = found["runs"][0]
best_id = best["info"]["run_id"]
metrics = {m["key"]: m for m in best["data"]["metrics"]}
assert abs(metrics["fold_acc"]["value"] - 0.96) < 1e-12 and metrics["fold_acc"]["step"] == 2, metrics

# An OR is not MLflow's grammar.
r = call("POST", "runs/search", {"experiment_ids": [exp_id],
                                 "filter": "metrics.cv_acc > 0.9 OR params.C = '1.0'"}, expect=400)
assert r["error_code"] == "INVALID_PARAMETER_VALUE", r

# mlflow.register_model(f"runs:/{best_id}/model", "iris-classifier")
call("POST", "registered-models/create", {"name": "iris-classifier"})
r = call("POST", "registered-models/create", {"name": "iris-classifier"}, expect=400)
assert r["error_code"] == "RESOURCE_ALREADY_EXISTS", r
artifact_uri = call("GET", "runs/get", {"run_id": best_id})["run"]["info"]["artifact_uri"]
mv = call("POST", "model-versions/create", {"name": "iris-classifier",
                                            "source": artifact_uri + "/model",
                                            "run_id": best_id})["model_version"]
while mv["status"] != "READY":
    mv = call("GET", "model-versions/get", {"name": "iris-classifier",
                                            "version": mv["version"]})["model_version"]
assert mv["version"] == "1", mv

# client.set_registered_model_alias / get_model_version_by_alias
call("POST", "registered-models/alias", {"name": "iris-classifier", "alias": "champion",
                                         "version": mv["version"]})
got = call("GET", "registered-models/alias", {"name": "iris-classifier", "alias": "champion"})
assert got["model_version"]["run_id"] == best_id, got
assert got["model_version"]["aliases"] == ["champion"], got
assert got["model_version"]["source"] == artifact_uri + "/model", got
r = call("GET", "registered-models/alias", {"name": "iris-classifier", "alias": "nope"}, expect=404)
assert r["error_code"] == "RESOURCE_DOES_NOT_EXIST", r

print(f"experiment {exp_id}: best run {best_id} ({best['info']['run_name']}, "
      f"cv_acc={metrics['cv_acc']['value']:.4f}) registered as iris-classifier v{mv['version']} "
      f"@champion")
