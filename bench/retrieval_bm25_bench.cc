// retrieval_bm25_bench: sagebox's BM25 (LexicalIndex on Xapian) beside SQLite
// FTS5's bm25() on the same BEIR collection, in one run: quality (nDCG@10,
// Recall@100, MRR@10 through retrieval/eval_metrics) and speed (index build
// time, on-disk size, query latency p50/p99 at k = 100).
//
//   build/release/retrieval_bm25_bench BEIR_DIR [--passes N]
//
// BEIR_DIR holds corpus.jsonl, queries.jsonl and qrels.tsv (e.g. the
// Cranfield copy in tests/data/retrieval/cranfield/beir). Both indexes are
// built on disk in a fresh temporary folder, each document as one record of
// title + text. Tokenisation is as close as FTS5 allows: FTS5 uses
// `tokenize='porter unicode61'` (Porter's 1980 stemmer over unicode61's
// alphanumeric tokens), Xapian its own word splitting and Snowball's English
// (Porter2) stemmer. FTS5 queries are the query's alphanumeric tokens, each
// quoted (so no token is FTS5 syntax) and joined with OR; FTS5's bm25() uses
// k1 = 1.2, b = 0.75 (sqlite.org/fts5.html, "The bm25() function") and, like
// LexicalIndex, scores title and text as one field. Latencies: one untimed
// warm-up pass over all queries, then N timed passes (default 5).
#include <sqlite3.h>
#include <stdlib.h>
#include <xapian.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/env.h"
#include "retrieval/eval_metrics.h"
#include "retrieval/index/lexical_index.h"

namespace {

using sagebox::Env;
using sagebox::retrieval::EvalQuery;
using sagebox::retrieval::EvalSummary;
using sagebox::retrieval::LexicalIndex;
using sagebox::retrieval::LexicalRecord;
using sagebox::retrieval::Qrels;
using sagebox::retrieval::Runs;
using Clock = std::chrono::steady_clock;

struct Doc {
  std::string id, title, text;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "retrieval_bm25_bench: %s\n", what.c_str());
  std::exit(1);
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  // Nearest rank (ceil(p * n)), the definition hyperfine and most reports use.
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size(), std::max<size_t>(rank, 1)) - 1];
}

