"""The whole label loop through /api/label/, as issue 15's "Done when" plays it.

Run by tests/label/run.sh with the server's URL, a token per user and the two converted
manifests (OpenAssistant trees → ranking items, XQuAD → qa-pairs items):
  1. the manager creates both projects, adds the members and imports the items;
  2. two annotators work (rankings from the dataset's own human ranks, QA pairs from its
     reference questions with their answer spans), and a submit that misses a requirement
     gets 422 naming it;
  3. the reviewer sends one item of each project back with an anchored comment and
     accepts the rest;
  4. the same annotator gets that item back first, with the comment, and fixes it;
  5. the requester accepts every batch;
  6. the preference export with all-pairs has N(N-1)/2 pairs per prompt and dimension,
     chosen and rejected as ranked;
  7. the sft export holds every accepted QA pair.
Every role check it meets on the way is asserted too. Standard library only
(Debian's /usr/bin/python3).
"""

import json
import sys
import urllib.error
import urllib.request

URL, TOKENS, PREFS_MANIFEST, QA_MANIFEST = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]


def call(user, method, path, body=None, raw=None, expect=200):
    data = raw.encode() if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(URL + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKENS[user])
    if data is not None:
        req.add_header("Content-Type", "application/x-ndjson" if raw is not None else "application/json")
    try:
        with urllib.request.urlopen(req) as r:
            status, headers, text = r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        status, headers, text = e.code, dict(e.headers), e.read().decode()
    assert status == expect, f"{user} {method} {path}: {status} (expected {expect}): {text[:400]}"
    if headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(text), headers
    return text, headers


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# 1. The manager creates the projects and imports the data.
prefs, _ = call("mia", "POST", "/api/label/projects", {
    "name": "oasst-prefs", "kind": "ranking",
    "config": {"instructions": "Rank the replies from most to least helpful.",
               "overlap": 1, "max_rework_rounds": 2, "batch_size": 6, "hourly_rate": "24.00",
               "requirements": {"dimensions": ["helpfulness"]}}}, expect=201)
qa, _ = call("mia", "POST", "/api/label/projects", {
    "name": "xquad-qa", "kind": "qa-pairs",
    "config": {"instructions": "Write question/answer pairs; highlight the evidence.",
               "question_types": ["factual", "reasoning"], "batch_size": 20,
               "requirements": {"min_pairs": 2, "question_type_min_share": {"reasoning": 0.3}}}},
    expect=201)
assert "manager" in prefs["roles"], prefs
for p in (prefs, qa):
    for user, role in (("ann", "annotator"), ("bob", "annotator"), ("rita", "reviewer"), ("rex", "requester")):
        call("mia", "POST", f"/api/label/projects/{p['id']}/members", {"user": user, "role": role}, expect=201)
