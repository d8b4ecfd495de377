#include "retrieval/kb/knowledge_base.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/testing/temp_dir.h"
#include "db/testing/temp_database.h"

namespace sagebox::retrieval {
namespace {

std::string Data(const std::string& rel) {
  return std::string(SAGEBOX_TESTDATA) + "/retrieval/" + rel;
}

// A deterministic embedder for tests: each lower-cased ASCII word is hashed (FNV-1a,
// http://www.isthe.com/chongo/tech/comp/fnv/) into one of 64 buckets, the counts are
// L2-normalised. Texts sharing words point the same way; a text without a word is the
// zero vector, like the word-vector embedder's unknown text.
class FakeEmbedder : public Embedder {
 public:
  explicit FakeEmbedder(std::atomic<int>* texts_embedded) : texts_(texts_embedded) {}
  std::string name() const override { return "fake-hash-64"; }
  int dim() const override { return 64; }
  StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const std::string& t : texts) {
      std::vector<float> v(64, 0.0F);
      std::string word;
      auto flush = [&] {
        if (word.size() < 3) {
          word.clear();
          return;
        }
        uint32_t h = 2166136261U;
        for (char c : word) h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
        v[h % 64] += 1.0F;
        word.clear();
      };
      for (char c : t) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
          word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else {
          flush();
        }
      }
      flush();
      double norm = 0;
      for (float x : v) norm += static_cast<double>(x) * x;
      if (norm > 0) {
        for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
      }
      out.push_back(std::move(v));
    }
    *texts_ += static_cast<int>(texts.size());
    return out;
  }

 private:
  std::atomic<int>* texts_;
};

SearchOptions Q(int k, SearchMode mode = SearchMode::kBm25) {
  SearchOptions o;
  o.k = k;
  o.mode = mode;
  return o;
}
SearchOptions Sources(SearchOptions o, std::vector<std::string> v) {
  o.sources = std::move(v);
  return o;
}
SearchOptions Formats(SearchOptions o, std::vector<std::string> v) {
  o.formats = std::move(v);
  return o;
}
SearchOptions Weights(SearchOptions o, std::vector<double> w) {
  o.weights = std::move(w);
  return o;
}
SearchOptions MinMax(SearchOptions o) {
  o.fusion = FusionMethod::kMinMax;
  return o;
}

class KnowledgeBaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = db::testing::OpenMigrated(tmp_.Path("sagebox.db"), Migrations());
    ASSERT_NE(db_, nullptr);
  }

  OpenOptions Options(bool create = true, std::string embedder = "") {
    OpenOptions o;
    o.data_dir = tmp_.Path("data");
    if (create) {
      IndexSettings s;
      s.embedder = std::move(embedder);
      o.create = s;
    }
    o.make_embedder = [this](const std::string& spec) -> StatusOr<std::unique_ptr<Embedder>> {
      if (spec != "fake") return InvalidArgument("unknown embedder " + spec);
      return std::unique_ptr<Embedder>(std::make_unique<FakeEmbedder>(&embedded_));
    };
    return o;
  }

  std::unique_ptr<KnowledgeBase> OpenKb(const std::string& name, OpenOptions o) {
    auto kb = KnowledgeBase::Open(db_.get(), name, std::move(o));
    EXPECT_TRUE(kb.ok()) << kb.status().ToString();
    return kb.ok() ? std::move(kb).value() : nullptr;
  }

  IndexInfo Info(const std::string& name) {
    auto all = ListIndexes(*db_);
    EXPECT_TRUE(all.ok());
    for (const IndexInfo& i : *all) {
      if (i.name == name) return i;
    }
    ADD_FAILURE() << "no index " << name;
    return {};
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = tmp_.Path(name);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  testing::TempDir tmp_{"kb"};
  std::unique_ptr<db::Database> db_;
  std::atomic<int> embedded_{0};
};

const std::vector<std::string> kRealInputs = {"text", "html", "rag", "pdf/tagged.pdf",
                                              "pdf/senate-expenditures.pdf"};

