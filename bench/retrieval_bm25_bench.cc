// retrieval_bm25_bench: sagebox's BM25 (LexicalIndex on Xapian) beside SQLite
// FTS5's bm25() on the same records and the same queries, in one run. Two modes:
//
//   build/release/retrieval_bm25_bench BEIR_DIR [--passes N]
//   build/release/retrieval_bm25_bench --html DIR --sizes 10000,1000000
//       --queries NAME=queries.jsonl[,NAME=...] [--passes N] [--warmup W] [--k 10]
//       [--seed 1]
//   build/release/retrieval_bm25_bench --print-parsed FILE
//
// BEIR mode (quality and speed on a judged collection): BEIR_DIR holds
// corpus.jsonl, queries.jsonl and qrels.tsv (e.g. the Cranfield copy in
// tests/data/retrieval/cranfield/beir); each document is one record of
// title + text; quality is nDCG@10, Recall@100, MRR@10 (retrieval/eval_metrics)
// at k = 100.
//
// Scale mode (issue 14's speed at 10^4 and 10^6 chunks): the *.html files under
// DIR (e.g. Debian's python3.11-doc) are parsed as `sagebox rag ingest` parses
// them (retrieval/parse ParseFile) and cut by its default splitter
// (RecursiveCharacterTextSplitter 600/20); each chunk is one record (title =
// the page's title). A size up to the real chunk count takes whole pages in a
// seeded random order (the last one cut short); a larger size takes every real
// chunk once and then copies of them, round after round: copy r of a page is
// the document "KEY#r", each of its chunks with a suffix of kSuffixWords words
// drawn from the real chunks' word (whitespace token) frequencies, so copies
// differ in length and term counts but the vocabulary does not grow (see
// bench/RESULTS.md for how that biases the figures). Reported per size and
// engine: build time, wall and CPU (the in-memory records into a fresh on-disk index,
// including the final commit), MB/s of title + text bytes, chunks/s, index
// size, and query latency p50/p99 at top-k per query set, with the mean
// share of the top k both engines return.
//
// Like with like: both indexes are built from the same in-memory records in
// one process, on disk in a fresh temporary folder. sagebox: one
// LexicalIndex::ReplaceDocument per document key (as the knowledge base
// ingests a page) and one Commit; no metadata fields (FTS5 gets none either).
// FTS5: `fts5(title, text, tokenize='porter unicode61')` (Porter's 1980
// stemmer over unicode61's alphanumeric tokens; Xapian uses its own word
// splitting and Snowball's English, Porter2), all rows in one transaction.
// FTS5 queries are the query's alphanumeric tokens, each quoted (so no token
// is FTS5 syntax) and joined with OR; FTS5's bm25() uses k1 = 1.2, b = 0.75
// (sqlite.org/fts5.html, "The bm25() function") and, like LexicalIndex,
// scores title and text as one field. Latencies: one untimed warm-up pass
// over all queries (scale mode: W, default 1), then N timed passes (default 5).
//
// --print-parsed FILE prints the title and text ParseFile extracts from FILE
// (to check what the HTML parser keeps of a page).
#include <sqlite3.h>
#include <stdlib.h>
#include <xapian.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "retrieval/eval_metrics.h"
#include "retrieval/index/lexical_index.h"
#include "retrieval/parse/parse.h"
#include "retrieval/splitter.h"

namespace {

using sagebox::Env;
using sagebox::retrieval::EvalQuery;
using sagebox::retrieval::EvalSummary;
using sagebox::retrieval::LexicalIndex;
using sagebox::retrieval::LexicalRecord;
using sagebox::retrieval::Qrels;
using sagebox::retrieval::Runs;
using Clock = std::chrono::steady_clock;

// Words appended to each chunk of a synthetic copy (scale mode).
constexpr int kSuffixWords = 8;

// One record: a document (BEIR mode) or a chunk (scale mode). Records of the
// same key are consecutive and replaced together in the Xapian index.
struct Doc {
  std::string key, id, title, text;
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

// A built index answering top-k queries with record ids.
class Engine {
 public:
  Engine() = default;
  virtual ~Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  virtual std::vector<std::string> Search(const std::string& query, int k) = 0;
};

// This process's CPU time (user + system, all threads), in seconds: on a
// shared machine it moves less with other people's load than wall time does.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Built {
  std::unique_ptr<Engine> engine;
  double build_s = 0;
  double build_cpu_s = 0;
  uint64_t bytes = 0;  // on disk after the build
};

class XapianEngine final : public Engine {
 public:
  explicit XapianEngine(std::unique_ptr<LexicalIndex> idx) : idx_(std::move(idx)) {}
  std::vector<std::string> Search(const std::string& query, int k) override {
    auto hits = idx_->Search(query, k);
    if (!hits.ok()) Die(hits.status().ToString());
    std::vector<std::string> ids;
    ids.reserve(hits->size());
    for (const auto& h : *hits) ids.push_back(h.id);
    return ids;
  }

