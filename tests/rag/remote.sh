#!/usr/bin/env bash
# The remote-OpenSearch backend end to end (retrieval/remote/): `sagebox serve`'s
# /opensearch/ REST subset stands in for the user's cluster.
#   1. the corpus of run.sh into a local index, in one process: its chunk count;
#   2. the same corpus into the "cluster" by two workers, --shard 0/2 and --shard 1/2:
#      each takes some of the files, together all 11, and the index's _count equals
#      the local chunk count;
#   3. `rag ask --opensearch` answers like the local `rag ask`: the same answer and the
#      same sources (source, chunk id, passage) in the same order, at the default k = 3.
#      Lower ranks may differ: the local BM25 (Xapian) searches each chunk's title with
#      its text, the cluster's `match` only the text field, with Lucene's BM25 (at k = 4
#      the 4th source here differs);
#   4. mistakes: a worker with other chunking flags, --shard without --opensearch, a
#      missing remote index: each fails with a message saying so.
# Usage: remote.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="$here/../data/retrieval"
py=/usr/bin/python3
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
sb() { "$bin" --data "$tmp/data" "$@"; }

mkdir -p "$tmp/docs"
cp -r "$data/text" "$data/html" "$data/rag" "$tmp/docs/"
cp "$data/pdf/tagged.pdf" "$tmp/docs/"

# The "cluster": serve with its own data folder, on a free port.
start_server "$tmp/port" "$tmp/serve.log" "$bin" --data "$tmp/cluster" serve --listen 127.0.0.1:0 --port-file "$tmp/port"
url="http://127.0.0.1:$server_port/opensearch"

# 1. Local, one process.
sb rag ingest local "$tmp/docs" > "$tmp/local.out" || fail "local ingest: $(cat "$tmp/local.out")"
chunks=$(sed -nE 's/.*; ([0-9]+) chunks .*/\1/p' "$tmp/local.out")
[[ -n "$chunks" && "$chunks" -gt 0 ]] || fail "local chunk count: $(cat "$tmp/local.out")"

# 2. Two workers, each its shard.
files=0
for i in 0 1; do
  sb rag ingest docs "$tmp/docs" --opensearch "$url" --shard "$i/2" > "$tmp/shard$i.out" ||
    fail "shard $i: $(cat "$tmp/shard$i.out")"
  n=$(sed -nE "s/.*: shard $i\/2: ([0-9]+) of 11 files.*/\1/p" "$tmp/shard$i.out")
  [[ -n "$n" && "$n" -gt 0 && "$n" -lt 11 ]] || fail "shard $i took $n files: $(cat "$tmp/shard$i.out")"
  files=$((files + n))
done
[[ $files -eq 11 ]] || fail "the shards took $files files together, not 11"
grep -q "(created)" "$tmp/shard0.out" || fail "shard 0 did not create the index: $(cat "$tmp/shard0.out")"
count=$("$py" -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["count"])' "$url/docs/_count")
[[ "$count" -eq "$chunks" ]] || fail "_count $count, local chunks $chunks"

# 3. The same answer and sources from both.
q="Which Docker tool does local mode require?"
sb rag ask local "$q" --format json > "$tmp/local.json" || fail "local ask"
sb rag ask docs "$q" --format json --opensearch "$url" > "$tmp/remote.json" ||
  fail "remote ask: $(cat "$tmp/remote.json")"
"$py" - "$tmp/local.json" "$tmp/remote.json" << 'PY' || fail "ask: local and remote differ"
import json, sys
loc, rem = (json.load(open(p)) for p in sys.argv[1:3])
assert rem["mode"] == "bm25" and rem["provider"] == "extractive", rem
assert "Docker Compose" in rem["answer"], rem["answer"]
assert rem["answer"] == loc["answer"], (loc["answer"], rem["answer"])
key = lambda s: (s["source"], s["chunk_id"], s["doc_id"], s["page"], s["byte_begin"], s["passage"])
assert [key(s) for s in rem["sources"]] == [key(s) for s in loc["sources"]], (
    [s["chunk_id"] for s in loc["sources"]], [s["chunk_id"] for s in rem["sources"]])
assert len(rem["sources"]) == 3, len(rem["sources"])
assert rem["sources"][0]["source"].endswith("rag/local_mode.rst"), rem["sources"][0]
assert rem["sources"][0]["bm25"]["rank"] == 1 and rem["sources"][0]["score"] > 0
PY
sb rag ask docs "$q" --opensearch "$url" > "$tmp/remote.txt" || fail "remote ask (table)"
grep -q "local_mode.rst" "$tmp/remote.txt" || fail "remote ask table: $(cat "$tmp/remote.txt")"

# 4. Mistakes.
set +e
sb rag ingest docs "$tmp/docs" --opensearch "$url" --shard 0/2 --chunk-size 300 > /dev/null 2> "$tmp/e1"
rc1=$?
sb rag ingest local "$tmp/docs" --shard 0/2 > /dev/null 2> "$tmp/e2"
rc2=$?
sb rag ask nope "$q" --opensearch "$url" > /dev/null 2> "$tmp/e3"
rc3=$?
set -e
[[ $rc1 -ne 0 ]] && grep -q "chunk_size 600, not 300" "$tmp/e1" || fail "other flags: rc $rc1, $(cat "$tmp/e1")"
[[ $rc2 -ne 0 ]] && grep -q "needs --opensearch" "$tmp/e2" || fail "--shard alone: rc $rc2, $(cat "$tmp/e2")"
[[ $rc3 -ne 0 ]] && grep -q "no index \"nope\" at $url" "$tmp/e3" || fail "missing index: rc $rc3, $(cat "$tmp/e3")"
count2=$("$py" -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["count"])' "$url/docs/_count")
[[ "$count2" -eq "$chunks" ]] || fail "the refused ingest changed _count: $count2"
echo "rag_remote_e2e: ok ($chunks chunks over 2 shards, $files files)"