imported, _ = call("mia", "POST", f"/api/label/projects/{prefs['id']}/items", raw=read(PREFS_MANIFEST), expect=201)
n_prefs = imported["items"]
assert n_prefs == len(read(PREFS_MANIFEST).splitlines()) and imported["batches"] == -(-n_prefs // 6), imported
imported, _ = call("mia", "POST", f"/api/label/projects/{qa['id']}/items", raw=read(QA_MANIFEST), expect=201)
n_qa = imported["items"]
# Role checks on the way: annotators do not import, strangers see nothing.
call("ann", "POST", f"/api/label/projects/{qa['id']}/items", raw=read(QA_MANIFEST), expect=403)
call("sam", "GET", f"/api/label/projects/{qa['id']}", expect=403)
call("rex", "POST", f"/api/label/projects/{qa['id']}/next", expect=403)


def ranking_payload(item):
    ranks = item["human_ranks"]
    order = sorted((r["id"] for r in item["responses"]), key=lambda i: ranks[i])
    return {"rankings": [{"dimension": "helpfulness", "order": order}]}


def qa_payload(item, pairs=3):
    out = []
    for k, ref in enumerate(item["reference_qas"][:pairs]):
        ans = ref["answers"][0]
        out.append({"id": f"p{k}", "question": ref["question"], "answer": ans["text"],
                    "question_type": "reasoning" if k % 2 == 0 else "factual",
                    "refs_entire_passage": False,
                    "spans": [{"start": ans["answer_start"], "end": ans["answer_start"] + len(ans["text"])}]})
    return {"qa_pairs": out}


# 2. Two annotators work, taking turns.
submitted = {}  # (project, item id) -> (annotator, payload)
for p, make in ((prefs, ranking_payload), (qa, qa_payload)):
    first_bad = True
    users = ["ann", "bob"]
    done = set()
    turn = 0
    while len(done) < 2:
        user = users[turn % 2]
        turn += 1
        if user in done:
            continue
        r, _ = call(user, "POST", f"/api/label/projects/{p['id']}/next")
        a = r["assignment"]
        if a is None:
            done.add(user)
            continue
        assert a["state"] == "reserved" and a["comments"] == [], a
        payload = make(a["item"])
        if first_bad:  # a submit that misses a requirement is refused and names it
            bad = json.loads(json.dumps(payload))
            if p is prefs:
                bad["rankings"][0]["order"] = bad["rankings"][0]["order"][:-1]
                want = "all_ranked"
            else:
                bad["qa_pairs"] = bad["qa_pairs"][:1]
                want = "min_pairs"
            err, _ = call(user, "POST", f"/api/label/assignments/{a['id']}/submit", {"payload": bad}, expect=422)
            assert want in [f["requirement"] for f in err["failures"]], err
            first_bad = False
        call(user, "PUT", f"/api/label/assignments/{a['id']}", {"payload": payload, "active_seconds": 20})
        r, _ = call(user, "POST", f"/api/label/assignments/{a['id']}/submit", {"payload": payload, "active_seconds": 40})
        assert r["review"] == "pending", r
        submitted[(p["id"], a["item_id"])] = (user, payload, a["id"])
n_workers = {u for (u, _, _) in submitted.values()}
assert n_workers == {"ann", "bob"}, n_workers
assert len([k for k in submitted if k[0] == prefs["id"]]) == n_prefs
assert len([k for k in submitted if k[0] == qa["id"]]) == n_qa

# 3. The reviewer sends one item of each project back and accepts the rest.
sent_back = {}
for p in (prefs, qa):
    call("ann", "POST", f"/api/label/projects/{p['id']}/reviews/next", expect=403)
    while True:
        r, _ = call("rita", "POST", f"/api/label/projects/{p['id']}/reviews/next")
        t = r["review"]
        if t is None:
            break
        assert all(c["passed"] for c in t["checklist"]), t["checklist"]
        if p["id"] not in sent_back and t["worker"] == "ann":
            anchor = "dimension:helpfulness" if p is prefs else "pair:p0"
            call("rita", "POST", f"/api/label/annotations/{t['annotation_id']}/review",
                 {"verdict": "rework", "comments": [{"anchor": anchor, "text": "check this again"}]})
            sent_back[p["id"]] = t
        else:
            call("rita", "POST", f"/api/label/annotations/{t['annotation_id']}/review", {"verdict": "accept"})
    assert p["id"] in sent_back, "nothing of ann's to send back"

# 4. The same annotator gets it back first, with the comment, and fixes it.
for p in (prefs, qa):
    t = sent_back[p["id"]]
    r, _ = call("bob", "POST", f"/api/label/projects/{p['id']}/next")
    assert r["assignment"] is None, r  # not bob's
    r, _ = call("ann", "POST", f"/api/label/projects/{p['id']}/next")
    a = r["assignment"]
    assert a["id"] == t["assignment_id"] and a["state"] == "rework" and a["round"] == 1, a
    assert a["comments"][0]["text"] == "check this again" and a["comments"][0]["author"] == "rita", a
    payload = t["payload"]
    if p is qa:  # the fix: one more pair
        payload = qa_payload(a["item"], pairs=4)
    submitted[(p["id"], a["item_id"])] = ("ann", payload, a["id"])
    r, _ = call("ann", "POST", f"/api/label/assignments/{a['id']}/submit", {"payload": payload, "active_seconds": 15})
    r, _ = call("rita", "POST", f"/api/label/projects/{p['id']}/reviews/next")
    assert r["review"]["round"] == 1 and r["review"]["assignment_id"] == a["id"], r
    call("rita", "POST", f"/api/label/annotations/{r['review']['annotation_id']}/review", {"verdict": "accept"})

# 5. The requester accepts every batch (the annotators may not).
for p in (prefs, qa):
    r, _ = call("rex", "GET", f"/api/label/projects/{p['id']}/batches")
    assert r["batches"] and all(b["state"] == "ready-for-review" for b in r["batches"]), r
    call("ann", "POST", f"/api/label/batches/{r['batches'][0]['id']}/accept", expect=403)
    for b in r["batches"]:
        call("rex", "POST", f"/api/label/batches/{b['id']}/accept")

# 6. Preference, all-pairs: N(N-1)/2 pairs per ranked prompt and dimension, as ranked.
text, headers = call("rex", "GET", f"/api/label/projects/{prefs['id']}/export?format=preference&pairs=all-pairs")
lines = [json.loads(l) for l in text.splitlines()]
assert len(headers["X-Sagebox-Export-Sha256"]) == 64
by_prompt = {}
for l in lines:
    by_prompt.setdefault((l["prompt"], l["dimension"]), []).append(l)
ranked = {}
for (pid, _), (_, payload, _) in submitted.items():
    if pid == prefs["id"]:
        ranked[payload["rankings"][0]["order"][0]] = payload
texts = {}
for line in read(PREFS_MANIFEST).splitlines():
    item = json.loads(line)
    order = ranking_payload(item)["rankings"][0]["order"]
    text_of = {r["id"]: r["text"] for r in item["responses"]}
    n = len(order)
    got = by_prompt.get((item["prompt"], "helpfulness"), [])
    assert len(got) == n * (n - 1) // 2, (item["prompt"], n, len(got))
    pos = {text_of[i]: k for k, i in enumerate(order)}
    for g in got:
        assert pos[g["chosen"]] < pos[g["rejected"]], g
assert len(by_prompt) == n_prefs
metrics, _ = call("mia", "GET", f"/api/label/projects/{prefs['id']}/metrics")
call("ann", "GET", f"/api/label/projects/{prefs['id']}/metrics", expect=403)
assert metrics["accepted"] == n_prefs and metrics["rework_rounds"]["max"] == 1, metrics
assert 0 < metrics["first_review_acceptance"] < 1, metrics

# 7. SFT holds the accepted QA pairs.
text, _ = call("rex", "GET", f"/api/label/projects/{qa['id']}/export?format=sft&style=openai")
lines = [json.loads(l) for l in text.splitlines()]
want = sorted(pair["question"] for (pid, _), (_, payload, _) in submitted.items() if pid == qa["id"]
              for pair in payload["qa_pairs"])
got = sorted(l["messages"][-2]["content"].split("Question: ")[-1] for l in lines)
assert got == want, (len(got), len(want))
assert all(l["messages"][-1]["role"] == "assistant" for l in lines)
r, _ = call("rex", "GET", f"/api/label/projects/{qa['id']}/batches")
assert all(b["state"] == "delivered" for b in r["batches"]), r
print(f"label loop: {n_prefs} ranking items, {n_qa} qa items, {len(want)} QA pairs, "
      f"{sum(len(v) for v in by_prompt.values())} preference pairs")
