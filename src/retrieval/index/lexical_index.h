// lexical_index.h: the BM25 index of the retrieval core, on Xapian (glass
// backend) in a folder of its own.
//
// A record is one chunk: a string id unique in the index, the key of the
// document it came from (chunks are replaced and deleted a document at a
// time), a title and a text (both searched, as one field) and string metadata
// fields (e.g. "source", "format") usable as exact-match filters.
//
// Ranking is Okapi BM25 with k1 = 1.2, b = 0.75 over English-stemmed terms
// (Xapian's "english" stemmer, i.e. Snowball's Porter2). Queries are plain
// text: they go through the same tokeniser as the documents and become an OR
// of their terms, so no input is a syntax error ("what's the default
// instance type?" is five terms) and text without indexable terms ("?!")
// finds nothing. How the parameters map to Xapian's BM25Weight: lexical_index.cc.
//
// Visibility and durability: ReplaceDocument and DeleteDocument change the
// writer's pending state; Search and Count see only what Commit() has made
// durable. Destroying the index without Commit() discards pending changes
// (Xapian's own WritableDatabase would commit them), so a failed ingest that
// returns early leaves the index as it was.
//
// Thread-safety: every method may be called from any thread. Xapian allows
// one writer per folder (across processes: a second writer gets IoError) and
// any number of readers, each of which must reopen to see new commits; its
// objects are not thread-safe. Writes are serialised by a mutex; each Search
// or Count takes a reader from a small pool (opening one when none is free),
// reopens it at the latest commit, and returns it, so searches run in
// parallel with each other and with the writer.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace sagebox::retrieval {

struct LexicalRecord {
  std::string id;     // the chunk's id, unique in the index
  std::string title;  // searched with the text; may be empty
  std::string text;
  std::map<std::string, std::string> fields;  // filterable metadata: name -> value
};

struct LexicalHit {
  std::string id;  // LexicalRecord::id
  double score = 0;
};

// Field name -> accepted values. A record passes when, for every field named,
// its value is one of those listed (OR within a field, AND across fields).
using LexicalFilters = std::map<std::string, std::vector<std::string>>;

class LexicalIndex {
 public:
  enum class Mode {
    kRead,    // search only; the folder must hold an index
    kWrite,   // search and update; the folder must hold an index
    kCreate,  // search and update; creates the folder (one level) and index if missing
  };

  // Opens the index in `dir`. NotFound when the folder holds no index (kRead,
  // kWrite); IoError when another writer holds the folder's lock or the OS
  // refuses; Corruption when Xapian finds the files damaged.
  static StatusOr<std::unique_ptr<LexicalIndex>> Open(const std::string& dir, Mode mode);

  ~LexicalIndex();
  LexicalIndex(const LexicalIndex&) = delete;
  LexicalIndex& operator=(const LexicalIndex&) = delete;

  // Replaces every chunk of `doc_key` by `records` (an empty list deletes the
  // document) in one Xapian transaction. InvalidArgument (index unchanged) for
  // an empty key or id, an id repeated in `records`, or a field name that is
  // empty or holds '='; AlreadyExists (unchanged) when an id belongs to
  // another document; InvalidArgument when opened kRead. On a Xapian failure
  // (disk full) the transaction is cancelled, which in Xapian also discards
  // every change since the last Commit(): the status says so.
  Status ReplaceDocument(const std::string& doc_key, const std::vector<LexicalRecord>& records);

  // Removes every chunk of `doc_key`; OK if there were none. Errors as above.
  Status DeleteDocument(const std::string& doc_key);

  // Makes pending changes durable and visible to Search. IoError on failure.
  Status Commit();

  // Discards the changes made since the last Commit().
  Status Rollback();

  // The `k` best chunks for `query` that pass `filters`, best first (equal
  // scores: earlier-indexed first). Empty when the query has no indexable
  // terms or k <= 0. InvalidArgument for a filter field with no values;
  // IoError/Corruption when Xapian cannot read the index.
  StatusOr<std::vector<LexicalHit>> Search(const std::string& query, int k,
                                           const LexicalFilters& filters = {}) const;

  // Chunks in the last committed state. IoError/Corruption as Search.
  StatusOr<size_t> Count() const;

  const std::string& dir() const { return dir_; }

 private:
  struct Impl;
  LexicalIndex(std::string dir, std::unique_ptr<Impl> impl);

  std::string dir_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sagebox::retrieval
