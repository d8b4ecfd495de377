#!/usr/bin/env bash
# Installs every system package needed to build, test, fuzz and benchmark sagebox on
# Debian 12 (bookworm), from Debian's own archive. Safe to run again: packages already
# installed are left as they are.
#
#   bash scripts/install-deps.sh
#
# Runs apt-get as root, through sudo when not root.
set -euo pipefail

PACKAGES=(
  # toolchain and build
  build-essential cmake ninja-build g++ clang libclang-rt-14-dev pkg-config git
  # formatting and lint
  clang-format clang-tidy
  # libraries
  nlohmann-json3-dev libcli11-dev libfmt-dev libzstd-dev libdeflate-dev libzip-dev zlib1g-dev libsnappy-dev
  libhowardhinnant-date-dev libcpp-httplib-dev libfast-float-dev libssl-dev
  # the db layer: SQLite embedded, PostgreSQL through libpq (the server runs its tests)
  libsqlite3-dev libpq-dev postgresql-15
  # the auth layer: argon2id, secretbox, SHA-256 and random bytes
  libsodium-dev
  # the endpoint module: model archives, PNG images, TorchScript (libtorch 1.13, CPU), and
  # Debian's Python with torch and numpy for the Python backend and the tests' tiny models
  libarchive-dev libpng-dev libjpeg-dev libtorch-dev python3-torch python3-numpy python3-pil
  # the retrieval core: HTML (libxml2), PDF text (Poppler), BM25 (Xapian), ANN (hnswlib)
  libxml2-dev libpoppler-cpp-dev libxapian-dev libhnswlib-dev
  # the pipeline's Slurm executor: its tests run a one-node cluster (scripts/test-slurm.sh)
  slurm-wlm slurm-client munge
  # the pipeline module: YAML configs (yaml-cpp); the example's jobs run on Debian's
  # scikit-learn and XGBoost, and its reference check reads the YAML with PyYAML
  libyaml-cpp-dev python3-sklearn python3-xgboost python3-yaml
  # IANA timezones for schedules (findings)
  tzdata
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3
  # `serve`: real Cost Explorer clients, the browser for dashboard tests, HTTP load
  awscli python3-boto3 chromium wrk curl postgresql-client-15
)
# Node.js + npm run the DuckDB side of the benchmarks and the test oracle. A machine
# with Node.js from elsewhere (e.g. NodeSource, whose nodejs bundles npm and conflicts
# with Debian's npm package) keeps it.
command -v node > /dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm > /dev/null 2>&1 || PACKAGES+=(npm)

if [[ ! -r /etc/debian_version ]]; then
  echo "install-deps.sh: this script is for Debian 12; install the equivalents of:" >&2
  echo "  ${PACKAGES[*]}" >&2
  exit 1
fi

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo > /dev/null 2>&1; then
    echo "install-deps.sh: not root and no sudo; run it as root" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2> /dev/null || true)"
  [[ "$status" == installed ]] || missing+=("$p")
done
if [[ ${#missing[@]} == 0 ]]; then
  echo "install-deps.sh: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"