 private:
  std::unique_ptr<LexicalIndex> idx_;
};

Built BuildXapian(const std::string& dir, const std::vector<Doc>& docs) {
  Built b;
  const double c0 = CpuSeconds();
  auto t0 = Clock::now();
  auto idx = LexicalIndex::Open(dir, LexicalIndex::Mode::kCreate);
  if (!idx.ok()) Die(idx.status().ToString());
  std::vector<LexicalRecord> records;
  for (size_t i = 0; i < docs.size(); ++i) {
    records.push_back(LexicalRecord{docs[i].id, docs[i].title, docs[i].text, {}});
    if (i + 1 == docs.size() || docs[i + 1].key != docs[i].key) {
      sagebox::Status st = (*idx)->ReplaceDocument(docs[i].key, records);
      if (!st.ok()) Die(st.ToString());
      records.clear();
    }
  }
  if (sagebox::Status st = (*idx)->Commit(); !st.ok()) Die(st.ToString());
  b.build_s = Seconds(t0, Clock::now());
  b.build_cpu_s = CpuSeconds() - c0;
  b.bytes = DirBytes(dir);
  b.engine = std::make_unique<XapianEngine>(std::move(*idx));
  return b;
}

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = std::string(sql) + ": " + (err != nullptr ? err : "?");
    sqlite3_free(err);
    Die(msg);
  }
}

class Fts5Engine final : public Engine {
 public:
  Fts5Engine(sqlite3* db, const std::vector<Doc>& docs) : db_(db), docs_(docs) {
    if (sqlite3_prepare_v2(db_,
                           "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) "
                           "LIMIT ?",
                           -1, &q_, nullptr) != SQLITE_OK) {
      Die(sqlite3_errmsg(db_));
    }
  }
  ~Fts5Engine() override {
    sqlite3_finalize(q_);
    sqlite3_close(db_);
  }
  Fts5Engine(const Fts5Engine&) = delete;
  Fts5Engine& operator=(const Fts5Engine&) = delete;

  std::vector<std::string> Search(const std::string& query, int k) override {
    // The query rewrite is part of FTS5's cost, as tokenising is Xapian's.
    const std::string match = Fts5Query(query);
    std::vector<std::string> ids;
    if (match.empty()) return ids;
    sqlite3_bind_text(q_, 1, match.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int(q_, 2, k);
    int rc = 0;
    while ((rc = sqlite3_step(q_)) == SQLITE_ROW) {
      ids.push_back(docs_[static_cast<size_t>(sqlite3_column_int64(q_, 0))].id);
    }
    if (rc != SQLITE_DONE) Die(std::string(sqlite3_errmsg(db_)) + " for MATCH " + match);
    sqlite3_reset(q_);
    return ids;
  }

 private:
  sqlite3* db_;
  const std::vector<Doc>& docs_;
  sqlite3_stmt* q_ = nullptr;
};

Built BuildFts5(const std::string& path, const std::vector<Doc>& docs) {
  Built b;
  const double c0 = CpuSeconds();
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
  b.build_s = Seconds(t0, Clock::now());
  b.build_cpu_s = CpuSeconds() - c0;
  b.bytes = std::filesystem::file_size(path);
  b.engine = std::make_unique<Fts5Engine>(db, docs);
  return b;
}

struct Timed {
  std::vector<double> latencies_ms;
  Runs runs;  // from the warm-up pass
};

// `warmup` untimed passes, then `passes` timed ones; the results of the first
// pass are kept.
Timed RunQueries(Engine& engine, const std::vector<EvalQuery>& queries, int k, int passes,
                 int warmup) {
  Timed t;
  for (int pass = 0; pass < warmup + passes; ++pass) {
    for (const EvalQuery& q : queries) {
      auto a = Clock::now();
      std::vector<std::string> ids = engine.Search(q.text, k);
      auto b = Clock::now();
      if (pass >= warmup) t.latencies_ms.push_back(Seconds(a, b) * 1e3);
      if (pass == 0) t.runs[q.id] = std::move(ids);
    }
  }
  return t;
}

// Mean over queries of |A ∩ B| / k: how much of the top k both engines return.
double Agreement(const Runs& a, const Runs& b, int k) {
  if (a.empty()) return 0;
  double sum = 0;
  for (const auto& [qid, ids] : a) {
    auto it = b.find(qid);
    if (it == b.end()) continue;
    std::set<std::string> other(it->second.begin(), it->second.end());
    size_t both = 0;
    for (const auto& id : ids) both += other.count(id);
    sum += static_cast<double>(both) / k;
  }
  return sum / static_cast<double>(a.size());
}

std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "bm25_bench_XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) Die("mkdtemp");
  return tmpl;
}

