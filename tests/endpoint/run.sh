#!/usr/bin/env bash
# End to end for `sagebox endpoint`: tiny Stable Diffusion pipelines (random weights, real
# interfaces, built by tests/endpoint/make_tiny_diffusion.py with Debian's python3-torch) packed
# with `sagebox endpoint pack` into a model store, served by `sagebox endpoint serve`, then:
#   1. the seed article's boto3 cells (article_cells.py): control plane + four invocations;
#   2. the AWS CLI's `sagemaker-runtime invoke-endpoint --target-model`;
#   3. Triton/KServe v2 (repository index, metadata, config, unload), the MME container
#      contract (/ping, /models) and /metrics with SageMaker's metric names;
#   4. `sagebox endpoint models` lists what was served.
# Usage: run.sh BINARY
set -euo pipefail
bin=$1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

"$py" "$here/make_tiny_diffusion.py" "$tmp/repo" > "$tmp/make.log" 2>&1 || {
  cat "$tmp/make.log"
  fail "make_tiny_diffusion.py"
}
mkdir -p "$tmp/store"
for m in sd_base sd_depth sd_inpaint sd_upscale; do
  "$bin" endpoint pack "$tmp/repo/$m" -o "$tmp/store/$m.tar.gz" > /dev/null || fail "pack $m"
done
# A broken config is refused by pack with file:line.
mkdir -p "$tmp/bad/broken/1"
printf 'name: "broken"\nbackend: "python"\nmax_batch_size: eight\n' > "$tmp/bad/broken/config.pbtxt"
if "$bin" endpoint pack "$tmp/bad/broken" -o "$tmp/bad.tar.gz" 2> "$tmp/pack.err"; then
  fail "pack accepted a broken config"
fi
grep -q "config.pbtxt:3" "$tmp/pack.err" || fail "pack error without file:line: $(cat "$tmp/pack.err")"

# One libtorch thread per instance: OpenMP workers spin while they wait, and on a machine
# that other tests keep busy two spinning teams per process slow everything to a crawl.
start_server "$tmp/port" "$tmp/serve.log" env OMP_NUM_THREADS=1 "$bin" --data "$tmp/data" endpoint serve \
  --models "$tmp/store" --listen 127.0.0.1:0 --port-file "$tmp/port" --memory-budget 2GiB \
  --instance-type ml.g5.2xlarge
url="http://127.0.0.1:$server_port"

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
"$py" "$here/article_cells.py" "$url" "$tmp/store" || fail "article cells"

# The AWS CLI against the endpoint `serve` created from its flags ("sagebox").
printf '{"inputs":[{"name":"prompt","shape":[1,1],"datatype":"BYTES","data":["a red house"]},{"name":"gen_args","shape":[1,1],"datatype":"BYTES","data":["{\\"num_inference_steps\\": 4, \\"height\\": 64, \\"width\\": 64}"]}]}' > "$tmp/req.json"
aws sagemaker-runtime invoke-endpoint --cli-read-timeout 600 --endpoint-url "$url" --endpoint-name sagebox \
  --target-model sd_base.tar.gz --content-type application/octet-stream \
  --body "fileb://$tmp/req.json" "$tmp/out.json" > /dev/null ||
  fail "aws sagemaker-runtime invoke-endpoint"
"$py" - "$tmp/out.json" << 'PY' || fail "aws CLI answer"
import base64, io, json, sys
from PIL import Image
out = json.load(open(sys.argv[1]))["outputs"][0]
assert out["name"] == "generated_image" and out["datatype"] == "BYTES", out
img = Image.open(io.BytesIO(base64.b64decode(out["data"][0])))
assert img.size == (64, 64), img.size
PY

# SageMaker's 6 MiB payload limit: a 7 MiB body is refused with 413 before any model runs.
head -c $((7 << 20)) /dev/zero | tr '\0' 'a' > "$tmp/big.bin"
code=$(curl -s -o "$tmp/big.out" -w '%{http_code}' -X POST -H 'X-Amzn-SageMaker-Target-Model: sd_base.tar.gz' \
  --data-binary "@$tmp/big.bin" "$url/endpoints/sagebox/invocations")
[[ "$code" == 413 ]] || fail "a 7 MiB body gave $code, want 413"

# Triton / KServe v2.
curl -fsS "$url/v2/health/ready" > /dev/null || fail "v2 ready"
curl -fsS -X POST -d "" "$url/v2/repository/index" > "$tmp/index.json" || fail "v2 index"
grep -q '"name":"sd_base.tar.gz"' "$tmp/index.json" || fail "index: $(cat "$tmp/index.json")"
grep -q '"state":"READY"' "$tmp/index.json" || fail "index has nothing READY: $(cat "$tmp/index.json")"
curl -fsS "$url/v2/models/sd_base.tar.gz/config" | grep -q '"backend":"diffusion"' || fail "v2 config"
curl -fsS "$url/v2/models/sd_base.tar.gz" | grep -q '"name":"prompt"' || fail "v2 metadata"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/v2/models/nope.tar.gz/infer" -d '{"inputs":[]}')
[[ "$code" == 404 ]] || fail "v2 infer on an unknown model gave $code"
curl -fsS -X POST -d "" "$url/v2/repository/models/sd_base.tar.gz/unload" > /dev/null || fail "v2 unload"

# The MME container contract.
curl -fsS "$url/ping" > /dev/null || fail "ping"
curl -fsS -X POST "$url/models" -d '{"model_name":"sd_base.tar.gz","url":"sd_base.tar.gz"}' > /dev/null ||
  fail "MME load"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/models" -d '{"model_name":"sd_base.tar.gz","url":"sd_base.tar.gz"}')
[[ "$code" == 409 ]] || fail "MME load of a loaded model gave $code, want 409"
curl -fsS "$url/models" | grep -q 'sd_base.tar.gz' || fail "MME list"
curl -fsS -X DELETE "$url/models/sd_base.tar.gz" > /dev/null || fail "MME unload"

# Metrics with SageMaker's names.
curl -fsS "$url/metrics" > "$tmp/metrics.txt" || fail "metrics"
for m in sagemaker_LoadedModelCount sagemaker_ModelCacheHit sagemaker_ModelLoadingTime_microseconds_total \
  sagemaker_MemoryUtilization sagebox_endpoint_model_requests_total; do
  grep -q "^$m{" "$tmp/metrics.txt" || fail "metrics lack $m"
done

# The CLI's table of models.
"$bin" endpoint models --url "$url" > "$tmp/models.txt" || fail "endpoint models"
grep -q "sd_upscale.tar.gz" "$tmp/models.txt" || fail "models: $(cat "$tmp/models.txt")"
"$bin" endpoint models --url "$url" --json | "$py" -c '
import json, sys
j = json.load(sys.stdin)
by = {m["name"]: m for m in j["models"]}
assert by["sd_base.tar.gz"]["requests"] >= 1, by["sd_base.tar.gz"]
assert j["usd_per_hour"] is not None, j
' || fail "models JSON"
echo "endpoint end to end: ok"