std::vector<std::string> RealPaths() {
  std::vector<std::string> out;
  for (const auto& p : kRealInputs) out.push_back(Data(p));
  return out;
}

TEST_F(KnowledgeBaseTest, IngestsRealFilesAndFindsTheRightChunkWithItsPage) {
  auto kb = OpenKb("docs", Options());
  ASSERT_NE(kb, nullptr);
  std::vector<IngestProgress> seen;
  auto report = kb->Ingest(RealPaths(), [&](const IngestProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // text/ 4, html/ 2, rag/ 3 (.rst; PROVENANCE.md is Markdown too) + 1, two PDFs.
  EXPECT_EQ(report->files, 12u);
  EXPECT_EQ(report->added, 12u);
  EXPECT_EQ(report->replaced, 0u);
  EXPECT_GT(report->chunks, 40u);
  EXPECT_EQ(report->vectors, 0u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().stage, IngestProgress::Stage::kIndex);
  EXPECT_EQ(seen.back().done, report->chunks);

  auto stats = kb->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, 12);
  EXPECT_EQ(stats->chunks, static_cast<int64_t>(report->chunks));

  auto hits = kb->Search("serverless endpoint ServerlessInferenceConfig memory size", Q(3));
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].source, Data("rag") + "/serverless_inference.rst");
  EXPECT_EQ((*hits)[0].format, "rst");
  EXPECT_EQ((*hits)[0].title, "SageMaker Serverless Inference");
  EXPECT_NE((*hits)[0].text.find("Serverless"), std::string::npos);
  EXPECT_EQ((*hits)[0].bm25_rank, 1);
  EXPECT_EQ((*hits)[0].score, *(*hits)[0].bm25_score);
  EXPECT_EQ((*hits)[0].dense_rank, 0);

  // tagged.pdf is one chunk at 600 characters, cited at the page it starts on.
  auto pdf = kb->Search("Page 2 Heading body text", Formats(Q(1), {"pdf"}));
  ASSERT_TRUE(pdf.ok()) << pdf.status().ToString();
  ASSERT_EQ(pdf->size(), 1u);
  EXPECT_EQ((*pdf)[0].source, Data("pdf/tagged.pdf"));
  EXPECT_EQ((*pdf)[0].title, "Tagged PDF Demo");
  EXPECT_EQ((*pdf)[0].page, 1);
}

TEST_F(KnowledgeBaseTest, SmallChunksOfAPdfCiteTheirOwnPages) {
  OpenOptions o = Options(false);
  IndexSettings s;
  s.chunk_size = 60;
  s.chunk_overlap = 0;
  o.create = s;
  auto kb = OpenKb("pdf", o);
  ASSERT_TRUE(kb->Ingest({Data("pdf/tagged.pdf")}).ok());
  // "Body text." is on page 2 of tagged.pdf only, "Table caption" on page 1.
  auto p2 = kb->Search("Page 2 Heading body text", Q(1));
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  ASSERT_EQ(p2->size(), 1u);
  EXPECT_NE((*p2)[0].text.find("Body text"), std::string::npos) << (*p2)[0].text;
  EXPECT_EQ((*p2)[0].page, 2);
  auto p1 = kb->Search("table caption", Q(1));
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->size(), 1u);
  EXPECT_NE((*p1)[0].text.find("Table caption"), std::string::npos) << (*p1)[0].text;
  EXPECT_EQ((*p1)[0].page, 1);
  // The offsets point into the parsed text: a later chunk starts later.
  EXPECT_GT((*p2)[0].byte_begin, (*p1)[0].byte_begin);
  EXPECT_EQ((*p2)[0].byte_end - (*p2)[0].byte_begin, static_cast<int64_t>((*p2)[0].text.size()));
}

