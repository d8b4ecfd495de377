#!/usr/bin/env bash
# Users end to end, on the database named by $2 (a SQLite file path, or a postgresql://
# URL): `users add`, `users token`, `users keys` and `users remove` on the command line,
# then a running `sagebox serve` on the same database:
#   - GET /api/whoami with the token is 200 with the user's name and role;
#   - a wrong token, no token and a removed user's token are 401;
#   - a password login gives an HttpOnly session cookie that whoami accepts;
#   - boto3, signed with the user's access key, reaches the Cost Explorer endpoint and an
#     unknown key is refused;
#   - a server with users may listen beyond loopback.
#
#   tests/platform/users_whoami.sh path/to/sagebox DATABASE_URL
# For PostgreSQL each run uses a schema of its own (search_path in the URL's options),
# so runs never see each other's users.
set -euo pipefail
SAGEBOX="$(realpath "$1")"
DB="$2"
# shellcheck source=SCRIPTDIR/../lib/server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server.sh"
TMP="$tmp"
cd "$TMP"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:color=never}"
unset SAGEBOX_STORE SAGEBOX_DATA SAGEBOX_DATABASE SAGEBOX_MASTER_KEY

if [[ "$DB" == postgres* ]]; then
  schema="whoami_$$_$RANDOM"
  psql -q "$DB" -c "CREATE SCHEMA $schema" > /dev/null
  sep='?'
  [[ "$DB" == *\?* ]] && sep='&'
  DB="${DB}${sep}options=-csearch_path%3D${schema}"
fi
sb() { "$SAGEBOX" --data "$TMP/data" --database "$DB" "$@"; }

printf 'correct horse battery\n' | sb users add alice --role admin --password-stdin
sb users add bob --role viewer
TOKEN="$(sb users token alice 2> /dev/null)"
BOB_TOKEN="$(sb users token bob 2> /dev/null)"
[[ "$TOKEN" == sbx_* ]] || fail "token looks wrong: $TOKEN"
sb users keys alice --profile sb > credentials 2> /dev/null
sb users list --format json > users.json
python3 -c 'import json,sys; u=json.load(open("users.json")); assert [x["name"] for x in u]==["alice","bob"], u'
# Adding a user twice is an error naming the user (exit 2), and nothing changes.
if sb users add alice --role user 2> dup.err; then fail "duplicate user accepted"; fi
grep -q alice dup.err || fail "duplicate message: $(cat dup.err)"

start_server "$TMP/port" "$TMP/serve.log" "$SAGEBOX" --data "$TMP/data" --database "$DB" serve \
  --listen 0.0.0.0:0 --port-file "$TMP/port"
SERVER_PID=$server_pid
URL="http://127.0.0.1:$server_port"

code() { curl -s -o body -w '%{http_code}' "$@"; }
[[ "$(code -H "Authorization: Bearer $TOKEN" "$URL/api/whoami")" == 200 ]] || fail "whoami with token"
python3 -c 'import json; b=json.load(open("body")); assert (b["name"], b["role"], b["via"]) == ("alice", "admin", "token"), b'
[[ "$(code -H "Authorization: Bearer ${TOKEN}x" "$URL/api/whoami")" == 401 ]] || fail "wrong token not 401"
[[ "$(code "$URL/api/whoami")" == 401 ]] || fail "no token not 401"
[[ "$(code "$URL/api/cost/meta")" == 401 ]] || fail "cost API open without a token"
[[ "$(code "$URL/healthz")" == 200 ]] || fail "healthz"

# Password login: cookie, then whoami through it.
[[ "$(code -c jar -H 'Content-Type: application/json' \
  -d '{"name":"alice","password":"correct horse battery"}' "$URL/api/login")" == 200 ]] ||
  fail "login: $(cat body)"
grep -q sagebox_session jar || fail "no session cookie"
grep -q '#HttpOnly_' jar || fail "session cookie not HttpOnly"
[[ "$(code -b jar "$URL/api/whoami")" == 200 ]] || fail "whoami by session"
[[ "$(code -H 'Content-Type: application/json' -d '{"name":"alice","password":"nope"}' \
  "$URL/api/login")" == 401 ]] || fail "wrong password not 401"

# SigV4 with the user's own keys, through boto3 (Debian's python3-boto3).
AWS_SHARED_CREDENTIALS_FILE="$TMP/credentials" /usr/bin/python3 - "$URL" <<'PY' || fail "boto3"
import sys, boto3, botocore
url = sys.argv[1]
ce = boto3.Session(profile_name="sb", region_name="us-east-1").client("ce", endpoint_url=url)
r = ce.get_cost_and_usage(TimePeriod={"Start": "2024-01-01", "End": "2024-02-01"},
                          Granularity="MONTHLY", Metrics=["UnblendedCost"])
assert "ResultsByTime" in r, r
bad = boto3.client("ce", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="SBXAUNKNOWNKEY000000", aws_secret_access_key="x" * 40)
try:
    bad.get_cost_and_usage(TimePeriod={"Start": "2024-01-01", "End": "2024-02-01"},
                           Granularity="MONTHLY", Metrics=["UnblendedCost"])
    raise SystemExit("unknown key accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "UnrecognizedClientException", e.response
PY

# A viewer reads but may not write.
[[ "$(code -H "Authorization: Bearer $BOB_TOKEN" "$URL/api/cost/reports")" == 200 ]] || fail "viewer read"
[[ "$(code -X PUT -H "Authorization: Bearer $BOB_TOKEN" -d '{"query":{}}' \
  "$URL/api/cost/reports/x")" == 403 ]] || fail "viewer write not 403"

# Removing a user ends their token at once.
sb users remove bob
[[ "$(code -H "Authorization: Bearer $BOB_TOKEN" "$URL/api/whoami")" == 401 ]] || fail "removed user's token"

# Metrics saw the calls, by route.
[[ "$(code -H "Authorization: Bearer $TOKEN" "$URL/metrics")" == 200 ]] || fail "metrics"
grep -q 'sagebox_http_requests_total{route="whoami",method="GET",code="401"}' body || fail "metrics content"
# SIGTERM stops the server cleanly (exit 0).
status=0
stop_server "$SERVER_PID" || status=$?
[[ $status == 0 ]] || fail "serve exited $status on SIGTERM"
grep -q 'sagebox serve: stopped' serve.log || fail "serve did not say it stopped"
echo "users_whoami ($([[ "$DB" == postgres* ]] && echo postgresql || echo sqlite)): all checks passed"
