#!/usr/bin/env bash
# End to end for `sagebox label` on real data (tests/data/label: OpenAssistant trees and
# XQuAD articles, see its PROVENANCE.md):
#   1. the CLI converts both datasets into Ground Truth input manifests; a manifest with a
#      bad line is refused as file:line with exit 2 and imports nothing;
#   2. users and tokens for a manager, two annotators, a reviewer and a requester;
#      `sagebox serve`; tests/label/loop.py plays the whole quality loop through the API
#      (issue 15's "Done when");
#   3. the CLI sees the same state: `label status`, `label metrics --format json`, and a
#      `label export` whose sha256 equals the API's export of the same work (exports are
#      content-addressed, so the same accepted work gives the same file).
# Usage: run.sh BINARY
set -euo pipefail
bin=$(realpath "$1")
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="$here/../data/label"
py=/usr/bin/python3
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
sb() { "$bin" --data "$tmp/data" "$@"; }

# 1. Convert; a bad manifest is refused whole.
sb label convert --from oasst "$data/oasst_en_5_tree.jsonl" -o "$tmp/prefs.jsonl"
sb label convert --from squad "$data/xquad.en.first2.json" -o "$tmp/qa.jsonl"
[[ $(wc -l < "$tmp/prefs.jsonl") -gt 5 ]] || fail "oasst conversion: $(wc -l < "$tmp/prefs.jsonl") items"
echo '{"kind": "ranking", "requirements": {"dimensions": ["helpfulness"]}}' > "$tmp/prefs.json"
sb label project create cli-prefs --config "$tmp/prefs.json" > "$tmp/create.out"
grep -q 'created ranking project "cli-prefs"' "$tmp/create.out" || fail "create: $(cat "$tmp/create.out")"
{ head -n 3 "$tmp/prefs.jsonl"; echo '{"prompt": "no responses"}'; } > "$tmp/bad.jsonl"
set +e
sb label import cli-prefs "$tmp/bad.jsonl" 2> "$tmp/bad.err"
code=$?
set -e
[[ $code == 2 ]] || fail "bad manifest: exit $code, expected 2"
grep -q "bad.jsonl:4:" "$tmp/bad.err" || fail "bad manifest message: $(cat "$tmp/bad.err")"
sb label status cli-prefs --format json > "$tmp/status.json"
$py -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["items"] == 0, s' "$tmp/status.json" ||
  fail "a refused import left items"
sb label import cli-prefs "$tmp/prefs.jsonl" > "$tmp/import.out"
grep -q "^imported $(wc -l < "$tmp/prefs.jsonl") items" "$tmp/import.out" || fail "import: $(cat "$tmp/import.out")"

# 2. Users, the server, the loop through the API.
printf 'correct horse battery\n' | sb users add root --role admin --password-stdin > /dev/null
tokens="{"
tokens+="\"root\": \"$(sb users token root 2> /dev/null)\","
for u in mia ann bob rita rex sam; do
  sb users add "$u" --role user > /dev/null
  tokens+="\"$u\": \"$(sb users token "$u" 2> /dev/null)\","
done
tokens="${tokens%,}}"
start_server "$tmp/port" "$tmp/server.log" "$bin" --data "$tmp/data" serve --listen 127.0.0.1:0 \
  --port-file "$tmp/port"
url="http://127.0.0.1:$server_port"
$py "$here/loop.py" "$url" "$tokens" "$tmp/prefs.jsonl" "$tmp/qa.jsonl" > "$tmp/loop.out" 2>&1 ||
  fail "the loop: $(cat "$tmp/loop.out")"
cat "$tmp/loop.out"

# 3. The CLI sees the same state.
sb label status oasst-prefs > "$tmp/status.out"
grep -Eq "delivered" "$tmp/status.out" || fail "status: $(cat "$tmp/status.out")"
sb label metrics xquad-qa --format json > "$tmp/metrics.json"
$py -c 'import json,sys; m=json.load(open(sys.argv[1])); mix=m["batches"][0]["question_type_mix"]; assert m["accepted"] > 0 and m["rework_rounds"]["max"] == 1 and mix["meets_requirement"] and mix["types"]["reasoning"]["share"] >= 0.3, m' \
  "$tmp/metrics.json" || fail "metrics: $(cat "$tmp/metrics.json")"
sb label export oasst-prefs --format preference -o "$tmp/cli.jsonl" 2> "$tmp/export.err"
api_sha=$(curl -fsS -D - -o /dev/null -H "Authorization: Bearer $(sb users token rex 2> /dev/null)" \
  "$url/api/label/projects/oasst-prefs/export?format=preference" | tr -d '\r' |
  sed -n 's/^X-Sagebox-Export-Sha256: //Ip')
cli_sha=$(sha256sum "$tmp/cli.jsonl" | cut -d' ' -f1)
[[ -n "$api_sha" && "$api_sha" == "$cli_sha" ]] || fail "export sha256: api $api_sha, cli $cli_sha"
grep -q "sha256 $cli_sha" "$tmp/export.err" || fail "export message: $(cat "$tmp/export.err")"
stop_server "$server_pid" || fail "server exit status"

# 4. A crash mid-submit loses nothing acknowledged: 8 annotators submit while the server is
#    killed with SIGKILL; after a restart every acknowledged submission is there and the
#    project finishes with one submission per item.
for w in 1 2 3 4 5 6 7 8; do
  sb users add "w$w" --role user > /dev/null
  tokens="${tokens%\}}, \"w$w\": \"$(sb users token "w$w" 2> /dev/null)\"}"
done
echo '{"kind": "ranking", "reservation_seconds": 3, "requirements": {"dimensions": ["helpfulness"]}}' \
  > "$tmp/crash.json"
sb label project create crash --config "$tmp/crash.json" > /dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do cat "$tmp/prefs.jsonl"; done > "$tmp/crash.jsonl"
sb label import crash "$tmp/crash.jsonl" > /dev/null
for w in 1 2 3 4 5 6 7 8; do sb label members add crash "w$w" annotator > /dev/null; done
items=$(wc -l < "$tmp/crash.jsonl")
start_server "$tmp/port2" "$tmp/server2.log" "$bin" --data "$tmp/data" serve --listen 127.0.0.1:0 \
  --port-file "$tmp/port2"
$py "$here/crash.py" storm "http://127.0.0.1:$server_port" "$tokens" crash "$tmp/acked.json" \
  > "$tmp/storm.out" 2>&1 &
storm=$!
# Kill once some submits were acknowledged, mid-storm.
for _ in $(seq 1 300); do
  sleep 0.1
  [[ -f "$tmp/acked.json" && $(wc -l < "$tmp/acked.json") -ge 20 ]] && break
done
kill -9 "$server_pid"
wait "$storm" || fail "storm: $(cat "$tmp/storm.out")"
cat "$tmp/storm.out"
sleep 3.2  # the reservations of the killed run time out (3 s)
start_server "$tmp/port3" "$tmp/server3.log" "$bin" --data "$tmp/data" serve --listen 127.0.0.1:0 \
  --port-file "$tmp/port3"
$py "$here/crash.py" check "http://127.0.0.1:$server_port" "$tokens" crash "$tmp/acked.json" \
  "$items" > "$tmp/check.out" 2>&1 || fail "after the crash: $(cat "$tmp/check.out")"
cat "$tmp/check.out"
stop_server "$server_pid" || fail "server exit status"
echo "label e2e: ok"
