#!/usr/bin/env bash
# retrieval_scale.sh: issue 14's BM25 speed at 10^4 and 10^6 chunks, sagebox
# (Xapian) beside SQLite FTS5, on chunks of Debian's python3.11-doc HTML
# (bench/retrieval_bm25_bench.cc, scale mode, says how sizes above the real
# chunk count are made).
#
#   bench/retrieval_scale.sh [SIZES] [PASSES] [WARMUP]   # default 10000,1000000, 3, 1
#   bench/retrieval_scale.sh 1000000 1 0                 # the 10^6 run: FTS5 takes
#                                                        # ~1 s a query there
#
# Two query sets, both written by people, none by us:
#   faq        the questions of the Python FAQ (h2-h4 headings of
#              DOCS/faq/*.html that end in "?"), on topic for the corpus;
#   cranfield  the 225 Cranfield queries (tests/data/retrieval/cranfield/beir),
#              off topic, longer (about 9 words each), many common words.
# Env: DOCS (default /usr/share/doc/python3.11/html), BENCH (the binary, default
# build/release/retrieval_bm25_bench), OUT (default bench/out/retrieval-scale).
# Needs python3.11-doc and /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${1:-10000,1000000}
PASSES=${2:-3}
WARMUP=${3:-1}
DOCS=${DOCS:-/usr/share/doc/python3.11/html}
BENCH=${BENCH:-build/release/retrieval_bm25_bench}
OUT=${OUT:-bench/out/retrieval-scale}
mkdir -p "$OUT"

# The FAQ questions as BEIR queries.jsonl.
/usr/bin/python3 - "$DOCS/faq" >"$OUT/faq-queries.jsonl" <<'EOF'
import glob, json, sys
from html.parser import HTMLParser

class Headings(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth, self.text, self.found = 0, "", []
    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3", "h4"):
            self.depth, self.text = 1, ""
    def handle_endtag(self, tag):
        if tag in ("h2", "h3", "h4") and self.depth:
            self.depth = 0
            q = " ".join(self.text.replace("\u00b6", "").split())  # Sphinx's pilcrow permalink
            if q.endswith("?"):
                self.found.append(q)
    def handle_data(self, data):
        if self.depth:
            self.text += data

n = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.html")):
    h = Headings()
    with open(path, encoding="utf-8") as f:
        h.feed(f.read())
    for q in h.found:
        n += 1
        print(json.dumps({"_id": f"faq{n}", "text": q}, ensure_ascii=False))
EOF
echo "faq queries: $(wc -l <"$OUT/faq-queries.jsonl") from $DOCS/faq"

# A copy of the binary: others rebuild build/release during a long run.
cp "$BENCH" "$OUT/retrieval_bm25_bench"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt"
/usr/bin/time -f 'bench: wall %e s, peak RSS %M KiB' "$OUT/retrieval_bm25_bench" --html "$DOCS" \
  --sizes "$SIZES" --passes "$PASSES" --warmup "$WARMUP" --k 10 \
  --queries "faq=$OUT/faq-queries.jsonl,cranfield=tests/data/retrieval/cranfield/beir/queries.jsonl" \
  2>&1 | tee "$OUT/result-$SIZES.md"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"
