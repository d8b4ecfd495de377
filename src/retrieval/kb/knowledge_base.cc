#include "retrieval/kb/knowledge_base.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "retrieval/fusion.h"
#include "retrieval/parse/parse.h"
#include "retrieval/providers/provider_spec.h"

namespace sagebox::retrieval {

namespace {

constexpr char kLexicalDir[] = "lexical";
constexpr char kVectorFile[] = "vectors.hnsw";
constexpr char kGenerationFile[] = "generation";
// Texts per Embed call during ingest: HTTP embedders split further by their own batch
// size; this bounds the memory of one round and paces the progress line.
constexpr size_t kEmbedRound = 64;
// Chunk rows read per query when rebuilding the derived indexes.
constexpr int64_t kRebuildPage = 2000;

using Params = std::vector<db::Value>;

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest cannot fail for SHA-256 on memory short of an allocation failure, in
  // which case the digest is left empty and the file counts as changed.
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "";
  std::string hex;
  hex.reserve(static_cast<size_t>(len) * 2);
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// Vectors are stored as little-endian float32 (every platform sagebox builds for is
// little-endian; the static_assert keeps it honest).
static_assert(std::endian::native == std::endian::little, "embedding blobs assume little-endian");

db::Blob EncodeVector(const std::vector<float>& v) {
  db::Blob b;
  b.bytes.resize(v.size() * sizeof(float));
  std::memcpy(b.bytes.data(), v.data(), b.bytes.size());
  return b;
}

StatusOr<std::vector<float>> DecodeVector(const std::string& bytes, int64_t dimension,
                                          const std::string& chunk_id) {
  if (dimension <= 0 || bytes.size() != static_cast<size_t>(dimension) * sizeof(float)) {
    return Corruption(fmt::format("chunk \"{}\": embedding of {} bytes, expected {} ({} floats)",
                                  chunk_id, bytes.size(), dimension * 4, dimension));
  }
  std::vector<float> v(static_cast<size_t>(dimension));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

bool IsZero(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0F; });
}

std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i == 0 ? "?" : ",?";
  return s;
}

constexpr char kIndexColumns[] =
    "name, splitter, chunk_size, chunk_overlap, embedder, space, embedder_name, dimension, "
    "generation, created_unix";

IndexInfo InfoFromRow(const db::Result& r, size_t i) {
  IndexInfo info;
  info.name = r.Text(i, 0);
  info.settings.splitter = r.Text(i, 1);
  info.settings.chunk_size = r.Int(i, 2);
  info.settings.chunk_overlap = r.Int(i, 3);
  info.settings.embedder = r.Text(i, 4);
  info.settings.space = r.Text(i, 5);
  info.embedder_name = r.Text(i, 6);
  info.dimension = r.Int(i, 7);
  info.generation = r.Int(i, 8);
  info.created_unix = r.Int(i, 9);
  return info;
}

StatusOr<IndexStats> QueryStats(db::Database& db, const std::string& name) {
  IndexStats s;
  Params p{name};
  ASSIGN_OR_RETURN(auto docs, db.Query("SELECT COUNT(*), CAST(COALESCE(SUM(bytes), 0) AS BIGINT) "
                                       "FROM retrieval_documents WHERE index_name = ?",
                                       p));
  s.documents = docs.Int(0, 0);
  s.bytes = docs.Int(0, 1);
  ASSIGN_OR_RETURN(auto chunks, db.Query("SELECT COUNT(*), COUNT(embedding) FROM "
                                         "retrieval_chunks WHERE index_name = ?",
                                         p));
  s.chunks = chunks.Int(0, 0);
  s.vectors = chunks.Int(0, 1);
  return s;
}

// What one ingest does to one document.
struct PlannedDoc {
  enum class Action { kAdd, kReplace, kDelete, kTouch };
  Action action = Action::kAdd;
  std::string id;
  std::string file;
  std::string file_sha;
  std::string sha;  // of the document's title and text
  std::string source, title, format, beir_id;
  int64_t bytes = 0;
  std::vector<Chunk> chunks;
  std::vector<std::optional<std::vector<float>>> vectors;  // per chunk when embedded
};

std::string ChunkId(const std::string& doc_id, size_t ordinal) {
  return doc_id + "#" + std::to_string(ordinal);
}

}  // namespace

StatusOr<std::unique_ptr<TextSplitter>> MakeSplitter(const IndexSettings& s) {
  SplitterOptions o;
  o.chunk_size = s.chunk_size;
  o.chunk_overlap = s.chunk_overlap;
  if (s.splitter == "recursive") {
    auto r = RecursiveCharacterTextSplitter::Create({}, o);
    if (!r.ok()) return r.status();
    return std::unique_ptr<TextSplitter>(
        std::make_unique<RecursiveCharacterTextSplitter>(std::move(r).value()));
  }
  if (s.splitter == "character") {
    auto c = CharacterTextSplitter::Create("\n", o);
    if (!c.ok()) return c.status();
    return std::unique_ptr<TextSplitter>(
        std::make_unique<CharacterTextSplitter>(std::move(c).value()));
  }
  return InvalidArgument("splitter \"" + s.splitter + "\": expected recursive or character");
}

StatusOr<std::vector<ChunkedDocument>> ParseAndChunk(Env* env, const std::string& file,
                                                     const TextSplitter& splitter) {
  ASSIGN_OR_RETURN(auto docs, ParseFile(env, file));
  std::vector<ChunkedDocument> out;
  out.reserve(docs.size());
  for (Document& d : docs) {
    auto chunks = splitter.SplitDocument(d);
    if (!chunks.ok()) return chunks.status().WithContext(file);
    out.push_back({std::move(d), std::move(chunks).value()});
  }
  return out;
}