std::vector<size_t> ParseSizes(const std::string& text) {
  std::vector<size_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    char* end = nullptr;
    unsigned long long v = std::strtoull(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v == 0) {
      Die("--sizes: expected positive integers separated by commas, got '" + text + "'");
    }
    out.push_back(static_cast<size_t>(v));
    start = comma + 1;
  }
  return out;
}

int BeirMode(const std::string& beir, int passes) {
  Env* env = Env::Default();
  auto corpus = sagebox::retrieval::ReadBeirCorpus(env, beir + "/corpus.jsonl");
  if (!corpus.ok()) Die(corpus.status().ToString());
  std::vector<Doc> docs;
  for (auto& d : *corpus) {
    std::string id = d.metadata["beir_id"];
    docs.push_back({id, id, std::move(d.title), std::move(d.text)});
  }
  auto queries = sagebox::retrieval::ReadBeirQueries(env, beir + "/queries.jsonl");
  if (!queries.ok()) Die(queries.status().ToString());
  auto qrels = sagebox::retrieval::ReadQrels(env, beir + "/qrels.tsv");
  if (!qrels.ok()) Die(qrels.status().ToString());

  const std::string tmp = MakeTempDir();
  struct Row {
    const char* name;
    Built built;
    Timed timed;
    EvalSummary quality;
  };
  std::vector<Row> rows;
  rows.push_back(
      {"sagebox LexicalIndex (Xapian 1.4 BM25)", BuildXapian(tmp + "/xapian", docs), {}, {}});
  rows.push_back({"SQLite FTS5 bm25()", BuildFts5(tmp + "/fts5.db", docs), {}, {}});
  for (Row& r : rows) {
    r.timed = RunQueries(*r.built.engine, *queries, 100, passes, 1);
    r.quality = sagebox::retrieval::Evaluate(*qrels, r.timed.runs);
    r.built.engine.reset();
  }
  std::filesystem::remove_all(tmp);

  std::printf("%s: %zu documents, %zu queries (%d judged), %d timed passes, k = 100\n\n",
              beir.c_str(), docs.size(), queries->size(), rows[0].quality.queries, passes);
  std::printf(
      "| engine | nDCG@10 | Recall@100 | MRR@10 | build s | docs/s | index MB | p50 ms "
      "| p99 ms |\n|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    std::printf("| %s | %.4f | %.4f | %.4f | %.3f | %.0f | %.2f | %.3f | %.3f |\n", r.name,
                r.quality.ndcg, r.quality.recall, r.quality.mrr, r.built.build_s,
                static_cast<double>(docs.size()) / r.built.build_s,
                static_cast<double>(r.built.bytes) / 1e6, Percentile(r.timed.latencies_ms, 0.5),
                Percentile(r.timed.latencies_ms, 0.99));
  }
  std::printf("\nXapian %s, SQLite %s\n", Xapian::version_string(), sqlite3_libversion());
  return 0;
}