uint64_t DirBytes(const std::string& path) {
  uint64_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

// unicode61's token characters for ASCII text: letters and digits; bytes
// >= 0x80 are kept inside tokens.
std::string Fts5Query(const std::string& text) {
  std::string out, tok;
  auto flush = [&] {
    if (tok.empty()) return;
    if (!out.empty()) out += " OR ";
    out += "\"" + tok + "\"";
    tok.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c >= 0x80) {
      tok += static_cast<char>(c);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

struct Result {
  double build_s = 0;
  uint64_t bytes = 0;
  std::vector<double> latencies_ms;
  EvalSummary quality;
};

void Print(const char* name, const Result& r, size_t docs) {
  std::printf("| %s | %.4f | %.4f | %.4f | %.3f | %.0f | %.2f | %.3f | %.3f |\n", name,
              r.quality.ndcg, r.quality.recall, r.quality.mrr, r.build_s,
              static_cast<double>(docs) / r.build_s, static_cast<double>(r.bytes) / 1e6,
              Percentile(r.latencies_ms, 0.5), Percentile(r.latencies_ms, 0.99));
}

Result RunXapian(const std::string& dir, const std::vector<Doc>& docs,
                 const std::vector<EvalQuery>& queries, const Qrels& qrels, int passes) {
  Result r;
  auto t0 = Clock::now();
  auto idx = LexicalIndex::Open(dir, LexicalIndex::Mode::kCreate);
  if (!idx.ok()) Die(idx.status().ToString());
  for (const Doc& d : docs) {
    sagebox::Status st = (*idx)->ReplaceDocument(d.id, {LexicalRecord{d.id, d.title, d.text, {}}});
    if (!st.ok()) Die(st.ToString());
  }
  if (sagebox::Status st = (*idx)->Commit(); !st.ok()) Die(st.ToString());
  r.build_s = Seconds(t0, Clock::now());
  r.bytes = DirBytes(dir);
  Runs runs;
  for (int pass = 0; pass <= passes; ++pass) {
    for (const EvalQuery& q : queries) {
      auto a = Clock::now();
      auto hits = (*idx)->Search(q.text, 100);
      auto b = Clock::now();
      if (!hits.ok()) Die(hits.status().ToString());
      if (pass > 0) r.latencies_ms.push_back(Seconds(a, b) * 1e3);
      if (pass == 0) {
        for (const auto& h : *hits) runs[q.id].push_back(h.id);
      }
    }
  }
  r.quality = sagebox::retrieval::Evaluate(qrels, runs);
  return r;
}

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string(sql) + ": " + (err != nullptr ? err : "?");
    sqlite3_free(err);
    Die(msg);
  }
}

Result RunFts5(const std::string& path, const std::vector<Doc>& docs,
               const std::vector<EvalQuery>& queries, const Qrels& qrels, int passes) {
  Result r;
  auto t0 = Clock::now();
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) Die("sqlite3_open " + path);
  Exec(db, "CREATE VIRTUAL TABLE docs USING fts5(title, text, tokenize='porter unicode61')");
  Exec(db, "BEGIN");
  sqlite3_stmt* ins = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO docs(rowid, title, text) VALUES(?, ?, ?)", -1, &ins,
                         nullptr) != SQLITE_OK) {
    Die(sqlite3_errmsg(db));
  }
  for (size_t i = 0; i < docs.size(); ++i) {
    sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(i));
    sqlite3_bind_text(ins, 2, docs[i].title.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, docs[i].text.c_str(), -1, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE) Die(sqlite3_errmsg(db));
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  Exec(db, "COMMIT");
  r.build_s = Seconds(t0, Clock::now());
  r.bytes = std::filesystem::file_size(path);

  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 100",
                         -1, &q, nullptr) != SQLITE_OK) {
    Die(sqlite3_errmsg(db));
  }
  Runs runs;
  for (int pass = 0; pass <= passes; ++pass) {
    for (const EvalQuery& query : queries) {
      const std::string match = Fts5Query(query.text);
      std::vector<std::string> ids;
      auto a = Clock::now();
      if (!match.empty()) {
        sqlite3_bind_text(q, 1, match.c_str(), -1, SQLITE_STATIC);
        int rc = 0;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
          ids.push_back(docs[static_cast<size_t>(sqlite3_column_int64(q, 0))].id);
        }
        if (rc != SQLITE_DONE) Die(std::string(sqlite3_errmsg(db)) + " for MATCH " + match);
        sqlite3_reset(q);
      }
      auto b = Clock::now();
      if (pass > 0) r.latencies_ms.push_back(Seconds(a, b) * 1e3);
      if (pass == 0) runs[query.id] = std::move(ids);
    }
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  r.quality = sagebox::retrieval::Evaluate(qrels, runs);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string beir;
  int passes = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--passes" && i + 1 < argc) {
      passes = std::max(1, std::atoi(argv[++i]));
    } else {
      beir = a;
    }
  }
  if (beir.empty()) Die("usage: retrieval_bm25_bench BEIR_DIR [--passes N]");
  Env* env = Env::Default();
  std::string corpus;
  if (auto st = env->ReadFileToString(beir + "/corpus.jsonl", &corpus); !st.ok()) {
    Die(st.ToString());
  }
  std::vector<Doc> docs;
  size_t pos = 0;
  size_t line = 0;
  while (pos < corpus.size()) {
    size_t end = corpus.find('\n', pos);
    if (end == std::string::npos) end = corpus.size();
    ++line;
    std::string_view text(corpus.data() + pos, end - pos);
    pos = end + 1;
    if (text.empty()) continue;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) Die(beir + "/corpus.jsonl:" + std::to_string(line));
    docs.push_back({j.value("_id", ""), j.value("title", ""), j.value("text", "")});
  }
  auto queries = sagebox::retrieval::ReadBeirQueries(env, beir + "/queries.jsonl");
  if (!queries.ok()) Die(queries.status().ToString());
  auto qrels = sagebox::retrieval::ReadQrels(env, beir + "/qrels.tsv");
  if (!qrels.ok()) Die(qrels.status().ToString());

  std::string tmpl = (std::filesystem::temp_directory_path() / "bm25_bench_XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp");
  Result x = RunXapian(tmpl + "/xapian", docs, *queries, *qrels, passes);
  Result f = RunFts5(tmpl + "/fts5.db", docs, *queries, *qrels, passes);
  std::filesystem::remove_all(tmpl);

  std::printf("%s: %zu documents, %zu queries (%d judged), %d timed passes, k = 100\n\n",
              beir.c_str(), docs.size(), queries->size(), x.quality.queries, passes);
  std::printf(
      "| engine | nDCG@10 | Recall@100 | MRR@10 | build s | docs/s | index MB | p50 ms "
      "| p99 ms |\n|---|---|---|---|---|---|---|---|---|\n");
  Print("sagebox LexicalIndex (Xapian 1.4 BM25)", x, docs.size());
  Print("SQLite FTS5 bm25()", f, docs.size());
  std::printf("\nXapian %s, SQLite %s\n", Xapian::version_string(), sqlite3_libversion());
  return 0;
}