TEST_F(KnowledgeBaseTest, ReingestingUnchangedFilesChangesNothing) {
  auto kb = OpenKb("docs", Options());
  ASSERT_TRUE(kb->Ingest(RealPaths()).ok());
  const IndexInfo before = Info("docs");
  auto again = kb->Ingest(RealPaths());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->files_unchanged, again->files);
  EXPECT_EQ(again->added + again->replaced + again->deleted, 0u);
  EXPECT_EQ(again->unchanged, 12u);
  EXPECT_EQ(again->chunks, 0u);
  const IndexInfo after = Info("docs");
  EXPECT_EQ(after.generation, before.generation);
  EXPECT_EQ(after.stats.chunks, before.stats.chunks);
}

TEST_F(KnowledgeBaseTest, AChangedFileReplacesItsChunks) {
  const std::string path = WriteFile("in/notes.md",
                                     "# Notes\n\nThe aardvark eats ants at night.\n\n"
                                     "Another paragraph about the pangolin.\n");
  const std::string other = WriteFile("in/other.txt", "Unrelated text about a walrus.\n");
  auto kb = OpenKb("notes", Options());
  auto r1 = kb->Ingest({tmp_.Path("in")});
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->added, 2u);
  const int64_t gen1 = Info("notes").generation;

  WriteFile("in/notes.md", "# Notes\n\nThe okapi grazes by day.\n");
  auto r2 = kb->Ingest({tmp_.Path("in")});
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->replaced, 1u);
  EXPECT_EQ(r2->added, 0u);
  EXPECT_EQ(r2->files_unchanged, 1u);  // other.txt
  EXPECT_EQ(Info("notes").generation, gen1 + 1);

  auto old_hits = kb->Search("aardvark pangolin", Q(5));
  ASSERT_TRUE(old_hits.ok());
  EXPECT_TRUE(old_hits->empty()) << (*old_hits)[0].text;
  auto new_hits = kb->Search("okapi", Q(5));
  ASSERT_TRUE(new_hits.ok());
  ASSERT_EQ(new_hits->size(), 1u);
  EXPECT_EQ((*new_hits)[0].source, path);
  EXPECT_EQ((*new_hits)[0].chunk_id, path + "#0");
  auto walrus = kb->Search("walrus", Q(5));
  ASSERT_TRUE(walrus.ok());
  ASSERT_EQ(walrus->size(), 1u);
  EXPECT_EQ((*walrus)[0].source, other);
  // The database holds only the new chunks of notes.md.
  auto rows = db_->Query("SELECT COUNT(*) FROM retrieval_chunks WHERE doc_id = ?",
                         std::vector<db::Value>{path});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 1);
}

TEST_F(KnowledgeBaseTest, ABadFileFailsTheWholeIngestAndChangesNothing) {
  auto kb = OpenKb("docs", Options());
  ASSERT_TRUE(kb->Ingest({Data("rag")}).ok());
  const IndexInfo before = Info("docs");
  const std::string good = WriteFile("new/fresh.txt", "A quokka smiles.\n");
  auto r = kb->Ingest({tmp_.Path("new"), Data("pdf/tagged-encrypted.pdf")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kBadInput) << r.status().ToString();
  EXPECT_EQ(r.status().message().rfind(Data("pdf/tagged-encrypted.pdf") + ": ", 0), 0u)
      << r.status().message();
  const IndexInfo after = Info("docs");
  EXPECT_EQ(after.generation, before.generation);
  EXPECT_EQ(after.stats.documents, before.stats.documents);
  EXPECT_EQ(after.stats.chunks, before.stats.chunks);
  auto hits = kb->Search("quokka", Q(3));
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
  // Not UTF-8: the text parser's error names the file and the byte.
  const std::string bad = WriteFile("bad/latin1.txt", "caf\xe9\n");
  auto r2 = kb->Ingest({bad});
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find(bad), std::string::npos) << r2.status().message();
  EXPECT_EQ(Info("docs").generation, before.generation);
}