// The real chunks of the *.html files under `dir`, page by page in file order.
std::vector<std::vector<Doc>> RealChunks(const std::string& dir) {
  Env* env = Env::Default();
  auto files = sagebox::retrieval::CollectFiles(env, {dir});
  if (!files.ok()) Die(files.status().ToString());
  const auto splitter = sagebox::retrieval::ArticleIngestSplitter();
  std::vector<std::vector<Doc>> pages;
  for (const std::string& f : *files) {
    if (sagebox::retrieval::FormatFromExtension(f) != sagebox::retrieval::Format::kHtml) continue;
    auto parsed = sagebox::retrieval::ParseFile(env, f);
    if (!parsed.ok()) Die(parsed.status().ToString());
    for (const auto& d : *parsed) {
      auto chunks = splitter.SplitDocument(d);
      if (!chunks.ok()) Die(chunks.status().ToString());
      std::vector<Doc> page;
      for (size_t j = 0; j < chunks->size(); ++j) {
        page.push_back({d.id, d.id + "#" + std::to_string(j), d.title, (*chunks)[j].text});
      }
      if (!page.empty()) pages.push_back(std::move(page));
    }
  }
  return pages;
}

// `n` records from `pages` (see the header comment), pages in `order`.
std::vector<Doc> Corpus(const std::vector<std::vector<Doc>>& pages,
                        const std::vector<size_t>& order,
                        const std::vector<std::string_view>& words, size_t n, uint32_t seed) {
  std::vector<Doc> out;
  out.reserve(n);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
  for (size_t round = 0; out.size() < n; ++round) {
    for (size_t p : order) {
      for (const Doc& c : pages[p]) {
        if (out.size() == n) return out;
        if (round == 0) {
          out.push_back(c);
          continue;
        }
        const std::string r = "#" + std::to_string(round);
        Doc d{c.key + r, c.id + r, c.title, c.text};
        for (int w = 0; w < kSuffixWords; ++w) {
          d.text += ' ';
          d.text += words[pick(rng)];
        }
        out.push_back(std::move(d));
      }
    }
  }
  return out;
}

int ScaleMode(const std::string& html, const std::vector<size_t>& sizes,
              const std::vector<std::pair<std::string, std::vector<EvalQuery>>>& query_sets,
              int passes, int warmup, int k, uint32_t seed) {
  auto t0 = Clock::now();
  const std::vector<std::vector<Doc>> pages = RealChunks(html);
  size_t real = 0;
  uint64_t real_bytes = 0;
  // The unigram distribution: every whitespace token of every real chunk,
  // drawn uniformly.
  std::vector<std::string_view> words;
  for (const auto& page : pages) {
    for (const Doc& c : page) {
      ++real;
      real_bytes += c.text.size();
      size_t i = 0;
      const std::string& t = c.text;
      while (i < t.size()) {
        while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i])) != 0) ++i;
        size_t j = i;
        while (j < t.size() && std::isspace(static_cast<unsigned char>(t[j])) == 0) ++j;
        if (j > i) words.emplace_back(t.data() + i, j - i);
        i = j;
      }
    }
  }
  if (real == 0) Die(html + ": no chunks from *.html files");
  std::printf(
      "%s: %zu HTML pages -> %zu real chunks (%.1f MB of chunk text, %zu words) in %.1f s; "
      "splitter RecursiveCharacterTextSplitter 600/20; top-%d; %d warm-up and %d timed "
      "passes\n",
      html.c_str(), pages.size(), real, static_cast<double>(real_bytes) / 1e6, words.size(),
      Seconds(t0, Clock::now()), k, warmup, passes);
  for (const auto& [name, qs] : query_sets)
    std::printf("query set %s: %zu queries\n", name.c_str(), qs.size());
  std::printf("Xapian %s, SQLite %s\n\n", Xapian::version_string(), sqlite3_libversion());

  std::vector<size_t> order(pages.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 shuffle(seed);
  std::shuffle(order.begin(), order.end(), shuffle);

  std::string head =
      "| chunks | of them real | engine | build s | build CPU s | MB/s | chunks/s | index MB |";
  std::string rule = "|---:|---:|---|---:|---:|---:|---:|---:|";
  for (const auto& qs : query_sets) {
    head += " " + qs.first + " p50 ms | " + qs.first + " p99 ms |";
    rule += "---:|---:|";
  }
  std::printf("%s\n%s\n", head.c_str(), rule.c_str());
  std::vector<std::string> notes;
  for (size_t n : sizes) {
    std::vector<Doc> docs = Corpus(pages, order, words, n, seed);
    uint64_t bytes = 0;
    for (const Doc& d : docs) bytes += d.title.size() + d.text.size();
    const std::string tmp = MakeTempDir();
    std::vector<std::vector<Timed>> timed;
    for (int e = 0; e < 2; ++e) {
      const char* name = e == 0 ? "sagebox (Xapian)" : "SQLite FTS5";
      Built b = e == 0 ? BuildXapian(tmp + "/xapian", docs) : BuildFts5(tmp + "/fts5.db", docs);
      std::printf("| %zu | %zu | %s | %.2f | %.2f | %.2f | %.0f | %.1f |", docs.size(),
                  std::min(docs.size(), real), name, b.build_s, b.build_cpu_s,
                  static_cast<double>(bytes) / 1e6 / b.build_s,
                  static_cast<double>(docs.size()) / b.build_s, static_cast<double>(b.bytes) / 1e6);
      timed.emplace_back();
      for (const auto& qs : query_sets) {
        timed.back().push_back(RunQueries(*b.engine, qs.second, k, passes, warmup));
        std::printf(" %.3f | %.3f |", Percentile(timed.back().back().latencies_ms, 0.5),
                    Percentile(timed.back().back().latencies_ms, 0.99));
      }
      std::printf("\n");
      (void)std::fflush(stdout);
    }
    std::filesystem::remove_all(tmp);
    char head_buf[96];
    (void)std::snprintf(head_buf, sizeof head_buf,
                        "%zu chunks (%.1f MB title + text):", docs.size(),
                        static_cast<double>(bytes) / 1e6);
    std::string note = head_buf;
    for (size_t q = 0; q < query_sets.size(); ++q) {
      char buf[96];
      (void)std::snprintf(buf, sizeof buf, " %s top-%d agreement %.3f;",
                          query_sets[q].first.c_str(), k,
                          Agreement(timed[0][q].runs, timed[1][q].runs, k));
      note += buf;
    }
    notes.push_back(note);
  }
  std::printf("\n");
  for (const auto& n : notes) std::printf("%s\n", n.c_str());
  return 0;
}

