#!/usr/bin/env bash
# Scale-out end to end: three `sagebox endpoint serve` processes over one model store on
# loopback, `sagebox endpoint route` in front, and boto3's invoke_endpoint through the
# router (scale_client.py):
#   1. every model is loaded on exactly one instance, the one the router names, and the
#      models spread over the instances;
#   2. an instance killed with SIGKILL: every model still answers, only its models move;
#   3. a hot model gets a second instance;
#   4. the router's /metrics shows the dead instance as down.
# Usage: scale.sh BINARY
set -euo pipefail
bin=$1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
server_wait_seconds=90  # three instances and a router starting at once

# Nine Python-backend models: OUTPUT0 = INPUT0 * k, k from the model's name (scale_k).
for k in 1 2 3 4 5 6 7 8 9; do
  m="$tmp/store/scale_$k"
  mkdir -p "$m/1"
  cat > "$m/config.pbtxt" << CFG
name: "scale_$k"
backend: "python"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
CFG
  cat > "$m/1/model.py" << 'PY'
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        self.k = float(args["model_name"].rsplit("_", 1)[1])

    def execute(self, requests):
        out = []
        for r in requests:
            x = pb_utils.get_input_tensor_by_name(r, "INPUT0").as_numpy()
            y = (x * self.k).astype(np.float32)
            out.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", y)]))
        return out
PY
done

pids=()
urls=()
for i in 0 1 2; do
  spawn_server "$tmp/port$i" "$tmp/serve$i.log" env OMP_NUM_THREADS=1 "$bin" --data "$tmp/data$i" \
    endpoint serve --models "$tmp/store" --listen 127.0.0.1:0 --port-file "$tmp/port$i" --memory-budget 1GiB
  pids+=("$server_pid")
done
for i in 0 1 2; do
  wait_server "$tmp/port$i" "${pids[$i]}" "$tmp/serve$i.log"
  urls+=("http://127.0.0.1:$server_port")
done
start_server "$tmp/router_port" "$tmp/router.log" "$bin" --data "$tmp/router" endpoint route \
  --instance "${urls[0]}" --instance "${urls[1]}" --instance "${urls[2]}" --hot-rps 3 \
  --listen 127.0.0.1:0 --port-file "$tmp/router_port"
router="http://127.0.0.1:$server_port"

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
"$py" "$here/scale_client.py" placement "$router" "${urls[@]}" > "$tmp/placement.json" ||
  fail "placement"
# Kill the instance that holds the most models, without a chance to say goodbye.
victim="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["busiest"])' \
  "$tmp/placement.json")"
for i in 0 1 2; do
  if [[ "${urls[$i]}" == "$victim" ]]; then
    kill -9 "${pids[$i]}"
    wait "${pids[$i]}" 2> /dev/null || true
  fi
done
"$py" "$here/scale_client.py" failover "$router" "$tmp/placement.json" "${urls[@]}" ||
  fail "failover"
"$py" "$here/scale_client.py" hot "$router" "$victim" "${urls[@]}" || fail "hot model"
curl -sf "$router/metrics" > "$tmp/metrics.txt" || fail "router /metrics"
grep -q "sagebox_router_instance_up{instance=\"$victim\"} 0" "$tmp/metrics.txt" ||
  fail "router /metrics does not show $victim down"
echo "endpoint scale: ok"
