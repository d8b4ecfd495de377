#include "retrieval/index/lexical_index.h"

#include <xapian.h>

#include <cstdint>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <utility>

namespace sagebox::retrieval {
namespace {

// BM25 in Xapian's terms. Xapian's BM25Weight (weight/bm25weight.cc and
// https://xapian.org/docs/bm25.html) scores a term as
//   (k3+1)q/(k3+q) * (k1+1)f/(K+f) * log(tw),  K = k1 * (b*L + (1-b)),
//   L = max(doclen / avgdoclen, min_normlen),   tw = (N-n+0.5)/(n+0.5)
// plus an extra k2 * query_length * (1-L)/(1+L) per document. Mapping the
// textbook Okapi BM25 (Robertson and Zaragoza, "The Probabilistic Relevance
// Framework: BM25 and Beyond", 2009) that SQLite FTS5, Lucene and OpenSearch
// implement:
//   k1 = 1.2, b = 0.75  as asked, the usual defaults (FTS5 hard-codes them);
//   k2 = 0              the document-length correction is not part of BM25;
//   min_normlen = 0     no clamp: Xapian's default 0.5 lifts documents
//                       shorter than half the average length, which the
//                       textbook formula does not;
//   k3 = 1000           the query-frequency saturation; large k3 makes it
//                       ~linear in q, as FTS5 and Lucene are (they score
//                       each occurrence of a query term separately).
// The constant (k1+1) factor does not change rankings. One difference stays:
// Xapian replaces tw < 2 by tw/2 + 1 so a term in over half the documents
// keeps a small positive weight (FTS5 floors the idf at 1e-6, Lucene uses
// log(1 + tw)); only such very common terms score differently.
constexpr double kK1 = 1.2;
constexpr double kK2 = 0;
constexpr double kK3 = 1000;
constexpr double kB = 0.75;
constexpr double kMinNormLen = 0;

// Term prefixes, after Xapian's conventions (https://xapian.org/docs/omega/termprefixes.html):
// "Q" is the unique id; user-defined prefixes start with "X". Text terms are
// lower case, so they never collide with these.
constexpr const char* kIdPrefix = "Q";
constexpr const char* kDocPrefix = "XDOC";
constexpr const char* kFieldPrefix = "XF";  // XF<name>=<value>
// The value slot holding the record's document key (data holds its id).
constexpr Xapian::valueno kDocKeySlot = 0;

// Glass refuses terms over 245 bytes. Longer keys (deep paths) keep a prefix
// and add a 64-bit FNV-1a hash of the whole key (FNV-1a: Fowler, Noll, Vo;
// offset basis 14695981039346656037, prime 1099511628211, from
// http://www.isthe.com/chongo/tech/comp/fnv/); the stored data still holds the
// full id, which is what Search returns.
std::string KeyTerm(const std::string& prefix, const std::string& key) {
  constexpr size_t kMaxTerm = 240;
  std::string term = prefix + key;
  if (term.size() <= kMaxTerm) return term;
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static const char* kHex = "0123456789abcdef";
  std::string hex(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) hex[static_cast<size_t>(i)] = kHex[h & 0xF];
  term.resize(kMaxTerm - 17);
  return term + "#" + hex;
}

std::string FieldTerm(const std::string& name, const std::string& value) {
  return KeyTerm(kFieldPrefix + name + "=", value);
}

// One tokeniser for documents and queries, so both sides make the same terms:
// Xapian's word splitting and lower-casing, then the English stemmer on every
// word (STEM_ALL: stemmed terms only, no unstemmed "Z" duplicates, so document
// lengths count each word once, as FTS5's do).
Xapian::TermGenerator MakeTermGenerator() {
  Xapian::TermGenerator tg;
  tg.set_stemmer(Xapian::Stem("english"));
  tg.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
  return tg;
}

// Xapian::Error is not polymorphic (no dynamic_cast); get_type() names the class.
Status FromXapian(const Xapian::Error& e, const std::string& what) {
  const std::string type = e.get_type();
  std::string msg = what + ": " + type + ": " + e.get_msg();
  if (const char* os = e.get_error_string(); os != nullptr && *os != '\0') {
    msg += " (" + std::string(os) + ")";
  }
  if (type == "DatabaseLockError") {
    return IoError(what + ": another process is writing to this index (Xapian allows one " +
                   "writer at a time): " + e.get_msg());
  }
  if (type == "DatabaseNotFoundError") return NotFound(msg);
  if (type == "DatabaseCorruptError" || type == "DatabaseVersionError") return Corruption(msg);
  return IoError(msg);
}

Status CheckFieldName(const std::string& name) {
  if (name.empty()) return InvalidArgument("empty metadata field name");
  if (name.find('=') != std::string::npos) {
    return InvalidArgument("metadata field name \"" + name + "\" must not contain '='");
  }
  return Status::Ok();
}

}  // namespace

struct LexicalIndex::Impl {
  std::string dir;
  bool writable = false;

  std::mutex write_mu;
  std::optional<Xapian::WritableDatabase> writer;  // set when writable
  bool pending = false;  // ReplaceDocument/DeleteDocument since the last Commit

