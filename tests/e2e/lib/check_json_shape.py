#!/usr/bin/env python3
"""check_json_shape.py GROUPS ORACLE.csv < query.json

Checks `sagebox cost query --format json` against the shape of Cost Explorer's
GetCostAndUsage response, and its amounts against the DuckDB oracle:
  ResultsByTime[]: TimePeriod {Start, End} (YYYY-MM-DD), Groups[], Total {}, Estimated
  Groups[]: Keys [GROUPS strings], Metrics {<Metric>: {Amount: decimal string, Unit}}
  GroupDefinitions [{Type, Key}] when grouped; Total holds the metrics when not grouped.
GROUPS is the number of --group-by flags (0, 1 or 2). The UnblendedCost amounts,
summed per period (and per first key when grouped by LINE_ITEM_TYPE), must equal
the oracle's. Prints "OK: ..." or the problems (exit 1).
"""
import csv
import json
import re
import sys
from decimal import Decimal

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AMOUNT = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$")
problems = []


def need(cond, what):
    if not cond:
        problems.append(what)
    return cond


def metrics_ok(m, where):
    if not need(isinstance(m, dict) and m, f"{where}: expected a non-empty object of metrics"):
        return {}
    out = {}
    for name, v in m.items():
        if not need(isinstance(v, dict) and set(v) == {"Amount", "Unit"},
                    f"{where}.{name}: expected exactly {{Amount, Unit}}, found {v}"):
            continue
        need(isinstance(v["Amount"], str) and AMOUNT.match(v["Amount"]),
             f"{where}.{name}.Amount: expected a decimal string, found {v['Amount']!r}")
        need(isinstance(v["Unit"], str) and v["Unit"], f"{where}.{name}.Unit: expected a string")
        if name in ("UnblendedCost", "AmortizedCost", "BlendedCost", "NetUnblendedCost"):
            need(v["Unit"] == "USD", f"{where}.{name}.Unit: expected USD, found {v['Unit']!r}")
        if isinstance(v["Amount"], str) and AMOUNT.match(v["Amount"]):
            out[name] = Decimal(v["Amount"])
    return out


def main():
    groups = int(sys.argv[1])
    doc = json.load(sys.stdin)
    need(isinstance(doc, dict), "the response is not a JSON object")
    rbt = doc.get("ResultsByTime")
    if not need(isinstance(rbt, list) and rbt, "ResultsByTime: expected a non-empty array"):
        return
    if groups:
        gd = doc.get("GroupDefinitions")
        need(isinstance(gd, list) and len(gd) == groups and
             all(isinstance(g, dict) and set(g) == {"Type", "Key"} for g in gd),
             f"GroupDefinitions: expected {groups} {{Type, Key}} objects, found {gd}")
    got = {}  # (start, key) -> unblended
    for i, r in enumerate(rbt):
        w = f"ResultsByTime[{i}]"
        tp = r.get("TimePeriod")
        if not need(isinstance(tp, dict) and set(tp) == {"Start", "End"},
                    f"{w}.TimePeriod: expected {{Start, End}}, found {tp}"):
            continue
        need(DATE.match(str(tp["Start"])) and DATE.match(str(tp["End"])) and tp["Start"] < tp["End"],
             f"{w}.TimePeriod: expected YYYY-MM-DD dates, Start < End: {tp}")
        need(isinstance(r.get("Estimated"), bool), f"{w}.Estimated: expected a boolean")
        need(isinstance(r.get("Groups"), list), f"{w}.Groups: expected an array")
        need(isinstance(r.get("Total"), dict), f"{w}.Total: expected an object")
        if groups == 0:
            need(r.get("Groups") == [], f"{w}.Groups: expected [] without --group-by")
            t = metrics_ok(r.get("Total"), f"{w}.Total")
            if "UnblendedCost" in t:
                got[(tp["Start"], "")] = t["UnblendedCost"]
            continue
        for j, g in enumerate(r.get("Groups") or []):
            gw = f"{w}.Groups[{j}]"
            if not need(isinstance(g, dict) and set(g) == {"Keys", "Metrics"},
                        f"{gw}: expected {{Keys, Metrics}}, found {sorted(g) if isinstance(g, dict) else g}"):
                continue
            keys = g["Keys"]
            need(isinstance(keys, list) and len(keys) == groups and all(isinstance(k, str) for k in keys),
                 f"{gw}.Keys: expected {groups} strings, found {keys}")
            m = metrics_ok(g["Metrics"], f"{gw}.Metrics")
            if "UnblendedCost" in m and keys:
                k = (tp["Start"], keys[0])
                got[k] = got.get(k, Decimal(0)) + m["UnblendedCost"]
    want = {}
    with open(sys.argv[2], newline="") as f:
        for row in csv.DictReader(f):
            k = (row["Start"], row["LINE_ITEM_TYPE"] if groups else "")
            want[k] = want.get(k, Decimal(0)) + Decimal(row["UnblendedCost"])
    got = {k: v for k, v in got.items() if v != 0 or k in want}
    need(got == want, f"UnblendedCost amounts differ from the oracle: query {sorted(got.items())}, "
                      f"oracle {sorted(want.items())}")
    if not problems:
        print(f"OK: {len(rbt)} periods, {len(got)} amounts equal the oracle")


main()
if problems:
    for p in problems[:40]:
        print(p)
    sys.exit(1)