std::vector<db::Migration> Migrations() {
  return {{"retrieval", 1, "knowledge base indexes, documents and chunks",
           "CREATE TABLE retrieval_indexes (\n"
           "  name TEXT NOT NULL PRIMARY KEY,\n"
           "  splitter TEXT NOT NULL,\n"
           "  chunk_size BIGINT NOT NULL,\n"
           "  chunk_overlap BIGINT NOT NULL,\n"
           "  embedder TEXT NOT NULL,\n"
           "  space TEXT NOT NULL,\n"
           "  embedder_name TEXT NOT NULL,\n"
           "  dimension BIGINT NOT NULL,\n"
           "  generation BIGINT NOT NULL,\n"
           "  next_label BIGINT NOT NULL,\n"
           "  created_unix BIGINT NOT NULL);\n"
           "CREATE TABLE retrieval_documents (\n"
           "  index_name TEXT NOT NULL REFERENCES retrieval_indexes(name) ON DELETE CASCADE,\n"
           "  doc_id TEXT NOT NULL,\n"
           "  file TEXT NOT NULL,\n"
           "  file_sha256 TEXT NOT NULL,\n"
           "  source TEXT NOT NULL,\n"
           "  title TEXT NOT NULL,\n"
           "  format TEXT NOT NULL,\n"
           "  beir_id TEXT NOT NULL,\n"
           "  sha256 TEXT NOT NULL,\n"
           "  bytes BIGINT NOT NULL,\n"
           "  chunk_count BIGINT NOT NULL,\n"
           "  ingested_unix BIGINT NOT NULL,\n"
           "  PRIMARY KEY (index_name, doc_id));\n"
           "CREATE INDEX retrieval_documents_file ON retrieval_documents(index_name, file);\n"
           "CREATE TABLE retrieval_chunks (\n"
           "  index_name TEXT NOT NULL,\n"
           "  chunk_id TEXT NOT NULL,\n"
           "  label BIGINT NOT NULL,\n"
           "  doc_id TEXT NOT NULL,\n"
           "  ordinal BIGINT NOT NULL,\n"
           "  text TEXT NOT NULL,\n"
           "  byte_begin BIGINT NOT NULL,\n"
           "  byte_end BIGINT NOT NULL,\n"
           "  page BIGINT NOT NULL,\n"
           "  embedding {{blob}},\n"
           "  PRIMARY KEY (index_name, chunk_id),\n"
           "  FOREIGN KEY (index_name, doc_id) REFERENCES retrieval_documents(index_name, doc_id)\n"
           "    ON DELETE CASCADE);\n"
           "CREATE UNIQUE INDEX retrieval_chunks_label ON retrieval_chunks(index_name, label);\n"
           "CREATE INDEX retrieval_chunks_doc ON retrieval_chunks(index_name, doc_id);\n"}};
}

Status ValidateIndexName(std::string_view name) {
  const bool ok_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
  if (name.empty() || name.size() > 64 || !ok_chars || name.front() == '.') {
    return InvalidArgument(fmt::format(
        "index name \"{}\": expected 1 to 64 of A-Z a-z 0-9 _ . - not starting with '.'", name));
  }
  return Status::Ok();
}

StatusOr<std::vector<IndexInfo>> ListIndexes(db::Database& db) {
  ASSIGN_OR_RETURN(auto r, db.Query(std::string("SELECT ") + kIndexColumns +
                                    " FROM retrieval_indexes ORDER BY name"));
  std::vector<IndexInfo> out;
  for (size_t i = 0; i < r.size(); ++i) {
    IndexInfo info = InfoFromRow(r, i);
    ASSIGN_OR_RETURN(info.stats, QueryStats(db, info.name));
    out.push_back(std::move(info));
  }
  return out;
}

StatusOr<std::vector<std::string>> ListIndexNames(db::Database& db) {
  ASSIGN_OR_RETURN(auto r, db.Query("SELECT name FROM retrieval_indexes ORDER BY name"));
  std::vector<std::string> out;
  out.reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) out.push_back(r.Text(i, 0));
  return out;
}

nlohmann::json IndexInfoJson(const IndexInfo& i) {
  return {{"name", i.name},
          {"documents", i.stats.documents},
          {"chunks", i.stats.chunks},
          {"vectors", i.stats.vectors},
          {"bytes", i.stats.bytes},
          {"splitter", i.settings.splitter},
          {"chunk_size", i.settings.chunk_size},
          {"chunk_overlap", i.settings.chunk_overlap},
          {"embedder", i.settings.embedder},
          {"embedder_name", i.embedder_name},
          {"dimension", i.dimension},
          {"space", i.settings.space},
          {"generation", i.generation},
          {"created_unix", i.created_unix}};
}

StatusOr<int64_t> IndexGeneration(db::Database& db, const std::string& name) {
  ASSIGN_OR_RETURN(
      auto r, db.Query("SELECT generation FROM retrieval_indexes WHERE name = ?", Params{name}));
  if (r.empty()) return NotFound("no index \"" + name + "\"");
  return r.Int(0, 0);
}

