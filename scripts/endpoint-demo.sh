#!/usr/bin/env bash
# Serves four generated Stable Diffusion pipelines (tiny: random weights, the real
# interfaces) from one multi-model endpoint, as the seed article does on SageMaker:
#
#   bash scripts/endpoint-demo.sh [DIR]
#
# 1. builds the release binary if it is missing (run scripts/install-deps.sh first);
# 2. writes the model folders with Debian's python3-torch (tests/endpoint/make_tiny_diffusion.py)
#    and packs each with `sagebox endpoint pack` into DIR/models (default ./.sagebox-endpoint-demo);
# 3. runs `sagebox endpoint serve` on 127.0.0.1:8080 until Ctrl-C.
# While it runs, the article's boto3 cells work against it with endpoint_url; one of them:
#   /usr/bin/python3 tests/endpoint/article_cells.py http://127.0.0.1:8080 "$PWD/DIR/models"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:-.sagebox-endpoint-demo}
bin=./build/release/sagebox
if [[ ! -x "$bin" ]]; then
  cmake --preset release > /dev/null && cmake --build build/release -j2 --target sagebox
fi
mkdir -p "$dir/models"
if [[ ! -f "$dir/models/sd_upscale.tar.gz" ]]; then
  echo "generating tiny Stable Diffusion pipelines in $dir/repo ..."
  /usr/bin/python3 tests/endpoint/make_tiny_diffusion.py "$dir/repo" > /dev/null
  for m in sd_base sd_depth sd_inpaint sd_upscale; do
    "$bin" endpoint pack "$dir/repo/$m" -o "$dir/models/$m.tar.gz"
  done
fi
exec "$bin" --data "$dir/data" endpoint serve --models "$dir/models" --memory-budget 2GiB \
  --instance-type ml.g5.2xlarge --listen 127.0.0.1:8080
