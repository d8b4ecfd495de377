#!/usr/bin/env bash
# The MLflow REST subset end to end: `sagebox serve`, then replay.py sends the exact request
# sequence MLflow's Python client sends (read from mlflow/store/tracking/rest_store.py and
# mlflow/store/model_registry/rest_store.py, MLflow 2.x) for set_experiment, start_run,
# log_params, log_metrics(step=...), set_tags, end_run, search_runs(filter_string=...,
# order_by=...), register_model, set_registered_model_alias and
# get_model_version_by_alias, with /usr/bin/python3 and urllib only.
# Why not a JavaScript client: the npm registry's only MLflow client, `mlflow` 2.0.7
# (Yuhsak/mlflow, one release), calls the experiments/list endpoint MLflow 2 removed and has
# no model registry, so it cannot exercise the registry half.
# Usage: run.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=SCRIPTDIR/../../lib/server.sh
source "$here/../../lib/server.sh"
start_server "$tmp/port" "$tmp/server.log" "$bin" --data "$tmp/data" serve --listen 127.0.0.1:0 \
  --port-file "$tmp/port"
/usr/bin/python3 "$here/replay.py" "http://127.0.0.1:$server_port" > "$tmp/replay.out" 2>&1 ||
  fail "replay: $(cat "$tmp/replay.out")"
cat "$tmp/replay.out"
echo "PASS: mlflow client replay"