Status DropIndex(db::Database& db, const std::string& data_dir, const std::string& name) {
  RETURN_IF_ERROR(ValidateIndexName(name));
  const Status dropped = db.InTransaction([&](db::Transaction& tx) -> Status {
    Params p{name};
    RETURN_IF_ERROR(tx.Exec("DELETE FROM retrieval_chunks WHERE index_name = ?", p));
    RETURN_IF_ERROR(tx.Exec("DELETE FROM retrieval_documents WHERE index_name = ?", p));
    ASSIGN_OR_RETURN(auto r, tx.Query("DELETE FROM retrieval_indexes WHERE name = ?", p));
    if (r.affected() == 0) return NotFound("no index \"" + name + "\"");
    return Status::Ok();
  });
  RETURN_IF_ERROR(dropped);
  // The rows are gone, so a folder left behind by a failure here is only litter: a new
  // index of that name finds no generation file and rebuilds over it.
  std::error_code ec;
  std::filesystem::remove_all(JoinPath(JoinPath(data_dir, "retrieval"), name), ec);
  if (ec) return IoError("index \"" + name + "\" dropped, but its folder stays: " + ec.message());
  return Status::Ok();
}

StatusOr<SearchMode> ParseSearchMode(std::string_view s) {
  if (s == "bm25") return SearchMode::kBm25;
  if (s == "dense") return SearchMode::kDense;
  if (s == "hybrid") return SearchMode::kHybrid;
  return InvalidArgument(fmt::format("mode \"{}\": expected bm25, dense or hybrid", s));
}

StatusOr<FusionMethod> ParseFusionMethod(std::string_view s) {
  if (s == "rrf") return FusionMethod::kRrf;
  if (s == "minmax") return FusionMethod::kMinMax;
  return InvalidArgument(fmt::format("fusion \"{}\": expected rrf or minmax", s));
}

std::string_view SearchModeName(SearchMode m) {
  switch (m) {
    case SearchMode::kBm25:
      return "bm25";
    case SearchMode::kDense:
      return "dense";
    case SearchMode::kHybrid:
      return "hybrid";
  }
  return "bm25";
}

StatusOr<RankedList> CombineRetrievers(const RankedList& bm25, const RankedList& dense,
                                       const SearchOptions& options) {
  RankedList fused;
  if (options.mode == SearchMode::kBm25) {
    fused = bm25;
  } else if (options.mode == SearchMode::kDense) {
    fused = dense;
  } else if (options.fusion == FusionMethod::kRrf) {
    RrfOptions ro;
    ro.weights = options.weights;
    ASSIGN_OR_RETURN(fused, FuseRrf({bm25, dense}, ro));
  } else {
    MinMaxOptions mo;
    mo.weights = options.weights;
    ASSIGN_OR_RETURN(fused, FuseMinMax({bm25, dense}, mo));
  }
  if (fused.size() > static_cast<size_t>(options.k)) fused.resize(static_cast<size_t>(options.k));
  return fused;
}

void SetRetrieverRanks(const RankedList& bm25, const RankedList& dense,
                       std::vector<SearchHit>* hits) {
  // id -> (score, 1-based rank) in one list.
  auto index = [](const RankedList& list) {
    std::unordered_map<std::string, std::pair<double, int>> at;
    for (size_t i = 0; i < list.size(); ++i) {
      at[list[i].id] = {list[i].score, static_cast<int>(i) + 1};
    }
    return at;
  };
  const auto bm25_at = index(bm25);
  const auto dense_at = index(dense);
  for (SearchHit& h : *hits) {
    if (auto b = bm25_at.find(h.chunk_id); b != bm25_at.end()) {
      h.bm25_score = b->second.first;
      h.bm25_rank = b->second.second;
    }
    if (auto d = dense_at.find(h.chunk_id); d != dense_at.end()) {
      h.dense_score = d->second.first;
      h.dense_rank = d->second.second;
    }
  }
}

std::vector<std::string> RankDocuments(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const SearchHit& h : hits) {
    const std::string& key = h.beir_id.empty() ? h.doc_id : h.beir_id;
    if (seen.insert(key).second) out.push_back(key);
  }
  return out;
}

KnowledgeBase::~KnowledgeBase() = default;

