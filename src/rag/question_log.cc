#include "rag/question_log.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/decimal.h"

namespace sagebox::rag {

std::vector<db::Migration> Migrations() {
  return {{"rag", 1, "question log",
           "CREATE TABLE rag_questions (\n"
           "  id {{id}},\n"
           "  asked_unix_us BIGINT NOT NULL,\n"
           "  index_name TEXT NOT NULL,\n"
           "  question TEXT NOT NULL,\n"
           "  mode TEXT NOT NULL,\n"
           "  results TEXT NOT NULL,\n"  // JSON: [{"chunk_id","source","score"}], best first
           "  answer TEXT NOT NULL,\n"
           "  provider TEXT NOT NULL,\n"
           "  latency_ms DOUBLE PRECISION NOT NULL,\n"
           "  cost_usd TEXT,\n"
           "  feedback TEXT);\n"
           "CREATE INDEX rag_questions_index ON rag_questions(index_name, asked_unix_us);\n"}};
}

StatusOr<int64_t> LogQuestion(db::Database& db, const QuestionRecord& r) {
  if (r.cost_usd.has_value()) {
    Decimal d;
    if (!Decimal::Parse(*r.cost_usd, &d)) {
      return InvalidArgument("cost \"" + *r.cost_usd + "\": expected a decimal number");
    }
  }
  if (!(r.latency_ms >= 0) || !std::isfinite(r.latency_ms)) {
    return InvalidArgument("latency " + std::to_string(r.latency_ms) + ": expected >= 0");
  }
  nlohmann::json results = nlohmann::json::array();
  for (const LoggedResult& x : r.results) {
    results.push_back({{"chunk_id", x.chunk_id}, {"source", x.source}, {"score", x.score}});
  }
  db::Value cost;
  if (r.cost_usd.has_value()) cost = *r.cost_usd;
  std::vector<db::Value> p{r.asked_unix_us, r.index,    r.question,   r.mode, results.dump(),
                           r.answer,        r.provider, r.latency_ms, cost};
  ASSIGN_OR_RETURN(auto row, db.Query("INSERT INTO rag_questions (asked_unix_us, index_name, "
                                      "question, mode, results, answer, provider, latency_ms, "
                                      "cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                      p));
  if (row.empty()) return Internal("INSERT … RETURNING id returned no row");
  return row.Int(0, 0);
}

Status SetFeedback(db::Database& db, int64_t id, const std::string& feedback) {
  const bool ok = feedback == "up" || feedback == "down" ||
                  (feedback.rfind("source:", 0) == 0 && feedback.size() > 7);
  if (!ok) {
    return InvalidArgument("feedback \"" + feedback + "\": expected up, down or source:<chunk id>");
  }
  std::vector<db::Value> p{feedback, id};
  ASSIGN_OR_RETURN(auto r, db.Query("UPDATE rag_questions SET feedback = ? WHERE id = ?", p));
  if (r.affected() == 0) return NotFound("no question " + std::to_string(id));
  return Status::Ok();
}

StatusOr<std::vector<QuestionRecord>> RecentQuestions(db::Database& db, const std::string& index,
                                                      int limit) {
  std::string sql =
      "SELECT id, asked_unix_us, index_name, question, mode, results, answer, provider, "
      "latency_ms, cost_usd, feedback FROM rag_questions";
  std::vector<db::Value> p;
  if (!index.empty()) {
    sql += " WHERE index_name = ?";
    p.emplace_back(index);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  p.emplace_back(static_cast<int64_t>(limit));
  ASSIGN_OR_RETURN(auto rows, db.Query(sql, p));
  std::vector<QuestionRecord> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    QuestionRecord q;
    q.id = rows.Int(i, 0);
    q.asked_unix_us = rows.Int(i, 1);
    q.index = rows.Text(i, 2);
    q.question = rows.Text(i, 3);
    q.mode = rows.Text(i, 4);
    auto j = nlohmann::json::parse(rows.Text(i, 5), nullptr, false);
    if (!j.is_array()) {
      return Corruption("rag_questions id " + std::to_string(q.id) +
                        ": results is not a JSON array");
    }
    for (const auto& x : j) {
      if (!x.is_object() || !x.contains("chunk_id") || !x["chunk_id"].is_string() ||
          !x.contains("score") || !x["score"].is_number()) {
        return Corruption("rag_questions id " + std::to_string(q.id) +
                          ": a result without chunk_id or score");
      }
      q.results.push_back(
          {x["chunk_id"].get<std::string>(), x.value("source", ""), x["score"].get<double>()});
    }
    q.answer = rows.Text(i, 6);
    q.provider = rows.Text(i, 7);
    q.latency_ms = rows.Double(i, 8);
    q.cost_usd = rows.OptText(i, 9);
    q.feedback = rows.OptText(i, 10);
    out.push_back(std::move(q));
  }
  return out;
}

}  // namespace sagebox::rag