TEST_F(KnowledgeBaseTest, DenseAndHybridWithAnEmbedder) {
  auto kb = OpenKb("dense", Options(true, "fake"));
  ASSERT_NE(kb, nullptr);
  WriteFile("z/symbols.txt", "!!! ??? ...\n");
  auto r = kb->Ingest({Data("rag"), tmp_.Path("z")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->vectors + 1, r->chunks);  // the symbols-only chunk has no vector
  auto stats = kb->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->vectors + 1, stats->chunks);
  EXPECT_EQ(Info("dense").embedder_name, "fake-hash-64");
  EXPECT_EQ(Info("dense").dimension, 64);

  const std::string q = "debugger hook configuration tensors";
  auto dense = kb->Search(q, Q(3, SearchMode::kDense));
  ASSERT_TRUE(dense.ok()) << dense.status().ToString();
  ASSERT_FALSE(dense->empty());
  EXPECT_EQ((*dense)[0].source, Data("rag") + "/debugger_hook.rst");
  EXPECT_EQ((*dense)[0].dense_rank, 1);
  EXPECT_FALSE((*dense)[0].bm25_score.has_value());
  // cosinesimil: score = (2 - d) / 2 with d = 1 - cos, in (0, 1].
  EXPECT_GT((*dense)[0].score, 0.5);
  EXPECT_LE((*dense)[0].score, 1.0);

  auto rrf = kb->Search(q, Q(3, SearchMode::kHybrid));
  ASSERT_TRUE(rrf.ok()) << rrf.status().ToString();
  ASSERT_FALSE(rrf->empty());
  const SearchHit& top = (*rrf)[0];
  EXPECT_EQ(top.source, Data("rag") + "/debugger_hook.rst");
  ASSERT_GT(top.bm25_rank, 0);
  ASSERT_GT(top.dense_rank, 0);
  // RRF, k = 60 (fusion.h).
  EXPECT_NEAR(top.score, 1.0 / (60 + top.bm25_rank) + 1.0 / (60 + top.dense_rank), 1e-12);

  auto mm = kb->Search(q, MinMax(Weights(Q(3, SearchMode::kHybrid), {0.3, 0.7})));
  ASSERT_TRUE(mm.ok()) << mm.status().ToString();
  ASSERT_FALSE(mm->empty());
  EXPECT_LE((*mm)[0].score, 1.0);
  EXPECT_GT((*mm)[0].score, 0.0);

  auto bad_weights = kb->Search(q, Weights(Q(3, SearchMode::kHybrid), {1.0}));
  EXPECT_EQ(bad_weights.status().code(), StatusCode::kInvalidArgument);

  // A query without a word: no dense results, so hybrid is BM25 alone (here: nothing).
  auto none = kb->Search("?!", Q(3, SearchMode::kHybrid));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(KnowledgeBaseTest, DenseWithoutAnEmbedderIsAnError) {
  auto kb = OpenKb("lex", Options());
  ASSERT_TRUE(kb->Ingest({Data("rag")}).ok());
  for (SearchMode m : {SearchMode::kDense, SearchMode::kHybrid}) {
    auto r = kb->Search("debugger", Q(3, m));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("has no embedder"), std::string::npos);
  }
}

