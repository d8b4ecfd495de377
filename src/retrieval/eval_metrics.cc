#include "retrieval/eval_metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <utility>

namespace sagebox::retrieval {
namespace {

std::string Where(std::string_view name, size_t line) {
  return std::string(name) + ":" + std::to_string(line);
}

// Calls fn(line_number, line) for each line of `content` (without "\n" or a
// trailing "\r"), stopping at the first error.
Status ForEachLine(std::string_view content,
                   const std::function<Status(size_t, std::string_view)>& fn) {
  size_t number = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    RETURN_IF_ERROR(fn(++number, line));
    pos = end + 1;
  }
  return Status::Ok();
}

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

// Splits on tabs when the line has one (BEIR's TSV, where ids may hold
// spaces), else on runs of spaces (TREC qrels, cranqrel).
std::vector<std::string_view> SplitColumns(std::string_view line) {
  std::vector<std::string_view> cols;
  if (line.find('\t') != std::string_view::npos) {
    size_t pos = 0;
    while (true) {
      size_t end = line.find('\t', pos);
      cols.push_back(line.substr(pos, end == std::string_view::npos ? end : end - pos));
      if (end == std::string_view::npos) break;
      pos = end + 1;
    }
    for (auto& c : cols) {
      while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
      while (!c.empty() && c.back() == ' ') c.remove_suffix(1);
    }
    return cols;
  }
  size_t pos = 0;
  while (pos < line.size()) {
    pos = line.find_first_not_of(' ', pos);
    if (pos == std::string_view::npos) break;
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    cols.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return cols;
}

bool ParseInt(std::string_view s, int* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return !s.empty() && ec == std::errc() && ptr == end;
}

// The run's first k distinct documents.
std::vector<const std::string*> TopK(const std::vector<std::string>& ranked, int k) {
  std::vector<const std::string*> top;
  std::unordered_set<std::string_view> seen;
  for (const std::string& id : ranked) {
    if (static_cast<int>(top.size()) >= k) break;
    if (seen.insert(id).second) top.push_back(&id);
  }
  return top;
}

int Gain(const std::map<std::string, int>& judged, const std::string& id) {
  auto it = judged.find(id);
  return it == judged.end() ? 0 : std::max(it->second, 0);
}

size_t RelevantCount(const std::map<std::string, int>& judged) {
  return static_cast<size_t>(
      std::count_if(judged.begin(), judged.end(), [](const auto& j) { return j.second > 0; }));
}

}  // namespace

StatusOr<std::vector<EvalQuery>> ParseBeirQueries(std::string_view content, std::string_view name) {
  std::vector<EvalQuery> queries;
  std::map<std::string, size_t> first_line;
  Status st = ForEachLine(content, [&](size_t number, std::string_view line) -> Status {
    if (IsBlank(line)) return Status::Ok();
    // nlohmann's parse errors are exceptions; they stop here, at the API edge.
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      return BadInput(Where(name, number) + ": expected one JSON object per line, byte " +
                      std::to_string(e.byte) + " is wrong");
    } catch (const nlohmann::json::exception& e) {
      // A number too large for a double is out_of_range, not parse_error.
      return BadInput(Where(name, number) + ": expected one JSON object per line: " + e.what());
    }
    if (!j.is_object()) {
      return BadInput(Where(name, number) + ": expected a JSON object, got " + j.type_name());
    }
    EvalQuery q;
    auto id = j.find("_id");
    if (id == j.end()) return BadInput(Where(name, number) + ": missing \"_id\"");
    if (id->is_string()) {
      q.id = id->get<std::string>();
    } else if (id->is_number_integer()) {
      q.id = id->dump();  // BEIR writes ids as strings; some exports use numbers
    } else {
      return BadInput(Where(name, number) + ": \"_id\" must be a string, got " + id->type_name());
    }
    if (q.id.empty()) return BadInput(Where(name, number) + ": \"_id\" is empty");
    auto text = j.find("text");
    if (text == j.end()) return BadInput(Where(name, number) + ": missing \"text\"");
    if (!text->is_string()) {
      return BadInput(Where(name, number) + ": \"text\" must be a string, got " +
                      text->type_name());
    }
    q.text = text->get<std::string>();
    auto [it, fresh] = first_line.emplace(q.id, number);
    if (!fresh) {
      return BadInput(Where(name, number) + ": query \"" + q.id + "\" already defined on line " +
                      std::to_string(it->second));
    }
    queries.push_back(std::move(q));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return queries;
}

StatusOr<std::vector<EvalQuery>> ReadBeirQueries(Env* env, const std::string& path) {
  std::string content;
  RETURN_IF_ERROR(env->ReadFileToString(path, &content));
  return ParseBeirQueries(content, path);
}

StatusOr<Qrels> ParseQrels(std::string_view content, std::string_view name) {
  Qrels qrels;
  std::map<std::pair<std::string, std::string>, size_t> first_line;
  Status st = ForEachLine(content, [&](size_t number, std::string_view line) -> Status {
    if (IsBlank(line)) return Status::Ok();
    std::vector<std::string_view> cols = SplitColumns(line);
    if (cols.size() != 3 && cols.size() != 4) {
      return BadInput(Where(name, number) +
                      ": expected 3 columns (query-id corpus-id score) or 4 (TREC: query-id "
                      "iteration corpus-id score), got " +
                      std::to_string(cols.size()));
    }
    std::string_view query = cols[0];
    std::string_view doc = cols.size() == 3 ? cols[1] : cols[2];
    int score = 0;
    if (!ParseInt(cols.back(), &score)) {
      if (number == 1) return Status::Ok();  // the header, e.g. "query-id corpus-id score"
      return BadInput(Where(name, number) + ": score \"" + std::string(cols.back()) +
                      "\" is not an integer");
    }
    if (query.empty() || doc.empty()) {
      return BadInput(Where(name, number) + ": empty query or corpus id");
    }
    auto key = std::make_pair(std::string(query), std::string(doc));
    auto [it, fresh] = first_line.emplace(key, number);
    if (!fresh) {
      return BadInput(Where(name, number) + ": query \"" + key.first + "\" document \"" +
                      key.second + "\" already judged on line " + std::to_string(it->second));
    }
    qrels[key.first][key.second] = score;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return qrels;
}

StatusOr<Qrels> ReadQrels(Env* env, const std::string& path) {
  std::string content;
  RETURN_IF_ERROR(env->ReadFileToString(path, &content));
  return ParseQrels(content, path);
}

double NdcgAtK(const std::vector<std::string>& ranked, const std::map<std::string, int>& judged,
               int k) {
  if (k <= 0) return 0;
  double dcg = 0;
  std::vector<const std::string*> top = TopK(ranked, k);
  for (size_t i = 0; i < top.size(); ++i) {
    // Rank r = i + 1 is discounted by log2(r + 1) (trec_eval 9.x m_ndcg_cut.c).
    dcg += Gain(judged, *top[i]) / std::log2(static_cast<double>(i) + 2.0);
  }
  std::vector<int> ideal;
  for (const auto& [doc, score] : judged) {
    if (score > 0) ideal.push_back(score);
  }
  std::sort(ideal.begin(), ideal.end(), std::greater<>());
  double idcg = 0;
  for (size_t i = 0; i < ideal.size() && i < static_cast<size_t>(k); ++i) {
    idcg += ideal[i] / std::log2(static_cast<double>(i) + 2.0);
  }
  return idcg > 0 ? dcg / idcg : 0;
}

double RecallAtK(const std::vector<std::string>& ranked, const std::map<std::string, int>& judged,
                 int k) {
  size_t relevant = RelevantCount(judged);
  if (relevant == 0 || k <= 0) return 0;
  size_t found = 0;
  for (const std::string* id : TopK(ranked, k)) {
    if (Gain(judged, *id) > 0) ++found;
  }
  return static_cast<double>(found) / static_cast<double>(relevant);
}

double ReciprocalRankAtK(const std::vector<std::string>& ranked,
                         const std::map<std::string, int>& judged, int k) {
  std::vector<const std::string*> top = TopK(ranked, k);
  for (size_t i = 0; i < top.size(); ++i) {
    if (Gain(judged, *top[i]) > 0) return 1.0 / static_cast<double>(i + 1);
  }
  return 0;
}

EvalSummary Evaluate(const Qrels& qrels, const Runs& runs, EvalCutoffs cutoffs) {
  EvalSummary s;
  static const std::vector<std::string> kEmpty;
  for (const auto& [query, judged] : qrels) {
    if (RelevantCount(judged) == 0) continue;
    auto run = runs.find(query);
    const std::vector<std::string>& ranked = run == runs.end() ? kEmpty : run->second;
    s.ndcg += NdcgAtK(ranked, judged, cutoffs.ndcg);
    s.recall += RecallAtK(ranked, judged, cutoffs.recall);
    s.mrr += ReciprocalRankAtK(ranked, judged, cutoffs.mrr);
    ++s.queries;
  }
  if (s.queries > 0) {
    s.ndcg /= s.queries;
    s.recall /= s.queries;
    s.mrr /= s.queries;
  }
  return s;
}

}  // namespace sagebox::retrieval
