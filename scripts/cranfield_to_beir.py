#!/usr/bin/python3
"""Convert the Cranfield 1400 collection (SMART format) into BEIR files.

Usage: /usr/bin/python3 scripts/cranfield_to_beir.py SRC_DIR OUT_DIR [--minus-one-gain G]

SRC_DIR holds cran.all.1400, cran.qry and cranqrel (the Glasgow IR group's
distribution, http://ir.dcs.gla.ac.uk/resources/test_collections/cran/).
OUT_DIR receives corpus.jsonl ({"_id","title","text"}), queries.jsonl
({"_id","text","metadata"}) and qrels.tsv ("query-id corpus-id score" with a
header line), the layout BEIR's GenericDataLoader reads.

Three facts of the collection decide the conversion:

* Query ids. cran.qry numbers its 225 queries with .I values that are not
  1..225 (001, 002, 004, 008, ...), while cranqrel numbers queries by their
  position in cran.qry (1..225). The BEIR query _id is therefore the position;
  the original .I is kept as metadata.cran_qry_id. (ir_datasets strips the
  zeros of .I instead, which pairs queries after the second with the wrong
  judgments.)
* Grades. cranqrel's third column is Cleverdon's scale, where lower is more
  relevant: 1 = complete answer, 2 = high relevance, 3 = useful background,
  4 = minimum interest (5 = no interest never appears). Source: the note
  accompanying the qrels in the Glasgow/Virginia Disc distribution
  (http://fox.cs.vt.edu/VAD1/DOWN/IRCOLLS/CRANQREL.TXT). BEIR and trec_eval
  use the qrels value itself as the nDCG gain, higher = better, so the gain
  is 5 - grade: 1->4, 2->3, 3->2, 4->1.
* Grade -1. Every query has exactly one -1 judgment; the collection's readme
  leaves it unexplained. By inspection it is the paper the question was
  written from (query 1 "similarity laws ... aeroelastic models of heated
  high speed aircraft" -> document 486 "similarity laws for aerothermoelastic
  testing"). The judgments are not documented as relevance, so they are left
  out by default (as MeTA's Cranfield release does); --minus-one-gain G keeps
  them with gain G. (QRelsCorrectedforTRECeval, the other qrels file in the
  shared folder, maps them to 5, above "complete answer".)

Text is kept as the collection has it (lower case, " ." before full stops);
lines of a field are joined with single spaces. Standard library only.
"""

import argparse
import json
import os
import sys


def fail(path, line, what):
    sys.exit(f"{path}:{line}: {what}")


def read_smart(path, fields):
    """Yields (id, line_number, {field: text}) for each .I record of a SMART file.

    `fields` maps a marker (".T") to a field name; any other dot-marker is an error.
    """
    record = None
    field = None
    with open(path, encoding="ascii") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith(".I"):
                if record is not None:
                    yield record
                parts = line.split()
                if len(parts) != 2 or not parts[1].isdigit():
                    fail(path, number, f"expected '.I <number>', got {line!r}")
                record = (parts[1], number, {name: [] for name in fields.values()})
                field = None
                continue
            if record is None:
                fail(path, number, "expected '.I <number>' before any text")
            marker = line.strip()
            if marker.startswith(".") and len(marker) == 2 and marker[1].isalpha():
                if marker not in fields:
                    fail(path, number, f"unknown field marker {marker!r}")
                field = fields[marker]
                continue
            if field is None:
                fail(path, number, "expected a field marker after '.I'")
            record[2][field].append(line.strip())
    if record is not None:
        yield record


def join(lines):
    return " ".join(line for line in lines if line).strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src")
    parser.add_argument("out")
    parser.add_argument("--minus-one-gain", type=int, default=None,
                        help="keep grade -1 judgments with this gain (default: drop them)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    docs_path = os.path.join(args.src, "cran.all.1400")
    doc_ids = []
    with open(os.path.join(args.out, "corpus.jsonl"), "w", encoding="utf-8") as out:
        for doc_id, number, f in read_smart(
                docs_path, {".T": "title", ".A": "author", ".B": "bib", ".W": "text"}):
            if doc_id in doc_ids:
                fail(docs_path, number, f"duplicate document .I {doc_id}")
            doc_ids.append(doc_id)
            rec = {"_id": doc_id, "title": join(f["title"]), "text": join(f["text"])}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    known_docs = set(doc_ids)

    qry_path = os.path.join(args.src, "cran.qry")
    query_count = 0
    with open(os.path.join(args.out, "queries.jsonl"), "w", encoding="utf-8") as out:
        for position, (qry_id, number, f) in enumerate(read_smart(qry_path, {".W": "text"}), 1):
            text = join(f["text"])
            if not text:
                fail(qry_path, number, f"query .I {qry_id} has no text")
            rec = {"_id": str(position), "text": text, "metadata": {"cran_qry_id": qry_id}}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            query_count = position

    qrel_path = os.path.join(args.src, "cranqrel")
    kept = dropped = 0
    seen = {}
    with open(qrel_path, encoding="ascii") as f, \
            open(os.path.join(args.out, "qrels.tsv"), "w", encoding="utf-8") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for number, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 3:
                fail(qrel_path, number, f"expected 'query doc grade', got {line.strip()!r}")
            try:
                qid, did, grade = int(parts[0]), parts[1], int(parts[2])
            except ValueError:
                fail(qrel_path, number, f"expected integers, got {line.strip()!r}")
            if not 1 <= qid <= query_count:
                fail(qrel_path, number, f"query {qid} is not in 1..{query_count}")
            if did not in known_docs:
                fail(qrel_path, number, f"document {did} is not in {docs_path}")
            if (qid, did) in seen:
                fail(qrel_path, number, f"query {qid} document {did} already judged "
                                        f"on line {seen[(qid, did)]}")
            seen[(qid, did)] = number
            if grade == -1:
                if args.minus_one_gain is None:
                    dropped += 1
                    continue
                gain = args.minus_one_gain
            elif 1 <= grade <= 4:
                gain = 5 - grade
            else:
                fail(qrel_path, number, f"grade {grade} is not -1 or 1..4")
            out.write(f"{qid}\t{did}\t{gain}\n")
            kept += 1
    print(f"{len(doc_ids)} documents, {query_count} queries, {kept} judgments "
          f"({dropped} grade -1 dropped)")


if __name__ == "__main__":
    main()
