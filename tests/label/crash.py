"""A crash mid-submit loses nothing that was acknowledged (issue 15, "Reliability").

Mode `storm URL TOKENS PROJECT OUT`: 8 annotator threads loop next + submit until the server
dies under them (run.sh kills it with SIGKILL); every submit answered 200 is appended to OUT at
once as a JSON line {"assignment", "annotation", "item"} (run.sh kills the server when there
are some). Mode `check URL TOKENS PROJECT ACKED ITEMS`, against
the restarted server: every acknowledged submission is there (the assignment is submitted
and its latest version is the acknowledged annotation), then the annotators finish the
project, and every item ends with exactly one submission: nothing lost, nothing doubled.
Standard library only.
"""

import json
import sys
import threading
import urllib.error
import urllib.request

MODE, URL, TOKENS, PROJECT = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
USERS = [u for u in TOKENS if u.startswith("w")]


def call(user, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKENS[user])
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def payload(item):
    return {"rankings": [{"dimension": "helpfulness", "order": [r["id"] for r in item["responses"]]}]}


def work(user, acked, lock, stop_on_error, out):
    while True:
        try:
            a = call(user, "POST", f"/api/label/projects/{PROJECT}/next")["assignment"]
            if a is None:
                return
            r = call(user, "POST", f"/api/label/assignments/{a['id']}/submit", {"payload": payload(a["item"])})
        except urllib.error.HTTPError as e:
            body = e.read().decode()
            if e.code == 400 and "timed out" in body:
                continue  # a slow machine outran the short reservation: ask again
            raise AssertionError(f"{user}: HTTP {e.code}: {body}")
        except (urllib.error.URLError, ConnectionError, OSError):
            if stop_on_error:
                return  # the server is gone
            raise
        ack = {"assignment": a["id"], "annotation": r["annotation_id"], "item": a["item_id"]}
        with lock:
            acked.append(ack)
            if out is not None:
                out.write(json.dumps(ack) + "\n")
                out.flush()


def run(stop_on_error, out=None):
    acked, lock = [], threading.Lock()
    threads = [threading.Thread(target=work, args=(u, acked, lock, stop_on_error, out)) for u in USERS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return acked


if MODE == "storm":
    with open(sys.argv[5], "w") as f:
        acked = run(stop_on_error=True, out=f)
    print(f"storm: {len(acked)} submissions acknowledged before the kill")
else:
    with open(sys.argv[5]) as f:
        before = [json.loads(line) for line in f if line.strip()]
    n_items = int(sys.argv[6])
    assert before, "the server died before any submit was acknowledged: nothing was tested"
    for a in before:  # the admin may read every assignment
        got = call("root", "GET", f"/api/label/assignments/{a['assignment']}")
        assert got["state"] == "submitted", (a, got["state"])
    after = run(stop_on_error=False)
    status = call("root", "GET", f"/api/label/projects/{PROJECT}/status")
    submitted = status["assignments"].get("submitted", 0)
    assert submitted == n_items, (submitted, n_items, status)
    items = [a["item"] for a in before + after]
    assert len(items) == len(set(items)), "an item was submitted twice"
    print(f"check: {len(before)} acknowledged before the crash all kept; {len(after)} after; "
          f"{submitted} of {n_items} items submitted once")