StatusOr<std::unique_ptr<KnowledgeBase>> KnowledgeBase::Open(db::Database* db,
                                                             const std::string& name,
                                                             OpenOptions options) {
  RETURN_IF_ERROR(ValidateIndexName(name));
  std::unique_ptr<KnowledgeBase> kb(new KnowledgeBase());
  kb->db_ = db;
  kb->env_ = options.env != nullptr ? options.env : Env::Default();
  kb->name_ = name;
  kb->read_only_ = options.read_only;
  kb->make_embedder_ = options.make_embedder;
  if (!kb->make_embedder_) {
    kb->make_embedder_ = [](const std::string& spec) { return MakeEmbedder(spec); };
  }
  const std::string select =
      std::string("SELECT ") + kIndexColumns + " FROM retrieval_indexes WHERE name = ?";
  Params p{name};
  ASSIGN_OR_RETURN(auto row, db->Query(select, p));
  if (row.empty()) {
    if (!options.create.has_value()) return NotFound("no index \"" + name + "\"");
    const IndexSettings& s = *options.create;
    RETURN_IF_ERROR(MakeSplitter(s).status());
    RETURN_IF_ERROR(ParseVectorSpace(s.space).status());
    if (!s.embedder.empty()) {
      // Made now so a wrong spec fails before the index exists; kept for the ingest.
      ASSIGN_OR_RETURN(kb->embedder_, kb->make_embedder_(s.embedder));
    }
    Params ins{name,
               s.splitter,
               s.chunk_size,
               s.chunk_overlap,
               s.embedder,
               s.space,
               std::string(),
               int64_t{0},
               int64_t{0},
               int64_t{1},
               static_cast<int64_t>(kb->env_->Now())};
    // Another process may create it at the same moment: its settings win, as if it had
    // been first.
    RETURN_IF_ERROR(db->Exec(
        "INSERT INTO retrieval_indexes (name, splitter, chunk_size, chunk_overlap, embedder, "
        "space, embedder_name, dimension, generation, next_label, created_unix) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        ins));
    ASSIGN_OR_RETURN(row, db->Query(select, p));
    if (row.empty()) return Internal("index \"" + name + "\" vanished right after its creation");
  }
  const IndexInfo info = InfoFromRow(row, 0);
  kb->settings_ = info.settings;
  ASSIGN_OR_RETURN(kb->splitter_, MakeSplitter(kb->settings_));
  RETURN_IF_ERROR(ParseVectorSpace(kb->settings_.space).status());
  kb->dir_ = JoinPath(JoinPath(options.data_dir, "retrieval"), name);
  RETURN_IF_ERROR(kb->env_->CreateDirs(kb->dir_));

  // Are the derived indexes at the database's generation?
  bool stale = true;
  std::string gen_text;
  const std::string gen_path = JoinPath(kb->dir_, kGenerationFile);
  if (kb->env_->Exists(gen_path) && kb->env_->ReadFileToString(gen_path, &gen_text).ok()) {
    stale = gen_text != std::to_string(info.generation) + "\n";
  }
  if (!kb->env_->IsDirectory(JoinPath(kb->dir_, kLexicalDir))) stale = true;
  if (info.dimension > 0 && !kb->env_->Exists(JoinPath(kb->dir_, kVectorFile))) stale = true;
  if (!stale) {
    auto lex =
        LexicalIndex::Open(JoinPath(kb->dir_, kLexicalDir),
                           kb->read_only_ ? LexicalIndex::Mode::kRead : LexicalIndex::Mode::kWrite);
    auto vec = info.dimension > 0
                   ? VectorIndex::Load(kb->env_, JoinPath(kb->dir_, kVectorFile))
                   : StatusOr<std::unique_ptr<VectorIndex>>(std::unique_ptr<VectorIndex>());
    // A lock held by another writer is not damage: report it. Damaged files are
    // derived data, so they are rebuilt rather than reported.
    if (!lex.ok() && lex.status().code() == StatusCode::kIoError) return lex.status();
    if (lex.ok() && vec.ok()) {
      kb->lexical_ = std::move(lex).value();
      kb->vectors_ = std::move(vec).value();
    } else {
      stale = true;
    }
  }
  if (stale) {
    RETURN_IF_ERROR(kb->Rebuild().WithContext("index \"" + name + "\": rebuilding"));
    kb->rebuilt_on_open_ = true;
  }
  return kb;
}

Status KnowledgeBase::WriteGeneration(int64_t generation) {
  return env_->WriteFileAtomic(JoinPath(dir_, kGenerationFile), std::to_string(generation) + "\n");
}

Status KnowledgeBase::Rebuild() {
  lexical_.reset();
  vectors_.reset();
  // Removed first: a crash from here on leaves no generation file, so the next Open
  // rebuilds again.
  if (env_->Exists(JoinPath(dir_, kGenerationFile))) {
    RETURN_IF_ERROR(env_->Remove(JoinPath(dir_, kGenerationFile)));
  }
  const std::string lex_dir = JoinPath(dir_, kLexicalDir);
  std::error_code ec;
  std::filesystem::remove_all(lex_dir, ec);
  if (ec) return IoError(lex_dir + ": cannot remove: " + ec.message());
  if (env_->Exists(JoinPath(dir_, kVectorFile))) {
    RETURN_IF_ERROR(env_->Remove(JoinPath(dir_, kVectorFile)));
  }
  Params name_param{name_};
  // Rows are read outside one transaction (an ingest must not wait for a rebuild), so
  // the generation is read before and after: if an ingest committed in between, start
  // over.
  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSIGN_OR_RETURN(auto head, db_->Query("SELECT generation, dimension FROM retrieval_indexes "
                                           "WHERE name = ?",
                                           name_param));
    if (head.empty()) return NotFound("no index \"" + name_ + "\"");
    const int64_t generation = head.Int(0, 0);
    const int64_t dimension = head.Int(0, 1);
    lexical_.reset();
    std::filesystem::remove_all(lex_dir, ec);
    ASSIGN_OR_RETURN(lexical_, LexicalIndex::Open(lex_dir, LexicalIndex::Mode::kCreate));
    vectors_.reset();
    if (dimension > 0) {
      ASSIGN_OR_RETURN(auto space, ParseVectorSpace(settings_.space));
      ASSIGN_OR_RETURN(vectors_, VectorIndex::Create(static_cast<size_t>(dimension), space));
    }
    // Chunks in label order: a document's chunks got consecutive labels in the ingest
    // that wrote them, so each document's records arrive together.
    std::string doc_id;
    std::vector<LexicalRecord> records;
    auto flush = [&]() -> Status {
      if (records.empty()) return Status::Ok();
      Status s = lexical_->ReplaceDocument(doc_id, records);
      records.clear();
      return s;
    };
    int64_t after = -1;
    while (true) {
      Params p{name_, after, kRebuildPage};
      ASSIGN_OR_RETURN(
          auto rows,
          db_->Query("SELECT c.label, c.chunk_id, c.doc_id, c.text, c.embedding, d.title, "
                     "d.source, d.format FROM retrieval_chunks c JOIN retrieval_documents d "
                     "ON d.index_name = c.index_name AND d.doc_id = c.doc_id "
                     "WHERE c.index_name = ? AND c.label > ? ORDER BY c.label LIMIT ?",
                     p));
      if (rows.empty()) break;
      for (size_t i = 0; i < rows.size(); ++i) {
        after = rows.Int(i, 0);
        const std::string& id = rows.Text(i, 2);
        if (id != doc_id) {
          RETURN_IF_ERROR(flush());
          doc_id = id;
        }
        records.push_back(
            LexicalRecord{rows.Text(i, 1),
                          rows.Text(i, 5),
                          rows.Text(i, 3),
                          {{"source", rows.Text(i, 6)}, {"format", rows.Text(i, 7)}}});
        if (!rows.IsNull(i, 4)) {
          if (vectors_ == nullptr) {
            return Corruption("chunk \"" + rows.Text(i, 1) + "\" has an embedding but index \"" +
                              name_ + "\" has no dimension");
          }
          ASSIGN_OR_RETURN(auto v, DecodeVector(rows.Bytes(i, 4), dimension, rows.Text(i, 1)));
          RETURN_IF_ERROR(vectors_->Add(static_cast<uint64_t>(after), v));
        }
      }
    }
    RETURN_IF_ERROR(flush());
    ASSIGN_OR_RETURN(
        auto tail,
        db_->Query("SELECT generation FROM retrieval_indexes WHERE name = ?", name_param));
    if (tail.empty() || tail.Int(0, 0) != generation) continue;
    RETURN_IF_ERROR(lexical_->Commit());
    if (vectors_ != nullptr) RETURN_IF_ERROR(vectors_->Save(env_, JoinPath(dir_, kVectorFile)));
    RETURN_IF_ERROR(WriteGeneration(generation));
    if (read_only_) {
      lexical_.reset();
      ASSIGN_OR_RETURN(lexical_, LexicalIndex::Open(lex_dir, LexicalIndex::Mode::kRead));
    }
    return Status::Ok();
  }
  return IoError("the index kept changing while it was rebuilt; try again");
}

StatusOr<Embedder*> KnowledgeBase::GetEmbedder() const {
  if (settings_.embedder.empty()) {
    return InvalidArgument("index \"" + name_ +
                           "\" has no embedder: dense and hybrid search need one (create the "
                           "index with an embedder, e.g. --embedder words)");
  }
  std::lock_guard<std::mutex> lock(embedder_mu_);
  if (embedder_ == nullptr) {
    auto e = make_embedder_(settings_.embedder);
    if (!e.ok()) return e.status().WithContext("index \"" + name_ + "\": embedder");
    embedder_ = std::move(e).value();
  }
  return embedder_.get();
}

StatusOr<IndexStats> KnowledgeBase::Stats() const { return QueryStats(*db_, name_); }

StatusOr<IngestReport> KnowledgeBase::Ingest(const std::vector<std::string>& paths,
                                             const IngestProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  if (read_only_) return InvalidArgument("index \"" + name_ + "\" was opened read-only");
  IngestReport report;
  ASSIGN_OR_RETURN(auto files, CollectFiles(env_, paths));
  report.files = files.size();
  uint64_t total_bytes = 0;
  for (const std::string& f : files) {
    auto size = env_->FileSize(f);
    if (size.ok()) total_bytes += *size;
  }

  // 1. Read, hash, parse and chunk everything; nothing is changed yet.
  std::vector<PlannedDoc> plan;
  uint64_t done_bytes = 0;
  uint64_t planned_chunks = 0;
  for (const std::string& file : files) {
    std::string bytes;
    RETURN_IF_ERROR(env_->ReadFileToString(file, &bytes));
    done_bytes += bytes.size();
    report.bytes += bytes.size();
    const std::string file_sha = Sha256Hex(bytes);
    Params p{name_, file};
    ASSIGN_OR_RETURN(auto existing, db_->Query("SELECT doc_id, sha256, file_sha256 FROM "
                                               "retrieval_documents WHERE index_name = ? "
                                               "AND file = ?",
                                               p));
    bool same_file = !existing.empty();
    std::map<std::string, std::string> old_sha;  // doc id -> its content hash
    for (size_t i = 0; i < existing.size(); ++i) {
      old_sha[existing.Text(i, 0)] = existing.Text(i, 1);
      if (existing.Text(i, 2) != file_sha) same_file = false;
    }
    if (same_file) {
      ++report.files_unchanged;
      report.unchanged += existing.size();
      if (progress)
        progress({IngestProgress::Stage::kParse, done_bytes, total_bytes, planned_chunks});
      continue;
    }
    // Documents whose text is unchanged are chunked too and the chunks dropped: a
    // few wasted splits, for one parse-and-chunk path shared with the remote backend.
    ASSIGN_OR_RETURN(auto docs, ParseAndChunk(env_, file, *splitter_));
    std::set<std::string> seen;
    for (ChunkedDocument& cd : docs) {
      Document& d = cd.doc;
      PlannedDoc pd;
      pd.id = d.id;
      pd.file = file;
      pd.file_sha = file_sha;
      pd.sha = Sha256Hex(d.title + '\0' + d.text);
      pd.source = d.source;
      pd.title = d.title;
      pd.format = d.metadata["format"];
      pd.beir_id = d.metadata.contains("beir_id") ? d.metadata["beir_id"] : "";
      pd.bytes = static_cast<int64_t>(d.text.size());
      seen.insert(d.id);
      auto old = old_sha.find(d.id);
      if (old != old_sha.end() && old->second == pd.sha) {
        pd.action = PlannedDoc::Action::kTouch;  // same text: keep its chunks
        ++report.unchanged;
      } else {
        pd.action = old == old_sha.end() ? PlannedDoc::Action::kAdd : PlannedDoc::Action::kReplace;
        pd.chunks = std::move(cd.chunks);
        planned_chunks += pd.chunks.size();
        ++(pd.action == PlannedDoc::Action::kAdd ? report.added : report.replaced);
      }
      plan.push_back(std::move(pd));
    }
    for (const auto& [id, sha] : old_sha) {
      if (seen.contains(id)) continue;
      PlannedDoc pd;
      pd.action = PlannedDoc::Action::kDelete;
      pd.id = id;
      pd.file = file;
      plan.push_back(std::move(pd));
      ++report.deleted;
    }
    if (progress)
      progress({IngestProgress::Stage::kParse, done_bytes, total_bytes, planned_chunks});
  }

  const bool changes = std::any_of(plan.begin(), plan.end(), [](const PlannedDoc& d) {
    return d.action != PlannedDoc::Action::kTouch;
  });
  if (!changes) {
    // Only unchanged documents (maybe in re-written files): nothing to do but remember
    // the files' new hashes so the next ingest skips them without parsing.
    for (const PlannedDoc& d : plan) {
      Params p{d.file_sha, name_, d.id};
      RETURN_IF_ERROR(db_->Exec(
          "UPDATE retrieval_documents SET file_sha256 = ? WHERE index_name = ? AND doc_id = ?", p));
    }
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  }

  // 2. Embed, still without changing anything.
  ASSIGN_OR_RETURN(auto head, db_->Query("SELECT dimension FROM retrieval_indexes WHERE name = ?",
                                         Params{name_}));
  if (head.empty()) return NotFound("no index \"" + name_ + "\"");
  int64_t dimension = head.Int(0, 0);
  std::string embedder_name;
  if (has_embedder()) {
    ASSIGN_OR_RETURN(Embedder * embedder, GetEmbedder());
    embedder_name = embedder->name();
    std::vector<std::pair<size_t, size_t>> where;  // (plan index, chunk index)
    for (size_t i = 0; i < plan.size(); ++i) {
      plan[i].vectors.assign(plan[i].chunks.size(), std::nullopt);
      for (size_t j = 0; j < plan[i].chunks.size(); ++j) where.emplace_back(i, j);
    }
    for (size_t at = 0; at < where.size(); at += kEmbedRound) {
      const size_t end = std::min(where.size(), at + kEmbedRound);
      std::vector<std::string> texts;
      for (size_t w = at; w < end; ++w) {
        texts.push_back(plan[where[w].first].chunks[where[w].second].text);
      }
      auto vecs = embedder->Embed(texts);
      if (!vecs.ok()) return vecs.status().WithContext("embedding with " + embedder_name);
      if (vecs->size() != texts.size()) {
        return Internal(
            fmt::format("{}: {} vectors for {} texts", embedder_name, vecs->size(), texts.size()));
      }
      for (size_t w = at; w < end; ++w) {
        std::vector<float>& v = (*vecs)[w - at];
        if (dimension == 0) dimension = static_cast<int64_t>(v.size());
        if (static_cast<int64_t>(v.size()) != dimension) {
          return BadInput(fmt::format("{}: a vector of {} dimensions, but index \"{}\" holds {}",
                                      embedder_name, v.size(), name_, dimension));
        }
        if (IsZero(v)) continue;  // no direction: the chunk is found by BM25 only
        plan[where[w].first].vectors[where[w].second] = std::move(v);
        ++report.vectors;
      }
      if (progress) progress({IngestProgress::Stage::kEmbed, end, where.size(), planned_chunks});
    }
  }

  // 3. The database, in one transaction: the truth moves to the next generation.
  std::vector<uint64_t> removed_labels;
  std::vector<std::vector<uint64_t>> new_labels;
  int64_t new_generation = 0;
  const int64_t now = env_->Now();
  const Status committed = db_->InTransaction([&](db::Transaction& tx) -> Status {
    removed_labels.clear();
    new_labels.assign(plan.size(), {});
    ASSIGN_OR_RETURN(auto idx, tx.Query("SELECT generation, next_label, dimension FROM "
                                        "retrieval_indexes WHERE name = ?",
                                        Params{name_}));
    if (idx.empty()) return NotFound("no index \"" + name_ + "\"");
    new_generation = idx.Int(0, 0) + 1;
    int64_t next_label = idx.Int(0, 1);
    if (idx.Int(0, 2) != 0 && idx.Int(0, 2) != dimension) {
      return InvalidArgument(
          fmt::format("index \"{}\" changed dimension during the ingest", name_));
    }
    for (size_t i = 0; i < plan.size(); ++i) {
      PlannedDoc& d = plan[i];
      Params key{name_, d.id};
      if (d.action == PlannedDoc::Action::kTouch) {
        Params p{d.file_sha, name_, d.id};
        RETURN_IF_ERROR(
            tx.Exec("UPDATE retrieval_documents SET file_sha256 = ? WHERE "
                    "index_name = ? AND doc_id = ?",
                    p));
        continue;
      }
      if (d.action != PlannedDoc::Action::kAdd) {
        ASSIGN_OR_RETURN(auto labels, tx.Query("SELECT label FROM retrieval_chunks WHERE "
                                               "index_name = ? AND doc_id = ?",
                                               key));
        for (size_t r = 0; r < labels.size(); ++r) {
          removed_labels.push_back(static_cast<uint64_t>(labels.Int(r, 0)));
        }
        RETURN_IF_ERROR(
            tx.Exec("DELETE FROM retrieval_chunks WHERE index_name = ? AND doc_id = ?", key));
        RETURN_IF_ERROR(
            tx.Exec("DELETE FROM retrieval_documents WHERE index_name = ? AND doc_id = ?", key));
      }
      if (d.action == PlannedDoc::Action::kDelete) continue;
      Params doc{name_,
                 d.id,
                 d.file,
                 d.file_sha,
                 d.source,
                 d.title,
                 d.format,
                 d.beir_id,
                 d.sha,
                 d.bytes,
                 static_cast<int64_t>(d.chunks.size()),
                 now};
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO retrieval_documents (index_name, doc_id, file, file_sha256, source, "
                  "title, format, beir_id, sha256, bytes, chunk_count, ingested_unix) VALUES "
                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  doc));
      for (size_t j = 0; j < d.chunks.size(); ++j) {
        const Chunk& c = d.chunks[j];
        const int64_t label = next_label++;
        new_labels[i].push_back(static_cast<uint64_t>(label));
        db::Value emb;
        if (j < d.vectors.size() && d.vectors[j].has_value()) emb = EncodeVector(*d.vectors[j]);
        Params row{name_,
                   ChunkId(d.id, j),
                   label,
                   d.id,
                   static_cast<int64_t>(j),
                   c.text,
                   static_cast<int64_t>(c.begin),
                   static_cast<int64_t>(c.end),
                   static_cast<int64_t>(c.page),
                   emb};
        RETURN_IF_ERROR(tx.Exec(
            "INSERT INTO retrieval_chunks (index_name, chunk_id, label, doc_id, ordinal, text, "
            "byte_begin, byte_end, page, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row));
      }
    }
    return tx.Exec(
        "UPDATE retrieval_indexes SET generation = ?, next_label = ?, dimension = ?, "
        "embedder_name = CASE WHEN ? = '' THEN embedder_name ELSE ? END WHERE name = ?",
        Params{new_generation, next_label, dimension, embedder_name, embedder_name, name_});
  });
  RETURN_IF_ERROR(committed);

  // 4. The derived indexes. On failure the database is ahead of them; the generation
  // file says so and the next Open rebuilds.
  auto update_derived = [&]() -> Status {
    uint64_t indexed = 0;
    for (size_t i = 0; i < plan.size(); ++i) {
      const PlannedDoc& d = plan[i];
      if (d.action == PlannedDoc::Action::kTouch) continue;
      std::vector<LexicalRecord> records;
      for (size_t j = 0; j < d.chunks.size(); ++j) {
        records.push_back(LexicalRecord{ChunkId(d.id, j),
                                        d.title,
                                        d.chunks[j].text,
                                        {{"source", d.source}, {"format", d.format}}});
      }
      RETURN_IF_ERROR(lexical_->ReplaceDocument(d.id, records));
      indexed += d.chunks.size();
      if (progress)
        progress({IngestProgress::Stage::kIndex, indexed, planned_chunks, planned_chunks});
    }
    RETURN_IF_ERROR(lexical_->Commit());
    if (dimension > 0) {
      if (vectors_ == nullptr) {
        ASSIGN_OR_RETURN(auto space, ParseVectorSpace(settings_.space));
        ASSIGN_OR_RETURN(vectors_, VectorIndex::Create(static_cast<size_t>(dimension), space));
      }
      for (uint64_t label : removed_labels) {
        if (vectors_->Contains(label)) RETURN_IF_ERROR(vectors_->Remove(label));
      }
      for (size_t i = 0; i < plan.size(); ++i) {
        for (size_t j = 0; j < new_labels[i].size(); ++j) {
          if (j < plan[i].vectors.size() && plan[i].vectors[j].has_value()) {
            RETURN_IF_ERROR(vectors_->Add(new_labels[i][j], *plan[i].vectors[j]));
          }
        }
      }
      RETURN_IF_ERROR(vectors_->Save(env_, JoinPath(dir_, kVectorFile)));
    }
    return WriteGeneration(new_generation);
  };
  if (Status s = update_derived(); !s.ok()) {
    (void)lexical_->Rollback();
    return s.WithContext("index \"" + name_ +
                         "\": the documents are stored, but updating the search indexes "
                         "failed (they are rebuilt on the next open)");
  }
  for (const PlannedDoc& d : plan) report.chunks += d.chunks.size();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

StatusOr<std::vector<SearchHit>> KnowledgeBase::Search(const std::string& query,
                                                       const SearchOptions& options) const {
  if (options.k < 1) return InvalidArgument(fmt::format("k = {}: expected at least 1", options.k));
  const int candidates = options.candidates > 0 ? options.candidates : std::max(options.k, 100);
  const bool use_bm25 = options.mode != SearchMode::kDense;
  const bool use_dense = options.mode != SearchMode::kBm25;
  Embedder* embedder = nullptr;
  if (use_dense) {
    ASSIGN_OR_RETURN(embedder, GetEmbedder());
  }
  if (options.mode == SearchMode::kHybrid && !options.weights.empty() &&
      options.weights.size() != 2) {
    return InvalidArgument(
        fmt::format("{} weights: hybrid takes two (bm25, dense)", options.weights.size()));
  }

  RankedList bm25_list;
  if (use_bm25) {
    LexicalFilters filters;
    if (!options.sources.empty()) filters["source"] = options.sources;
    if (!options.formats.empty()) filters["format"] = options.formats;
    ASSIGN_OR_RETURN(auto hits, lexical_->Search(query, candidates, filters));
    for (const LexicalHit& h : hits) bm25_list.push_back({h.id, h.score});
  }

  RankedList dense_list;
  if (use_dense && vectors_ != nullptr && vectors_->size() > 0) {
    ASSIGN_OR_RETURN(auto qv, embedder->Embed({query}));
    if (qv.size() != 1) return Internal(embedder->name() + ": no vector for the query");
    if (!IsZero(qv[0])) {
      std::unordered_set<uint64_t> allowed;
      const bool filtered = !options.sources.empty() || !options.formats.empty();
      if (filtered) {
        std::string sql =
            "SELECT c.label FROM retrieval_chunks c JOIN retrieval_documents d ON "
            "d.index_name = c.index_name AND d.doc_id = c.doc_id WHERE c.index_name = ? "
            "AND c.embedding IS NOT NULL";
        Params p{name_};
        if (!options.sources.empty()) {
          sql += " AND d.source IN (" + Placeholders(options.sources.size()) + ")";
          for (const auto& s : options.sources) p.emplace_back(s);
        }
        if (!options.formats.empty()) {
          sql += " AND d.format IN (" + Placeholders(options.formats.size()) + ")";
          for (const auto& f : options.formats) p.emplace_back(f);
        }
        ASSIGN_OR_RETURN(auto rows, db_->Query(sql, p));
        for (size_t i = 0; i < rows.size(); ++i) {
          allowed.insert(static_cast<uint64_t>(rows.Int(i, 0)));
        }
      }
      std::vector<VectorHit> vhits;
      if (!filtered || !allowed.empty()) {
        VectorSearchOptions vo;
        vo.k = static_cast<size_t>(candidates);
        vo.filter = filtered ? &allowed : nullptr;
        ASSIGN_OR_RETURN(vhits, vectors_->Search(qv[0], vo));
      }
      if (!vhits.empty()) {
        std::string sql =
            "SELECT label, chunk_id FROM retrieval_chunks WHERE index_name = ? "
            "AND label IN (" +
            Placeholders(vhits.size()) + ")";
        Params p{name_};
        for (const VectorHit& h : vhits) p.emplace_back(static_cast<int64_t>(h.label));
        ASSIGN_OR_RETURN(auto rows, db_->Query(sql, p));
        std::unordered_map<uint64_t, std::string> ids;
        for (size_t i = 0; i < rows.size(); ++i) {
          ids[static_cast<uint64_t>(rows.Int(i, 0))] = rows.Text(i, 1);
        }
        for (const VectorHit& h : vhits) {
          auto it = ids.find(h.label);
          // A label without a row belongs to a chunk deleted since the vector index was
          // saved by a failed ingest; the rebuild on the next open drops it.
          if (it != ids.end()) dense_list.push_back({it->second, h.score});
        }
      }
    }
  }

  ASSIGN_OR_RETURN(const RankedList fused, CombineRetrievers(bm25_list, dense_list, options));
  if (fused.empty()) return std::vector<SearchHit>();

  std::string sql =
      "SELECT c.chunk_id, c.doc_id, c.ordinal, c.text, c.byte_begin, c.byte_end, c.page, "
      "d.source, d.title, d.format, d.beir_id FROM retrieval_chunks c JOIN "
      "retrieval_documents d ON d.index_name = c.index_name AND d.doc_id = c.doc_id "
      "WHERE c.index_name = ? AND c.chunk_id IN (" +
      Placeholders(fused.size()) + ")";
  Params p{name_};
  for (const ScoredId& s : fused) p.emplace_back(s.id);
  ASSIGN_OR_RETURN(auto rows, db_->Query(sql, p));
  std::unordered_map<std::string, size_t> row_of;
  for (size_t i = 0; i < rows.size(); ++i) row_of[rows.Text(i, 0)] = i;
  std::vector<SearchHit> out;
  for (const ScoredId& s : fused) {
    auto it = row_of.find(s.id);
    if (it == row_of.end()) continue;  // deleted since the derived index was written
    const size_t i = it->second;
    SearchHit h;
    h.chunk_id = s.id;
    h.doc_id = rows.Text(i, 1);
    h.ordinal = rows.Int(i, 2);
    h.text = rows.Text(i, 3);
    h.byte_begin = rows.Int(i, 4);
    h.byte_end = rows.Int(i, 5);
    h.page = static_cast<int>(rows.Int(i, 6));
    h.source = rows.Text(i, 7);
    h.title = rows.Text(i, 8);
    h.format = rows.Text(i, 9);
    h.beir_id = rows.Text(i, 10);
    h.score = s.score;
    out.push_back(std::move(h));
  }
  SetRetrieverRanks(bm25_list, dense_list, &out);
  return out;
}

StatusOr<EvalSummary> EvaluateIndex(const KnowledgeBase& kb, const std::vector<EvalQuery>& queries,
                                    const Qrels& qrels, SearchOptions options,
                                    EvalCutoffs cutoffs) {
  const int depth = std::max({cutoffs.ndcg, cutoffs.recall, cutoffs.mrr});
  // Several chunks of one document count once, so ask for more chunks than documents
  // are needed; three per document covers the chunked corpora here (a document
  // longer than that loses only its tail ranks).
  options.k = depth * 3;
  options.candidates = std::max(options.candidates, options.k);
  Runs runs;
  for (const EvalQuery& q : queries) {
    auto hits = kb.Search(q.text, options);
    if (!hits.ok()) return hits.status().WithContext("query " + q.id);
    std::vector<std::string> docs = RankDocuments(*hits);
    if (docs.size() > static_cast<size_t>(depth)) docs.resize(static_cast<size_t>(depth));
    runs[q.id] = std::move(docs);
  }
  return Evaluate(qrels, runs, cutoffs);
}

}  // namespace sagebox::retrieval