TEST_F(KnowledgeBaseTest, ADeletedOrStaleDerivedIndexIsRebuiltFromTheRows) {
  std::vector<std::string> before_ids;
  std::vector<std::string> before_dense;
  std::string dir;
  {
    auto kb = OpenKb("docs", Options(true, "fake"));
    ASSERT_TRUE(kb->Ingest({Data("rag"), Data("text")}).ok());
    auto hits = kb->Search("local mode docker compose", Q(5));
    ASSERT_TRUE(hits.ok());
    for (const auto& h : *hits) before_ids.push_back(h.chunk_id);
    auto dense = kb->Search("local mode docker compose", Q(5, SearchMode::kDense));
    ASSERT_TRUE(dense.ok());
    for (const auto& h : *dense) before_dense.push_back(h.chunk_id);
    dir = kb->dir();
    EXPECT_FALSE(before_ids.empty());
  }
  {
    auto kb = OpenKb("docs", Options(false));
    EXPECT_FALSE(kb->rebuilt_on_open());
  }
  std::filesystem::remove_all(dir + "/lexical");
  std::filesystem::remove(dir + "/vectors.hnsw");
  const int embedded_before = embedded_.load();
  {
    auto kb = OpenKb("docs", Options(false));
    ASSERT_NE(kb, nullptr);
    EXPECT_TRUE(kb->rebuilt_on_open());
    EXPECT_EQ(embedded_.load(), embedded_before);  // vectors came from the blobs
    auto hits = kb->Search("local mode docker compose", Q(5));
    ASSERT_TRUE(hits.ok());
    std::vector<std::string> ids;
    for (const auto& h : *hits) ids.push_back(h.chunk_id);
    EXPECT_EQ(ids, before_ids);
    auto dense = kb->Search("local mode docker compose", Q(5, SearchMode::kDense));
    ASSERT_TRUE(dense.ok());
    std::vector<std::string> dense_ids;
    for (const auto& h : *dense) dense_ids.push_back(h.chunk_id);
    EXPECT_EQ(dense_ids, before_dense);
    EXPECT_EQ(embedded_.load(), embedded_before + 1);  // the query only
  }
  // A crash after the database commit: the generation file is behind.
  const IndexInfo info = Info("docs");
  std::ofstream(dir + "/generation") << (info.generation - 1) << "\n";
  {
    auto kb = OpenKb("docs", Options(false));
    ASSERT_NE(kb, nullptr);
    EXPECT_TRUE(kb->rebuilt_on_open());
  }
  {
    auto kb = OpenKb("docs", Options(false));
    EXPECT_FALSE(kb->rebuilt_on_open());
  }
}

TEST_F(KnowledgeBaseTest, FiltersBySourceAndFormat) {
  auto kb = OpenKb("docs", Options(true, "fake"));
  ASSERT_TRUE(kb->Ingest(RealPaths()).ok());
  const std::string local = Data("rag") + "/local_mode.rst";
  for (SearchMode m : {SearchMode::kBm25, SearchMode::kDense, SearchMode::kHybrid}) {
    auto hits = kb->Search("sagemaker model training", Sources(Q(10, m), {local}));
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_FALSE(hits->empty()) << SearchModeName(m);
    for (const auto& h : *hits) EXPECT_EQ(h.source, local) << SearchModeName(m);
    auto md = kb->Search("install authentication", Formats(Q(10, m), {"markdown"}));
    ASSERT_TRUE(md.ok());
    ASSERT_FALSE(md->empty());
    for (const auto& h : *md) EXPECT_EQ(h.format, "markdown") << SearchModeName(m);
  }
  auto nothing = kb->Search("sagemaker", Sources(Q(10), {"/no/such/file"}));
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
}

TEST_F(KnowledgeBaseTest, BeirRecordsKeepTheirIdsAndCountOncePerDocument) {
  const std::string corpus = WriteFile(
      "beir/corpus.jsonl",
      "{\"_id\": \"d1\", \"title\": \"Wings\", \"text\": \"lift on a wing in a slipstream\"}\n"
      "{\"_id\": \"d2\", \"title\": \"Plates\", \"text\": \"shear flow past a flat plate\"}\n"
      "{\"_id\": \"d3\", \"title\": \"Both\", \"text\": \"a wing and a plate\"}\n");
  OpenOptions o = Options(false);
  IndexSettings s;
  s.chunk_size = 20;  // several chunks per record
  s.chunk_overlap = 0;
  o.create = s;
  auto kb = OpenKb("beir", o);
  auto r = kb->Ingest({tmp_.Path("beir")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->added, 3u);
  EXPECT_GT(r->chunks, 3u);
  auto hits = kb->Search("wing slipstream", Q(10));
  ASSERT_TRUE(hits.ok());
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].beir_id, "d1");
  EXPECT_EQ((*hits)[0].doc_id, corpus + "#d1");
  const std::vector<std::string> docs = RankDocuments(*hits);
  EXPECT_EQ(docs.front(), "d1");
  EXPECT_EQ(std::set<std::string>(docs.begin(), docs.end()).size(), docs.size());

  Qrels qrels{{"q1", {{"d1", 1}}}, {"q2", {{"d2", 2}, {"d3", 1}}}};
  auto eval = EvaluateIndex(*kb, {{"q1", "slipstream"}, {"q2", "flat plate shear"}}, qrels, {});
  ASSERT_TRUE(eval.ok()) << eval.status().ToString();
  EXPECT_EQ(eval->queries, 2);
  EXPECT_DOUBLE_EQ(eval->mrr, 1.0);
  EXPECT_DOUBLE_EQ(eval->recall, 1.0);

  // A record removed from the corpus is deleted; an unchanged one keeps its chunks.
  WriteFile(
      "beir/corpus.jsonl",
      "{\"_id\": \"d1\", \"title\": \"Wings\", \"text\": \"lift on a wing in a slipstream\"}\n"
      "{\"_id\": \"d2\", \"title\": \"Plates\", \"text\": \"laminar flow past a flat plate\"}\n");
  auto r2 = kb->Ingest({tmp_.Path("beir")});
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->unchanged, 1u);
  EXPECT_EQ(r2->replaced, 1u);
  EXPECT_EQ(r2->deleted, 1u);
  auto stats = kb->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->documents, 2);
}