  // Readers not in use; Search takes one and gives it back.
  mutable std::mutex pool_mu;
  mutable std::vector<std::unique_ptr<Xapian::Database>> pool;
  static constexpr size_t kMaxPooled = 8;
  static constexpr int kAttempts = 20;

  // A reader, pooled or new (WithReader reopens it); Xapian throws on failure.
  std::unique_ptr<Xapian::Database> TakeReader() const {
    std::unique_ptr<Xapian::Database> db;
    {
      std::lock_guard<std::mutex> lock(pool_mu);
      if (!pool.empty()) {
        db = std::move(pool.back());
        pool.pop_back();
      }
    }
    if (!db) db = std::make_unique<Xapian::Database>(dir, Xapian::DB_BACKEND_GLASS);
    return db;
  }
  void ReturnReader(std::unique_ptr<Xapian::Database> db) const {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (pool.size() < kMaxPooled) pool.push_back(std::move(db));
  }

  // Runs fn(reader), reopening and retrying when a writer's commits overtook
  // the reader's revision (Xapian's DatabaseModifiedError), as Xapian advises:
  // glass keeps the last two revisions, so a reader fails once the writer has
  // committed twice since its reopen. kAttempts bounds the retries against a
  // writer that commits faster than a search runs.
  template <typename T, typename Fn>
  StatusOr<T> WithReader(const std::string& what, Fn fn) const {
    try {
      std::unique_ptr<Xapian::Database> db;
      for (int attempt = 1;; ++attempt) {
        try {
          // Opening, like reopening, can meet a revision a commit just discarded.
          if (!db) db = TakeReader();
          db->reopen();  // to the latest commit
          T out = fn(*db);
          ReturnReader(std::move(db));
          return out;
        } catch (const Xapian::DatabaseModifiedError&) {
          if (attempt >= kAttempts) throw;
        }
      }
    } catch (const Xapian::Error& e) {
      return FromXapian(e, what);
    } catch (const std::bad_alloc&) {
      return ResourceExhausted(what + ": out of memory");
    }
  }

  // Discards uncommitted changes: an unflushed transaction, once cancelled,
  // also drops what was pending before it began (Xapian's documented rule).
  void DiscardPending() {
    writer->begin_transaction(false);
    writer->cancel_transaction();
    pending = false;
  }
};

LexicalIndex::LexicalIndex(std::string dir, std::unique_ptr<Impl> impl)
    : dir_(std::move(dir)), impl_(std::move(impl)) {}

LexicalIndex::~LexicalIndex() {
  if (!impl_->writer) return;
  try {
    if (impl_->pending) impl_->DiscardPending();
    impl_->writer->close();
  } catch (const Xapian::Error&) {  // NOLINT(bugprone-empty-catch): nothing to report to
  }
}

StatusOr<std::unique_ptr<LexicalIndex>> LexicalIndex::Open(const std::string& dir, Mode mode) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->writable = mode != Mode::kRead;
  try {
    if (mode == Mode::kRead) {
      // Open one reader now, so a missing or damaged index fails here.
      impl->pool.push_back(std::make_unique<Xapian::Database>(dir, Xapian::DB_BACKEND_GLASS));
    } else {
      int flags = mode == Mode::kCreate ? Xapian::DB_CREATE_OR_OPEN : Xapian::DB_OPEN;
      impl->writer.emplace(dir, flags | Xapian::DB_BACKEND_GLASS);
    }
  } catch (const Xapian::DatabaseOpeningError& e) {
    if (mode != Mode::kCreate) {
      return NotFound("lexical index " + dir + ": no index there (" + e.get_msg() + ")");
    }
    return FromXapian(e, "lexical index " + dir);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "lexical index " + dir);
  }
  return std::unique_ptr<LexicalIndex>(new LexicalIndex(dir, std::move(impl)));
}

