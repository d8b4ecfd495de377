#include "rag/ask/ask.h"

#include <chrono>

#include "rag/extractive.h"
#include "rag/prompt.h"
#include "rag/question_log.h"

namespace sagebox::rag {

namespace {

bool Blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

}  // namespace

StatusOr<AskResult> Ask(db::Database& db, const retrieval::KnowledgeBase& kb,
                        const AskRequest& request) {
  Searcher searcher;
  searcher.index = kb.name();
  searcher.has_embedder = kb.has_embedder();
  searcher.search = [&kb](const std::string& q, const retrieval::SearchOptions& o) {
    return kb.Search(q, o);
  };
  return Ask(db, searcher, request);
}

StatusOr<AskResult> Ask(db::Database& db, const Searcher& searcher, const AskRequest& request) {
  if (Blank(request.question)) return InvalidArgument("question: expected some text");
  if (request.k < 1) {
    return InvalidArgument("k = " + std::to_string(request.k) + ": expected at least 1");
  }
  retrieval::SearchMode mode = retrieval::SearchMode::kBm25;
  if (request.mode == "auto") {
    mode = searcher.has_embedder ? retrieval::SearchMode::kHybrid : retrieval::SearchMode::kBm25;
  } else {
    ASSIGN_OR_RETURN(mode, retrieval::ParseSearchMode(request.mode));
  }
  ASSIGN_OR_RETURN(const retrieval::FusionMethod fusion,
                   retrieval::ParseFusionMethod(request.fusion));
  const std::string tmpl =
      request.prompt_template.empty() ? std::string(kArticleTemplate) : request.prompt_template;
  RETURN_IF_ERROR(ValidateTemplate(tmpl));

  const auto start = std::chrono::steady_clock::now();
  const int64_t asked_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  retrieval::SearchOptions so;
  so.k = request.k;
  so.mode = mode;
  so.fusion = fusion;
  so.weights = request.weights;
  AskResult out;
  ASSIGN_OR_RETURN(out.sources, searcher.search(request.question, so));
  std::vector<std::string> passages;
  passages.reserve(out.sources.size());
  for (const auto& h : out.sources) passages.push_back(h.text);

  if (request.generator == nullptr) {
    ASSIGN_OR_RETURN(Answer a, ExtractiveAnswer(request.question, passages));
    out.answer = std::move(a.text);
    out.answers = {out.answer};
    out.provider = "extractive";
    out.cost_usd = "0";  // runs here, on no priced provider
  } else {
    ASSIGN_OR_RETURN(std::string prompt, RenderPrompt(tmpl, request.question, passages));
    ASSIGN_OR_RETURN(retrieval::Generation gen,
                     request.generator->Generate(prompt, request.params));
    out.answer = gen.text;
    out.answers = gen.texts.empty() ? std::vector<std::string>{gen.text} : gen.texts;
    out.provider = gen.provider.empty() ? request.generator->name() : gen.provider;
    // An external provider's price is not known to sagebox; null says so rather than 0.
  }
  out.latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  out.index = searcher.index;
  out.question = request.question;
  out.mode = std::string(retrieval::SearchModeName(mode));

  QuestionRecord rec;
  rec.asked_unix_us = asked_us;
  rec.index = out.index;
  rec.question = out.question;
  rec.mode = out.mode;
  for (const auto& h : out.sources) rec.results.push_back({h.chunk_id, h.source, h.score});
  rec.answer = out.answer;
  rec.provider = out.provider;
  rec.latency_ms = out.latency_ms;
  rec.cost_usd = out.cost_usd;
  ASSIGN_OR_RETURN(out.id, LogQuestion(db, rec));
  return out;
}

nlohmann::json AskResultJson(const AskResult& r) {
  nlohmann::json j;
  j["id"] = r.id;
  j["index"] = r.index;
  j["question"] = r.question;
  j["answer"] = r.answer;
  if (r.answers.size() > 1) j["answers"] = r.answers;
  j["provider"] = r.provider;
  j["mode"] = r.mode;
  j["latency_ms"] = r.latency_ms;
  j["cost_usd"] = r.cost_usd.has_value() ? nlohmann::json(*r.cost_usd) : nlohmann::json(nullptr);
  j["sources"] = nlohmann::json::array();
  for (size_t i = 0; i < r.sources.size(); ++i) {
    const auto& h = r.sources[i];
    nlohmann::json s = {
        {"n", i + 1},         {"chunk_id", h.chunk_id},     {"doc_id", h.doc_id},
        {"source", h.source}, {"title", h.title},           {"format", h.format},
        {"page", h.page},     {"byte_begin", h.byte_begin}, {"byte_end", h.byte_end},
        {"score", h.score},   {"passage", h.text}};
    if (h.bm25_score.has_value()) s["bm25"] = {{"score", *h.bm25_score}, {"rank", h.bm25_rank}};
    if (h.dense_score.has_value()) s["dense"] = {{"score", *h.dense_score}, {"rank", h.dense_rank}};
    if (!h.beir_id.empty()) s["beir_id"] = h.beir_id;
    j["sources"].push_back(std::move(s));
  }
  return j;
}

}  // namespace sagebox::rag
