// question_log.h: every question `sagebox rag ask` (and later the REST API) answers,
// kept in the platform database (component "rag", table rag_questions) for the search
// module's analytics: the question, the chunks returned with their scores, the answer,
// the provider that wrote it, its latency and cost, and feedback given afterwards.
//
// Cost is exact decimal text in US dollars (database.h: money as TEXT holding a
// Decimal): "0" for the extractive answerer, which runs locally; NULL when the provider
// is external and its price is unknown to sagebox.
//
// Thread-safety: plain functions over a db::Database, which is safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "db/database.h"

namespace sagebox::rag {

// The migrations of component "rag".
std::vector<db::Migration> Migrations();

struct LoggedResult {
  std::string chunk_id;
  std::string source;
  double score = 0;
};

struct QuestionRecord {
  int64_t id = 0;             // assigned by LogQuestion
  int64_t asked_unix_us = 0;  // when the question arrived
  std::string index;
  std::string question;
  std::string mode;  // "bm25", "dense", "hybrid"
  std::vector<LoggedResult> results;
  std::string answer;
  std::string provider;  // "extractive", "sagemaker:…", "openai:…"
  double latency_ms = 0;
  std::optional<std::string> cost_usd;  // exact decimal text; nullopt = unknown
  std::optional<std::string> feedback;  // nullopt until given
};

// Appends `r` (its id and feedback are ignored) and returns the new id.
// InvalidArgument when cost_usd is not a decimal number or latency is negative;
// the database's errors.
StatusOr<int64_t> LogQuestion(db::Database& db, const QuestionRecord& r);

// Records feedback for a logged question: "up", "down", or "source:<chunk id>" (a
// source the user opened). InvalidArgument for anything else, NotFound for an unknown id.
Status SetFeedback(db::Database& db, int64_t id, const std::string& feedback);

// The latest `limit` questions (all indexes when `index` is empty), newest first.
// Corruption when a stored results column is not the JSON LogQuestion writes.
StatusOr<std::vector<QuestionRecord>> RecentQuestions(db::Database& db, const std::string& index,
                                                      int limit);

}  // namespace sagebox::rag