Status LexicalIndex::ReplaceDocument(const std::string& doc_key,
                                     const std::vector<LexicalRecord>& records) {
  if (!impl_->writable) return InvalidArgument("lexical index " + dir_ + " is open read-only");
  if (doc_key.empty()) return InvalidArgument("empty document key");
  std::set<std::string> ids;
  for (const LexicalRecord& r : records) {
    if (r.id.empty()) return InvalidArgument("document \"" + doc_key + "\": a chunk has no id");
    if (!ids.insert(r.id).second) {
      return InvalidArgument("document \"" + doc_key + "\": chunk id \"" + r.id +
                             "\" appears twice");
    }
    for (const auto& [name, value] : r.fields) {
      Status st = CheckFieldName(name);
      if (!st.ok()) return st.WithContext("document \"" + doc_key + "\" chunk \"" + r.id + "\"");
    }
  }
  const std::string doc_term = KeyTerm(kDocPrefix, doc_key);
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  Xapian::WritableDatabase& db = *impl_->writer;
  // Everything a caller can get wrong is checked before the transaction, so
  // only Xapian failures take the cancel path (which drops pending changes).
  try {
    for (const LexicalRecord& r : records) {
      const std::string id_term = KeyTerm(kIdPrefix, r.id);
      for (auto it = db.postlist_begin(id_term); it != db.postlist_end(id_term); ++it) {
        std::string owner = db.get_document(*it).get_value(kDocKeySlot);
        if (owner != doc_key) {
          std::string msg = "chunk id \"" + r.id + "\" of document \"" + doc_key;
          msg += "\" already belongs to document \"" + owner + "\"";
          return AlreadyExists(std::move(msg));
        }
      }
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "lexical index " + dir_);
  }

  bool in_transaction = false;
  try {
    Xapian::TermGenerator tg = MakeTermGenerator();
    // Unflushed: atomic, without a disk commit per document; Commit() flushes.
    db.begin_transaction(false);
    in_transaction = true;
    impl_->pending = true;
    db.delete_document(doc_term);
    for (const LexicalRecord& r : records) {
      Xapian::Document doc;
      tg.set_document(doc);
      tg.index_text_without_positions(r.title);
      tg.index_text_without_positions(r.text);
      doc.add_boolean_term(KeyTerm(kIdPrefix, r.id));
      doc.add_boolean_term(doc_term);
      for (const auto& [name, value] : r.fields) doc.add_boolean_term(FieldTerm(name, value));
      doc.add_value(kDocKeySlot, doc_key);
      doc.set_data(r.id);
      db.add_document(doc);
    }
    db.commit_transaction();
    return Status::Ok();
  } catch (const Xapian::Error& e) {
    Status st = FromXapian(e, "lexical index " + dir_ + ": replacing document \"" + doc_key +
                                  "\" (changes since the last commit were discarded)");
    try {
      if (in_transaction) db.cancel_transaction();
      impl_->pending = false;
    } catch (const Xapian::Error& e2) {
      return st.WithContext("cancelling failed too: " + e2.get_msg());
    }
    return st;
  }
}

Status LexicalIndex::DeleteDocument(const std::string& doc_key) {
  return ReplaceDocument(doc_key, {});
}

Status LexicalIndex::Commit() {
  if (!impl_->writable) return InvalidArgument("lexical index " + dir_ + " is open read-only");
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  try {
    impl_->writer->commit();
    impl_->pending = false;
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "lexical index " + dir_ + ": commit");
  }
  return Status::Ok();
}

Status LexicalIndex::Rollback() {
  if (!impl_->writable) return InvalidArgument("lexical index " + dir_ + " is open read-only");
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  try {
    impl_->DiscardPending();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "lexical index " + dir_ + ": rollback");
  }
  return Status::Ok();
}

StatusOr<std::vector<LexicalHit>> LexicalIndex::Search(const std::string& query, int k,
                                                       const LexicalFilters& filters) const {
  std::vector<LexicalHit> hits;
  for (const auto& [name, values] : filters) {
    RETURN_IF_ERROR(CheckFieldName(name).WithContext("filter"));
    if (values.empty()) return InvalidArgument("filter on \"" + name + "\" lists no values");
  }
  if (k <= 0) return hits;

  // The query's terms, made exactly as a document's would be; a term that
  // occurs twice gets wqf 2 (the k3 factor above).
  std::vector<Xapian::Query> terms;
  try {
    Xapian::TermGenerator tg = MakeTermGenerator();
    Xapian::Document scratch;
    tg.set_document(scratch);
    tg.index_text_without_positions(query);
    for (auto it = scratch.termlist_begin(); it != scratch.termlist_end(); ++it) {
      terms.emplace_back(*it, it.get_wdf());
    }
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "lexical index " + dir_ + ": query");
  }
  if (terms.empty()) return hits;
  Xapian::Query q(Xapian::Query::OP_OR, terms.begin(), terms.end());
  if (!filters.empty()) {
    std::vector<Xapian::Query> per_field;
    for (const auto& [name, values] : filters) {
      std::vector<Xapian::Query> alternatives;
      alternatives.reserve(values.size());
      for (const std::string& v : values) alternatives.emplace_back(FieldTerm(name, v));
      per_field.emplace_back(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end());
    }
    // OP_FILTER: the filter restricts the matches but adds nothing to scores.
    q = Xapian::Query(Xapian::Query::OP_FILTER, q,
                      Xapian::Query(Xapian::Query::OP_AND, per_field.begin(), per_field.end()));
  }
  return impl_->WithReader<std::vector<LexicalHit>>(
      "lexical index " + dir_ + ": search", [&](Xapian::Database& db) {
        Xapian::Enquire enquire(db);
        enquire.set_query(q);
        enquire.set_weighting_scheme(Xapian::BM25Weight(kK1, kK2, kK3, kB, kMinNormLen));
        Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(k));
        std::vector<LexicalHit> out;
        out.reserve(mset.size());
        for (auto it = mset.begin(); it != mset.end(); ++it) {
          out.push_back({it.get_document().get_data(), it.get_weight()});
        }
        return out;
      });
}

StatusOr<size_t> LexicalIndex::Count() const {
  return impl_->WithReader<size_t>("lexical index " + dir_ + ": count",
                                   [](Xapian::Database& db) { return size_t{db.get_doccount()}; });
}

}  // namespace sagebox::retrieval
