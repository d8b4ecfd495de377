#!/usr/bin/env bash
# sagebox's own endpoint module as the rag embedder: a Python-backend model in Triton's
# layout (TEXT: TYPE_STRING [1] -> EMBEDDING: TYPE_FP32 [64], a hashed bag of words, so
# texts sharing words point the same way) served by `sagebox endpoint serve`, then
#   1. `rag ingest --embedder sagemaker:...,format=kserve,target=embed` (SigV4-signed
#      InvokeEndpoint with KServe v2 JSON): every chunk gets a vector;
#   2. `rag ask --mode dense` finds the right file by the endpoint's vectors alone, and
#      hybrid (auto) carries both retrievers' ranks;
#   3. the endpoint counted the embedding requests (/api/endpoint/models).
# Usage: endpoint_embedder.sh BINARY   (needs /usr/bin/python3 with numpy)
set -euo pipefail
bin=$(realpath "$1")
py=/usr/bin/python3
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"

mkdir -p "$tmp/store/embed/1" "$tmp/docs"
cat > "$tmp/store/embed/config.pbtxt" << 'EOF2'
name: "embed"
backend: "python"
max_batch_size: 16
input [ { name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] } ]
output [ { name: "EMBEDDING" data_type: TYPE_FP32 dims: [ 64 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
EOF2
cat > "$tmp/store/embed/1/model.py" << 'EOF2'
import re
import zlib
import numpy as np
import triton_python_backend_utils as pb_utils

def embed(text):
    v = np.zeros(64, dtype=np.float32)
    for w in re.findall(r"[a-z0-9]{3,}", text.lower()):
        v[zlib.crc32(w.encode()) % 64] += 1.0
    n = np.linalg.norm(v)
    return v / n if n > 0 else v

class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            texts = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy()
            rows = [embed(t.decode("utf-8") if isinstance(t, bytes) else str(t))
                    for t in texts.reshape(-1)]
            out = pb_utils.Tensor("EMBEDDING", np.stack(rows).astype(np.float32))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
EOF2
printf '# Quokkas\n\nThe quokka is a small marsupial living on Rottnest Island.\n' > "$tmp/docs/quokka.md"
printf '# Volcanoes\n\nMagma rises through the crust and erupts as lava.\n' > "$tmp/docs/volcano.md"
printf '# Tides\n\nThe moon pulls the oceans, which makes the tides.\n' > "$tmp/docs/tides.md"

start_server "$tmp/port" "$tmp/serve.log" env OMP_NUM_THREADS=1 "$bin" --data "$tmp/ep" endpoint serve \
  --models "$tmp/store" --listen 127.0.0.1:0 --port-file "$tmp/port"
url="http://127.0.0.1:$server_port"

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1
spec="sagemaker:sagebox@$url,format=kserve,target=embed,batch=2"
sb() { "$bin" --data "$tmp/data" "$@"; }
sb rag ingest emb "$tmp/docs" --embedder "$spec" > "$tmp/ingest.out" ||
  fail "ingest: $(cat "$tmp/ingest.out")"
grep -q "3 chunks (3 with vectors)" "$tmp/ingest.out" || fail "ingest: $(cat "$tmp/ingest.out")"

# Dense alone: "lava magma" shares no word with the other files, only with volcano.md.
sb rag ask emb "Where does lava come from? magma" --mode dense --k 1 --format json > "$tmp/d.json" ||
  fail "ask dense"
"$py" - "$tmp/d.json" << 'PY' || fail "dense: $(cat "$tmp/d.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["mode"] == "dense", j["mode"]
s = j["sources"]
assert len(s) == 1 and s[0]["source"].endswith("volcano.md"), s
assert "dense" in s[0] and "bm25" not in s[0], s[0]
PY
sb rag ask emb "quokka island" --format json > "$tmp/h.json" || fail "ask hybrid"
"$py" - "$tmp/h.json" << 'PY' || fail "hybrid: $(cat "$tmp/h.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["mode"] == "hybrid", j["mode"]  # auto: the index has an embedder
s = j["sources"][0]
assert s["source"].endswith("quokka.md") and s["bm25"]["rank"] == 1 and s["dense"]["rank"] == 1, s
PY

# The endpoint served them: 2 ingest batches (3 chunks, batch=2) + 2 queries.
curl -sS "$url/api/endpoint/models" > "$tmp/models.json"
"$py" - "$tmp/models.json" << 'PY' || fail "endpoint counters: $(cat "$tmp/models.json")"
import json, sys
j = json.load(open(sys.argv[1]))
models = j["models"] if isinstance(j, dict) else j
m = [x for x in models if x.get("model", x.get("name")) in ("embed", "embed/")]
assert m, models
assert m[0]["requests"] == 4, m[0]
PY
echo "rag endpoint embedder: ok"
