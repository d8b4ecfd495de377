// eval_metrics.h: retrieval evaluation as BEIR does it. Readers for BEIR's
// queries.jsonl and qrels TSV, and nDCG@k, Recall@k and MRR@k over ranked
// runs, averaged over the queries that have relevant judgments.
//
// Definitions follow BEIR (beir/retrieval/evaluation.py), which computes nDCG
// and recall through pytrec_eval, i.e. trec_eval 9.x (m_ndcg_cut.c,
// m_recall.c), and MRR@k itself:
//   * a document is relevant when its qrels score is > 0;
//   * nDCG@k = DCG@k / IDCG@k, DCG@k = sum over ranks i = 1..k of
//     gain_i / log2(i + 1), with gain = the qrels score itself (linear gains,
//     not 2^rel - 1); IDCG@k is the DCG@k of all judged documents sorted by
//     score, whether retrieved or not;
//   * Recall@k = relevant documents in the top k / all relevant documents;
//   * MRR@k = 1 / rank of the first relevant document in the top k, else 0.
// One difference from pytrec_eval: a judged query with no run counts as 0
// (pytrec_eval silently skips it), so a retriever cannot gain by failing.
//
// Thread-safety: plain functions over values; safe to call concurrently.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::retrieval {

// One line of BEIR's queries.jsonl.
struct EvalQuery {
  std::string id;
  std::string text;
};

// query id -> document id -> qrels score (the graded gain; <= 0 is not relevant).
using Qrels = std::map<std::string, std::map<std::string, int>>;

// query id -> document ids, best first.
using Runs = std::map<std::string, std::vector<std::string>>;

// Parses queries.jsonl: one JSON object per line with "_id" (string or
// integer) and "text" (string); other members are ignored, blank lines
// skipped. BadInput naming `name`:line for malformed JSON, a missing or
// mistyped member, or an _id seen before. Order of the file is kept.
StatusOr<std::vector<EvalQuery>> ParseBeirQueries(std::string_view content, std::string_view name);
// Reads `path` through `env` and parses it; the Env's error if it cannot be read.
StatusOr<std::vector<EvalQuery>> ReadBeirQueries(Env* env, const std::string& path);

// Parses a qrels file: "query-id corpus-id score" per line (tab- or
// space-separated; BEIR's TSV), or TREC's "query-id iteration corpus-id
// score". A first line whose score column is not an integer is a header and
// skipped. BadInput naming `name`:line for a wrong column count, a score that
// is not an integer, or a (query, document) pair judged twice.
StatusOr<Qrels> ParseQrels(std::string_view content, std::string_view name);
// Reads `path` through `env` and parses it; the Env's error if it cannot be read.
StatusOr<Qrels> ReadQrels(Env* env, const std::string& path);

// Per-query measures. `ranked` is the run, best first (duplicates after the
// first occurrence are ignored, as trec_eval keeps one score per document);
// `judged` is the query's qrels. A query with no relevant document scores 0.
double NdcgAtK(const std::vector<std::string>& ranked, const std::map<std::string, int>& judged,
               int k);
double RecallAtK(const std::vector<std::string>& ranked, const std::map<std::string, int>& judged,
                 int k);
double ReciprocalRankAtK(const std::vector<std::string>& ranked,
                         const std::map<std::string, int>& judged, int k);

struct EvalCutoffs {
  int ndcg = 10;
  int recall = 100;
  int mrr = 10;
};

struct EvalSummary {
  double ndcg = 0;    // mean nDCG@cutoffs.ndcg
  double recall = 0;  // mean Recall@cutoffs.recall
  double mrr = 0;     // mean MRR@cutoffs.mrr
  int queries = 0;    // queries averaged: those with at least one relevant judgment
};

// Averages the three measures over every query of `qrels` that has a
// relevant judgment; a query missing from `runs` scores 0. Runs for queries
// without judgments are ignored. An empty average (no judged query) is 0.
EvalSummary Evaluate(const Qrels& qrels, const Runs& runs, EvalCutoffs cutoffs = {});

}  // namespace sagebox::retrieval