int PrintParsed(const std::string& path) {
  auto docs = sagebox::retrieval::ParseFile(Env::Default(), path);
  if (!docs.ok()) Die(docs.status().ToString());
  for (const auto& d : *docs) {
    std::printf("title: %s\n---\n%s\n---\n", d.title.c_str(), d.text.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string beir, html, print;
  std::vector<size_t> sizes = {10000, 1000000};
  std::vector<std::pair<std::string, std::vector<EvalQuery>>> query_sets;
  int passes = 5;
  int warmup = 1;
  int k = 10;
  uint32_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--passes" && has_value) {
      passes = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--warmup" && has_value) {
      warmup = std::max(0, std::atoi(argv[++i]));
    } else if (a == "--k" && has_value) {
      k = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--seed" && has_value) {
      seed = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--html" && has_value) {
      html = argv[++i];
    } else if (a == "--sizes" && has_value) {
      sizes = ParseSizes(argv[++i]);
    } else if (a == "--print-parsed" && has_value) {
      print = argv[++i];
    } else if (a == "--queries" && has_value) {
      std::string list = argv[++i];
      size_t start = 0;
      while (start < list.size()) {
        size_t comma = std::min(list.find(',', start), list.size());
        std::string item = list.substr(start, comma - start);
        size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0) Die("--queries: expected NAME=FILE, got " + item);
        auto qs = sagebox::retrieval::ReadBeirQueries(Env::Default(), item.substr(eq + 1));
        if (!qs.ok()) Die(qs.status().ToString());
        query_sets.emplace_back(item.substr(0, eq), std::move(*qs));
        start = comma + 1;
      }
    } else if (!a.empty() && a[0] != '-') {
      beir = a;
    } else {
      Die("unknown flag or missing value: " + a);
    }
  }
  if (!print.empty()) return PrintParsed(print);
  if (!html.empty()) {
    if (query_sets.empty()) Die("--html needs --queries NAME=queries.jsonl");
    return ScaleMode(html, sizes, query_sets, passes, warmup, k, seed);
  }
  if (beir.empty()) {
    Die("usage: retrieval_bm25_bench BEIR_DIR [--passes N] | --html DIR --queries "
        "NAME=FILE[,...] [--sizes N,...] [--passes N] [--warmup W] [--k K] | --print-parsed FILE");
  }
  return BeirMode(beir, passes);
}
