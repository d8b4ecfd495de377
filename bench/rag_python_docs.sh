#!/usr/bin/env bash
# rag_python_docs.sh: issue 14's "a corpus no one here wrote". Ingests Debian's
# python3.11-doc HTML (/usr/share/doc/python3.11/html, about 530 pages) into a
# fresh sagebox index, reports the wall time, the documents and chunks, the
# size on disk (database + the index's derived folder), and asks a few
# questions with `sagebox rag ask` (extractive answers, BM25; the defaults).
#
#   bench/rag_python_docs.sh [SAGEBOX_BINARY]    # default build/release/sagebox
#
# Only the *.html files are ingested, named one by one: the folder also holds
# Sphinx's _sources/*.rst.txt (the same pages as reStructuredText, which
# `rag ingest FOLDER` would take as text and index twice); WHOLE_FOLDER=1
# ingests the folder as a user would.
#
# Env: DOCS (the HTML folder), OUT (work folder, default /tmp/rag-python-docs;
# wiped first), K (passages per answer, default 3), WHOLE_FOLDER. Needs python3.11-doc
# (`apt-get install python3.11-doc`) and GNU time (/usr/bin/time).
# Output: OUT/ingest.log, OUT/ask-N.txt and a summary on stdout.
set -euo pipefail

SAGEBOX=${1:-build/release/sagebox}
DOCS=${DOCS:-/usr/share/doc/python3.11/html}
OUT=${OUT:-/tmp/rag-python-docs}
K=${K:-3}

[[ -x $SAGEBOX ]] || { echo "rag_python_docs.sh: $SAGEBOX: not an executable" >&2; exit 2; }
[[ -d $DOCS ]] || { echo "rag_python_docs.sh: $DOCS: missing (apt-get install python3.11-doc)" >&2; exit 2; }

rm -rf "$OUT"
mkdir -p "$OUT/data"
# A copy of the binary: others may rebuild build/release during the run.
cp "$SAGEBOX" "$OUT/sagebox"
sb=("$OUT/sagebox" --data "$OUT/data" --database "$OUT/data/sagebox.db")

pages=$(find "$DOCS" -name '*.html' -not -path '*/.*' | wc -l)
html_bytes=$(find "$DOCS" -name '*.html' -not -path '*/.*' -printf '%s\n' | awk '{s += $1} END {print s}')
echo "corpus: $DOCS: $pages HTML files, $html_bytes bytes of HTML"
echo "binary: $SAGEBOX ($("$OUT/sagebox" --version 2>&1 | head -1))"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the ingest"

# %e wall s, %U user s, %S system s, %M peak RSS KiB.
if [[ ${WHOLE_FOLDER:-0} == 1 ]]; then
  inputs=("$DOCS")
else
  mapfile -d '' inputs < <(find "$DOCS" -name '*.html' -not -path '*/.*' -print0 | sort -z)
fi
echo "ingesting ${#inputs[@]} path(s)"
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, peak RSS %M KiB' -o "$OUT/time.txt" \
  "${sb[@]}" rag ingest py311 "${inputs[@]}" >"$OUT/ingest.log" 2>&1
tail -n 3 "$OUT/ingest.log"
echo "ingest: $(cat "$OUT/time.txt")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"${sb[@]}" rag indexes
db_bytes=$(find "$OUT/data" -maxdepth 1 -name 'sagebox.db*' -printf '%s\n' | awk '{s += $1} END {print s}')
ix_bytes=$(du -sb "$OUT/data/retrieval" | cut -f1)
echo "size on disk: database $db_bytes bytes (sagebox.db*), derived index folder $ix_bytes bytes ($OUT/data/retrieval)"
du -sb "$OUT/data/retrieval"/*/* 2>/dev/null || true

questions=(
  "How do I remove duplicates from a list while keeping order?"
  "What does the with statement do?"
  "How do I read a CSV file?"
  "What is the Global Interpreter Lock?"
  "How do I create a virtual environment?"
)
n=0
for q in "${questions[@]}"; do
  n=$((n + 1))
  {
    echo "\$ sagebox rag ask py311 \"$q\" --k $K"
    /usr/bin/time -f '(%e s)' "${sb[@]}" rag ask py311 "$q" --k "$K" 2>&1
  } >"$OUT/ask-$n.txt"
  cat "$OUT/ask-$n.txt"
  echo
done