TEST_F(KnowledgeBaseTest, CranfieldBm25ThroughTheKnowledgeBase) {
  const std::string beir = Data("cranfield/beir");
  auto queries = ReadBeirQueries(Env::Default(), beir + "/queries.jsonl");
  ASSERT_TRUE(queries.ok());
  auto qrels = ReadQrels(Env::Default(), beir + "/qrels.tsv");
  ASSERT_TRUE(qrels.ok());
  // One chunk per abstract (the longest is under 7,000 characters), as the BEIR
  // baseline indexes whole documents: the figure matches cranfield_bm25_test's.
  OpenOptions o = Options(false);
  IndexSettings s;
  s.chunk_size = 100000;
  s.chunk_overlap = 0;
  o.create = s;
  auto kb = OpenKb("cranfield", o);
  auto r = kb->Ingest({beir + "/corpus.jsonl"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->added, 1400u);
  EXPECT_EQ(r->chunks, 1398u);  // records 471 and 995 have no text: no chunk
  auto e = EvaluateIndex(*kb, *queries, *qrels, {});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  std::printf(
      "Cranfield via KnowledgeBase, whole documents: nDCG@10=%.4f Recall@100=%.4f "
      "MRR@10=%.4f\n",
      e->ndcg, e->recall, e->mrr);
  EXPECT_NEAR(e->ndcg, 0.3674, 0.001);
  EXPECT_NEAR(e->recall, 0.7371, 0.001);

  // The article's 600/20 chunks: several per abstract, each document counted once.
  auto kb600 = OpenKb("cranfield600", Options());
  ASSERT_TRUE(kb600->Ingest({beir + "/corpus.jsonl"}).ok());
  auto e600 = EvaluateIndex(*kb600, *queries, *qrels, {});
  ASSERT_TRUE(e600.ok());
  std::printf(
      "Cranfield via KnowledgeBase, 600/20 chunks: nDCG@10=%.4f Recall@100=%.4f "
      "MRR@10=%.4f\n",
      e600->ndcg, e600->recall, e600->mrr);
  EXPECT_GT(e600->ndcg, 0.30);
}

TEST_F(KnowledgeBaseTest, ListDropAndValidation) {
  EXPECT_EQ(KnowledgeBase::Open(db_.get(), "missing", Options(false)).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(KnowledgeBase::Open(db_.get(), "../etc", Options()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KnowledgeBase::Open(db_.get(), ".hidden", Options()).status().code(),
            StatusCode::kInvalidArgument);
  OpenOptions bad = Options();
  bad.create->splitter = "sentences";
  EXPECT_EQ(KnowledgeBase::Open(db_.get(), "x", bad).status().code(), StatusCode::kInvalidArgument);
  OpenOptions overlap = Options();
  overlap.create->chunk_overlap = 700;
  EXPECT_EQ(KnowledgeBase::Open(db_.get(), "x", overlap).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KnowledgeBase::Open(db_.get(), "x", Options(true, "nope")).status().code(),
            StatusCode::kInvalidArgument);
  auto none = ListIndexes(*db_);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());  // failed creations left nothing

  std::string dir;
  {
    auto a = OpenKb("alpha", Options());
    ASSERT_TRUE(a->Ingest({Data("rag")}).ok());
    dir = a->dir();
    auto b = OpenKb("beta", Options(true, "fake"));
    ASSERT_NE(b, nullptr);
  }
  auto all = ListIndexes(*db_);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alpha");
  EXPECT_EQ((*all)[0].stats.documents, 4);
  EXPECT_EQ((*all)[0].settings.chunk_size, 600);
  EXPECT_EQ((*all)[1].settings.embedder, "fake");
  EXPECT_EQ((*all)[1].stats.documents, 0);
  auto names = ListIndexNames(*db_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"alpha", "beta"}));

  ASSERT_TRUE(DropIndex(*db_, tmp_.Path("data"), "alpha").ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(DropIndex(*db_, tmp_.Path("data"), "alpha").code(), StatusCode::kNotFound);
  auto rows = db_->Query("SELECT COUNT(*) FROM retrieval_chunks");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 0);
  ASSERT_EQ(ListIndexes(*db_)->size(), 1u);
}

