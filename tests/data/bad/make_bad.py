#!/usr/bin/env python3
"""Regenerates the bad-input corpus in this folder (run from anywhere).

Every file is derived from the real sample data in ../real/ (see
../real/PROVENANCE.md) with one defect, so a reader fails on exactly that
defect. The e2e cases in tests/e2e/cases/bad_* name the line and column
each defect sits at; keep them in step when changing this script.
"""
import gzip
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "real")
KEBOOLA1 = os.path.join(REAL, "keboola-cur-mock", "cur_1_0", "s3_structure", "mock-cur-bucket",
                        "20240101-20240131")


def legacy_lines():
    """Header + 3 rows of a legacy CUR CSV (the keboola mock, unzipped)."""
    import zipfile
    with zipfile.ZipFile(os.path.join(KEBOOLA1, "MockTestReport-00001.csv.zip")) as z:
        text = z.read(z.namelist()[0]).decode("utf-8")
    lines = text.splitlines()
    assert len(lines) == 4, lines
    return lines


def write(name, text, mode="w"):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def replace_field(line, index, value):
    fields = line.split(",")  # the mock rows have no quoted commas
    fields[index] = value
    return ",".join(fields)


def main():
    lines = legacy_lines()
    header = lines[0].split(",")
    col = {name: i for i, name in enumerate(header)}

    # Line 3 lacks its last field: 29 fields where the header has 30.
    ragged = list(lines)
    ragged[2] = ragged[2].rsplit(",", 1)[0]
    write("ragged.csv", "\n".join(ragged) + "\n")

    # Line 3 opens a quote in lineItem/LineItemDescription and never closes it.
    unterminated = list(lines)
    unterminated[2] = replace_field(unterminated[2], col["lineItem/LineItemDescription"],
                                    '"$0.0108 per On Demand Linux t3.micro Instance Hour')
    write("unterminated_quote.csv", "\n".join(unterminated) + "\n")

    # Line 4: lineItem/UnblendedCost is "0.02355O" (a letter O, not a zero).
    bad_number = list(lines)
    bad_number[3] = replace_field(bad_number[3], col["lineItem/UnblendedCost"], "0.02355O")
    write("bad_number.csv", "\n".join(bad_number) + "\n")

    # Line 3: lineItem/UsageStartDate is February 30th.
    bad_date = list(lines)
    bad_date[2] = replace_field(bad_date[2], col["lineItem/UsageStartDate"], "2024-02-30T01:00:00Z")
    write("bad_date.csv", "\n".join(bad_date) + "\n")

    # lineItem/UnblendedCost (a required column) is missing from the header and rows.
    drop = col["lineItem/UnblendedCost"]
    missing = [",".join(f for i, f in enumerate(l.split(",")) if i != drop) for l in lines]
    write("missing_column.csv", "\n".join(missing) + "\n")

    # The real legacy CUR, gzipped, cut in the middle of the compressed stream.
    with open(os.path.join(REAL, "focus-converters", "sample-anonymous-aws-export-dataset.csv"),
              "rb") as f:
        data = gzip.compress(f.read(), compresslevel=9, mtime=0)
    write("truncated.csv.gz", data[: len(data) // 2], mode="wb")

    # Zero bytes.
    write("empty.csv", "")

    # A well-formed CSV that is no billing export.
    write("unknown_format.csv",
          "name,team,city\nada,ml,London\ngrace,platform,Arlington\n")

    # A legacy delivery whose manifest names two files; only the first was synced.
    period = os.path.join("manifest_missing_files", "cur", "MockTestReport", "20240101-20240131")
    with open(os.path.join(KEBOOLA1, "MockTestReport-Manifest.json")) as f:
        manifest = json.load(f)
    assembly = manifest["assemblyId"]
    manifest["reportKeys"] = [
        f"cur/MockTestReport/20240101-20240131/{assembly}/MockTestReport-00001.csv.zip",
        f"cur/MockTestReport/20240101-20240131/{assembly}/MockTestReport-00002.csv.zip",
    ]
    shutil.rmtree(os.path.join(HERE, "manifest_missing_files"), ignore_errors=True)
    write(os.path.join(period, "MockTestReport-Manifest.json"), json.dumps(manifest, indent=2) + "\n")
    os.makedirs(os.path.join(HERE, period, assembly))
    shutil.copy(os.path.join(KEBOOLA1, "MockTestReport-00001.csv.zip"),
                os.path.join(HERE, period, assembly, "MockTestReport-00001.csv.zip"))


if __name__ == "__main__":
    main()
