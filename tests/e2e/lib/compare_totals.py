#!/usr/bin/env python3
"""compare_totals.py ACTUAL.csv EXPECTED.csv[*N]... [--where COL=V1,V2 | --where COL~sub]...

Compares `sagebox cost query --format csv` output (ACTUAL, "-" for stdin) with the
DuckDB oracle's totals (tests/e2e/oracle/expected/*.csv), as exact decimals.

- Key columns are the columns of ACTUAL that are not metrics (Start, End and the
  group-by dimensions); every EXPECTED file must have them. EXPECTED's other key
  columns are summed over (an oracle by SERVICE x USAGE_TYPE answers a query by
  SERVICE).
- --where keeps only the EXPECTED rows whose column COL equals one of the values
  (COL=V1,V2) or contains the substring, ignoring case (COL~sub), like
  `cost query --filter`; several --where must all hold.
- Several EXPECTED files are summed per key (one store holding several exports);
  "FILE*N" multiplies a file's values by N (N copies of the same rows).
- A metric that an EXPECTED file leaves empty (the oracle does not define it for
  that format, e.g. BlendedCost for FOCUS) is not compared for its keys.
- Both sides must have the same set of keys; every compared value must be equal.
- Every ACTUAL number must be written as an exact decimal without trailing zeros
  ("0", "1.25", "-0.0000000432"), as the CSV format promises.

Prints "OK: G groups, V values equal the oracle" or the differences (exit 1).
"""
import csv
import re
import sys
from decimal import Decimal

METRICS = {"UnblendedCost", "BlendedCost", "NetUnblendedCost", "AmortizedCost",
           "UsageQuantity", "NetAmortizedCost"}
EXACT = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$")


def read(path):
    f = sys.stdin if path == "-" else open(path, newline="", encoding="utf-8")
    with f:
        rows = list(csv.reader(f))
    if not rows:
        sys.exit(f"{path}: empty (expected a CSV header)")
    return rows[0], rows[1:]


def parse_where(expr):
    m = re.match(r"^([^=~]+)([=~])(.*)$", expr)
    if not m:
        sys.exit(f"--where {expr!r}: expected COL=V1,V2 or COL~substring")
    col, op, val = m.groups()
    if op == "=":
        values = set(val.split(","))
        return col, lambda v: v in values
    return col, lambda v: val.lower() in v.lower()


def main():
    args, wheres = [], []
    it = iter(sys.argv[1:])
    for a in it:
        if a == "--where":
            wheres.append(parse_where(next(it, "")))
        else:
            args.append(a)
    if len(args) < 2:
        sys.exit(__doc__)
    problems = []
    header, rows = read(args[0])
    keys = [c for c in header if c not in METRICS]
    metrics = [c for c in header if c in METRICS]
    if not metrics:
        sys.exit(f"{args[0]}: no metric columns in header {header}")
    if header[:2] != ["Start", "End"] or header != keys + metrics:
        problems.append(f"actual header {header}: expected Start,End, the group-by columns, "
                        "then the metrics")
    actual = {}
    for n, row in enumerate(rows, start=2):
        if len(row) != len(header):
            problems.append(f"actual line {n}: {len(row)} fields, header has {len(header)}")
            continue
        rec = dict(zip(header, row))
        key = tuple(rec[k] for k in keys)
        if key in actual:
            problems.append(f"actual line {n}: duplicate group {key}")
        vals = {}
        for m in metrics:
            v = rec[m]
            if not EXACT.match(v):
                problems.append(f"actual line {n}: {m} = {v!r} is not an exact decimal without "
                                "trailing zeros")
                continue
            vals[m] = Decimal(v)
        actual[key] = vals

    expected = {}  # key -> {metric: Decimal or None (undefined)}
    for spec in args[1:]:
        path, _, times = spec.partition("*")
        factor = Decimal(times) if times else Decimal(1)
        eh, erows = read(path)
        missing = [k for k in keys if k not in eh] + [c for c, _ in wheres if c not in eh]
        if missing:
            sys.exit(f"{path}: has no column(s) {missing} (columns: {eh})")
        for row in erows:
            rec = dict(zip(eh, row))
            if not all(ok(rec[c]) for c, ok in wheres):
                continue
            key = tuple(rec[k] for k in keys)
            acc = expected.setdefault(key, {m: Decimal(0) for m in metrics})
            for m in metrics:
                v = rec.get(m, "")
                if v == "" or acc[m] is None:
                    acc[m] = None
                else:
                    acc[m] += Decimal(v) * factor

    for key in sorted(set(expected) - set(actual)):
        problems.append(f"group {key} is in the oracle but not in the query output "
                        f"(oracle: {fmt(expected[key])})")
    for key in sorted(set(actual) - set(expected)):
        problems.append(f"group {key} is in the query output but not in the oracle "
                        f"(query: {fmt(actual[key])})")
    compared = 0
    for key in sorted(set(actual) & set(expected)):
        for m in metrics:
            want = expected[key][m]
            if want is None or m not in actual[key]:
                continue
            compared += 1
            if actual[key][m] != want:
                problems.append(f"group {key} {m}: query {actual[key][m]}, oracle {want.normalize():f}"
                                f" (difference {actual[key][m] - want:f})")
    if problems:
        print(f"{len(problems)} difference(s) from the oracle:")
        for p in problems[:50]:
            print("  " + p)
        sys.exit(1)
    if not actual:
        print("the query output has no groups; the oracle neither")
        sys.exit(1)
    print(f"OK: {len(actual)} groups, {compared} values equal the oracle")


def fmt(vals):
    return ", ".join(f"{m}={'-' if v is None else v}" for m, v in vals.items())


if __name__ == "__main__":
    main()