TEST_F(KnowledgeBaseTest, IndexGenerationMovesWithEveryChangingIngest) {
  EXPECT_EQ(IndexGeneration(*db_, "gen").status().code(), StatusCode::kNotFound);
  auto kb = OpenKb("gen", Options());
  ASSERT_NE(kb, nullptr);
  auto g0 = IndexGeneration(*db_, "gen");
  ASSERT_TRUE(g0.ok()) << g0.status().ToString();
  const std::string file = WriteFile("g/a.md", "# A\n\nAlpha beta gamma.\n");
  ASSERT_TRUE(kb->Ingest({file}).ok());
  auto g1 = IndexGeneration(*db_, "gen");
  ASSERT_TRUE(g1.ok());
  EXPECT_EQ(*g1, *g0 + 1);
  ASSERT_TRUE(kb->Ingest({file}).ok());  // unchanged bytes: nothing to bump
  EXPECT_EQ(*IndexGeneration(*db_, "gen"), *g1);
  WriteFile("g/a.md", "# A\n\nAlpha beta delta.\n");
  ASSERT_TRUE(kb->Ingest({file}).ok());
  EXPECT_EQ(*IndexGeneration(*db_, "gen"), *g1 + 1);
}

// The shared parse-and-chunk step: what the splitter gives for each parsed document,
// offsets into the document's text, and the file named in a failure.
TEST(ParseAndChunkTest, ChunksEachDocumentAndNamesABadFile) {
  IndexSettings s;
  s.chunk_size = 200;
  s.chunk_overlap = 0;
  auto splitter = MakeSplitter(s);
  ASSERT_TRUE(splitter.ok()) << splitter.status().ToString();
  const std::string file = Data("rag/local_mode.rst");
  auto docs = ParseAndChunk(Env::Default(), file, **splitter);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  const ChunkedDocument& d = (*docs)[0];
  EXPECT_EQ(d.doc.source, file);
  auto direct = (*splitter)->SplitDocument(d.doc);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(d.chunks.size(), direct->size());
  ASSERT_GT(d.chunks.size(), 3u);  // 200-character chunks of a page of reST
  for (const Chunk& c : d.chunks) {
    EXPECT_LE(c.text.size(), 200u * 4);
    EXPECT_EQ(d.doc.text.substr(c.begin, c.text.size()), c.text);
  }

  auto bad = ParseAndChunk(Env::Default(), Data("pdf/tagged-encrypted.pdf"), **splitter);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("tagged-encrypted.pdf"), std::string::npos)
      << bad.status().ToString();

  s.splitter = "semantic";
  EXPECT_EQ(MakeSplitter(s).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sagebox::retrieval
