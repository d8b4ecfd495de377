#include "rag/opensearch/search.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>
#include <unordered_map>

#include "retrieval/fusion.h"

namespace sagebox::rag::opensearch {
namespace {

using nlohmann::json;
using Scores = std::unordered_map<std::string, double>;  // matched document -> score

// Lucene's BM25 k1 (BM25Similarity's default, also OpenSearch's).
constexpr double kK1 = 1.2;

struct Ctx {
  const IndexReader& reader;
  std::unordered_map<std::string, size_t> position;  // insertion order, for ties
};

Status Unsupported(std::string_view what) {
  return InvalidArgument(fmt::format("[{}] is not supported by sagebox's OpenSearch subset", what));
}

// A clause must be {"name": {...}} with one key.
StatusOr<std::pair<std::string, const json*>> OneKey(const json& q, std::string_view where) {
  if (!q.is_object() || q.size() != 1) {
    return InvalidArgument(
        fmt::format("[{}] expects an object with exactly one query, got {}", where, q.dump()));
  }
  return std::make_pair(q.begin().key(), &q.begin().value());
}

StatusOr<double> Boost(const json& obj, std::string_view clause) {
  if (!obj.is_object() || !obj.contains("boost")) return 1.0;
  if (!obj["boost"].is_number()) {
    return InvalidArgument(fmt::format("[{}] boost must be a number", clause));
  }
  return obj["boost"].get<double>();
}

// Only `allowed` keys may appear in a clause's options object.
Status OnlyKeys(const json& obj, std::string_view clause,
                std::initializer_list<std::string_view> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return InvalidArgument(fmt::format("[{}] does not support [{}]", clause, it.key()));
    }
  }
  return Status::Ok();
}

// "metadata.source.keyword" names the same values as "metadata.source" (the
// keyword sub-field OpenSearch's dynamic mapping adds to strings): values are
// kept under the parent's path.
std::string ExactField(const IndexReader& r, const std::string& field) {
  constexpr std::string_view kSuffix = ".keyword";
  if (field.ends_with(kSuffix)) {
    std::string parent = field.substr(0, field.size() - kSuffix.size());
    if (r.Kind(parent) != IndexReader::FieldKind::kNone) return parent;
  }
  return field;
}

StatusOr<std::vector<float>> ParseVector(const json& v, std::string_view clause) {
  if (!v.is_array() || v.empty()) {
    return InvalidArgument(fmt::format("[{}] expects a non-empty array of numbers", clause));
  }
  std::vector<float> out;
  out.reserve(v.size());
  for (const json& x : v) {
    if (!x.is_number()) {
      return InvalidArgument(fmt::format("[{}] expects numbers, got {}", clause, x.dump()));
    }
    out.push_back(x.get<float>());
  }
  return out;
}

StatusOr<Scores> Eval(Ctx& c, const json& q);

// The documents `q` matches (scores ignored: filter context).
StatusOr<std::vector<std::string>> MatchingDocs(Ctx& c, const json& q) {
  ASSIGN_OR_RETURN(Scores s, Eval(c, q));
  std::vector<std::string> out;
  out.reserve(s.size());
  for (auto& [id, score] : s) out.push_back(id);
  std::sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
    return c.position[a] < c.position[b];
  });
  return out;
}

StatusOr<Scores> EvalMatch(Ctx& c, const json& body) {
  ASSIGN_OR_RETURN(auto kv, OneKey(body, "match"));
  const std::string& field = kv.first;
  const json& v = *kv.second;
  json text = v;
  double boost = 1;
  if (v.is_object()) {
    RETURN_IF_ERROR(OnlyKeys(v, "match", {"query", "boost", "operator"}));
    if (!v.contains("query")) return InvalidArgument("[match] query of [" + field + "] is missing");
    text = v["query"];
    ASSIGN_OR_RETURN(boost, Boost(v, "match"));
    if (v.contains("operator") &&
        !(v["operator"].is_string() && (v["operator"] == "or" || v["operator"] == "OR"))) {
      return Unsupported("match.operator " + v["operator"].dump());
    }
  }
  if (!text.is_string() && !text.is_number() && !text.is_boolean()) {
    return InvalidArgument("[match] query of [" + field + "] must be text, got " + text.dump());
  }
  Scores out;
  switch (c.reader.Kind(field)) {
    case IndexReader::FieldKind::kNone:
      return out;  // OpenSearch: an unmapped field matches nothing
    case IndexReader::FieldKind::kKnnVector:
      return InvalidArgument("[match] field [" + field + "] is a knn_vector, not text");
    case IndexReader::FieldKind::kText: {
      ASSIGN_OR_RETURN(auto hits, c.reader.Match(field, text.is_string() ? text.get<std::string>()
                                                                         : text.dump()));
      for (const auto& h : hits) out[h.id] = h.score * boost;
      return out;
    }
    default: {
      // keyword and other exact fields: a match is an exact match (the
      // keyword analyzer keeps the value whole). Scored as a term.
      json term = {{"term", {{field, {{"value", text}, {"boost", boost}}}}}};
      return Eval(c, term);
    }
  }
}

StatusOr<Scores> EvalTerm(Ctx& c, const json& body) {
  ASSIGN_OR_RETURN(auto kv, OneKey(body, "term"));
  const std::string field = ExactField(c.reader, kv.first);
  json value = *kv.second;
  double boost = 1;
  if (value.is_object()) {
    RETURN_IF_ERROR(OnlyKeys(value, "term", {"value", "boost", "case_insensitive"}));
    if (value.contains("case_insensitive") && value["case_insensitive"] != false) {
      return Unsupported("term.case_insensitive");
    }
    ASSIGN_OR_RETURN(boost, Boost(value, "term"));
    if (!value.contains("value"))
      return InvalidArgument("[term] value of [" + field + "] is missing");
    value = json(value["value"]);
  }
  if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
    return InvalidArgument("[term] value of [" + field + "] must be a string, number or boolean");
  }
  if (c.reader.Kind(field) == IndexReader::FieldKind::kKnnVector) {
    return InvalidArgument("[term] field [" + field + "] is a knn_vector");
  }
  const std::string want = ExactValue(value);
  size_t with_field = 0;
  std::vector<std::string> hits;
  for (const std::string& doc : c.reader.Docs()) {
    auto values = c.reader.Values(doc, field);
    if (values.empty()) continue;
    ++with_field;
    if (std::find(values.begin(), values.end(), want) != values.end()) hits.push_back(doc);
  }
  // Lucene BM25Similarity for one term, tf = 1, on a field without norms
  // (keyword): idf * tf / (tf + k1) with idf = ln(1 + (N - n + 0.5) / (n + 0.5)).
  const double n = static_cast<double>(hits.size());
  const double idf = std::log(1 + (static_cast<double>(with_field) - n + 0.5) / (n + 0.5));
  Scores out;
  for (const std::string& doc : hits) out[doc] = boost * idf / (1 + kK1);
  return out;
}

StatusOr<Scores> EvalTerms(Ctx& c, const json& body) {
  if (!body.is_object()) return InvalidArgument("[terms] expects an object");
  ASSIGN_OR_RETURN(double boost, Boost(body, "terms"));
  std::string field;
  const json* values = nullptr;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() == "boost") continue;
    if (values != nullptr) return InvalidArgument("[terms] expects one field");
    field = ExactField(c.reader, it.key());
    values = &it.value();
  }
  if (values == nullptr || !values->is_array()) {
    return InvalidArgument("[terms] expects {\"field\": [values...]}");
  }
  std::set<std::string> want;
  for (const json& v : *values) {
    if (!v.is_string() && !v.is_number() && !v.is_boolean()) {
      return InvalidArgument("[terms] values of [" + field +
                             "] must be strings, numbers or booleans");
    }
    want.insert(ExactValue(v));
  }
  Scores out;
  for (const std::string& doc : c.reader.Docs()) {
    for (const std::string& v : c.reader.Values(doc, field)) {
      if (want.contains(v)) {
        out[doc] = boost;  // TermInSetQuery: constant score
        break;
      }
    }
  }
  return out;
}

StatusOr<Scores> EvalBool(Ctx& c, const json& body) {
  if (!body.is_object()) return InvalidArgument("[bool] expects an object");
  RETURN_IF_ERROR(OnlyKeys(
      body, "bool", {"must", "filter", "should", "must_not", "minimum_should_match", "boost"}));
  ASSIGN_OR_RETURN(double boost, Boost(body, "bool"));
  auto clauses = [&](const char* name) -> StatusOr<std::vector<Scores>> {
    std::vector<Scores> out;
    if (!body.contains(name)) return out;
    const json& v = body[name];
    if (v.is_array()) {
      for (const json& q : v) {
        ASSIGN_OR_RETURN(Scores s, Eval(c, q));
        out.push_back(std::move(s));
      }
    } else {
      ASSIGN_OR_RETURN(Scores s, Eval(c, v));
      out.push_back(std::move(s));
    }
    return out;
  };
  ASSIGN_OR_RETURN(auto must, clauses("must"));
  ASSIGN_OR_RETURN(auto filter, clauses("filter"));
  ASSIGN_OR_RETURN(auto should, clauses("should"));
  ASSIGN_OR_RETURN(auto must_not, clauses("must_not"));
  size_t msm = (must.empty() && filter.empty() && !should.empty()) ? 1 : 0;
  if (body.contains("minimum_should_match")) {
    const json& m = body["minimum_should_match"];
    if (m.is_number_integer() && m.get<int64_t>() >= 0) {
      msm = m.get<size_t>();
    } else if (m.is_string() && !m.get<std::string>().empty() &&
               std::all_of(m.get<std::string>().begin(), m.get<std::string>().end(), ::isdigit)) {
      msm = std::stoul(m.get<std::string>());
    } else {
      return Unsupported("bool.minimum_should_match " + m.dump());
    }
  }
  Scores out;
  for (const std::string& doc : c.reader.Docs()) {
    double score = 0;
    bool ok = true;
    for (const Scores& s : must) {
      auto it = s.find(doc);
      if (it == s.end()) {
        ok = false;
        break;
      }
      score += it->second;
    }
    if (!ok) continue;
    for (const Scores& s : filter) {
      if (!s.contains(doc)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    for (const Scores& s : must_not) {
      if (s.contains(doc)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    size_t matched = 0;
    for (const Scores& s : should) {
      if (auto it = s.find(doc); it != s.end()) {
        ++matched;
        score += it->second;
      }
    }
    if (matched < msm) continue;
    out[doc] = score * boost;
  }
  return out;
}

StatusOr<Scores> EvalKnn(Ctx& c, const json& body) {
  ASSIGN_OR_RETURN(auto kv, OneKey(body, "knn"));
  const std::string& field = kv.first;
  const json& v = *kv.second;
  if (!v.is_object())
    return InvalidArgument("[knn] expects {\"" + field + "\": {\"vector\", \"k\"}}");
  RETURN_IF_ERROR(OnlyKeys(v, "knn", {"vector", "k", "filter", "boost"}));
  if (c.reader.Kind(field) != IndexReader::FieldKind::kKnnVector) {
    return InvalidArgument("[knn] field [" + field + "] is not a knn_vector field");
  }
  if (!v.contains("vector")) return InvalidArgument("[knn] vector of [" + field + "] is missing");
  ASSIGN_OR_RETURN(std::vector<float> vec, ParseVector(v["vector"], "knn.vector"));
  if (vec.size() != c.reader.Dimension(field)) {
    return InvalidArgument(fmt::format("[knn] query vector has dimension {}, field [{}] has {}",
                                       vec.size(), field, c.reader.Dimension(field)));
  }
  if (!v.contains("k") || !v["k"].is_number_integer() || v["k"].get<int64_t>() <= 0) {
    return InvalidArgument("[knn] k of [" + field + "] must be a positive integer");
  }
  ASSIGN_OR_RETURN(double boost, Boost(v, "knn"));
  std::optional<std::vector<std::string>> allowed;
  if (v.contains("filter") && !v["filter"].is_null()) {
    ASSIGN_OR_RETURN(allowed, MatchingDocs(c, v["filter"]));
  }
  ASSIGN_OR_RETURN(auto hits,
                   c.reader.Knn(field, vec, v["k"].get<size_t>(), allowed ? &*allowed : nullptr));
  Scores out;
  for (auto& [id, score] : hits) out[id] = score * boost;
  return out;
}

double Dot(std::span<const float> a, std::span<const float> b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// The k-NN plugin's scoring functions (KNNScoringSpace.java, KNNScoringUtil.java).
enum class ScriptFn { kL2Squared, kL1, kLInf, kCosine, kInnerProduct };

double ScriptDistance(ScriptFn fn, std::span<const float> q, std::span<const float> v) {
  double d = 0;
  switch (fn) {
    case ScriptFn::kL2Squared:
      for (size_t i = 0; i < q.size(); ++i) d += (static_cast<double>(q[i]) - v[i]) * (q[i] - v[i]);
      return d;
    case ScriptFn::kL1:
      for (size_t i = 0; i < q.size(); ++i) d += std::fabs(static_cast<double>(q[i]) - v[i]);
      return d;
    case ScriptFn::kLInf:
      for (size_t i = 0; i < q.size(); ++i)
        d = std::max(d, std::fabs(static_cast<double>(q[i]) - v[i]));
      return d;
    case ScriptFn::kCosine: {
      const double nq = Dot(q, q);
      const double nv = Dot(v, v);
      return nq == 0 || nv == 0 ? 0 : Dot(q, v) / std::sqrt(nq * nv);
    }
    case ScriptFn::kInnerProduct:
      return Dot(q, v);
  }
  return 0;
}

// knn_score's score for a space type (KNNScoringSpace): 1/(1+d) for the
// distances, 1 + cos for cosinesimil, and for innerproduct the k-NN query's
// normalisation of -ip (KNNWeight.normalizeScore).
double KnnScriptScore(ScriptFn fn, double d) {
  switch (fn) {
    case ScriptFn::kCosine:
      return 1 + d;
    case ScriptFn::kInnerProduct:
      return retrieval::SpaceScore(retrieval::VectorSpace::kInnerProduct, -d);
    default:
      return 1 / (1 + d);
  }
}

struct ScriptPlan {
  std::string field;
  ScriptFn fn = ScriptFn::kL2Squared;
  // Painless only: the expression is 1/(1 + f) (true) or 1 + f (false).
  bool painless = false;
  bool reciprocal = false;
};

// LangChain's painless_scripting sources (opensearch_vector_search.py,
// __get_painless_scripting_source): "1/(1.0 + l2Squared(params.query_value,
// doc['F']))", the same with l1Norm, and "(1.0 + cosineSimilarity(...))";
// also OpenSearch's documented "1.0 + cosineSimilarity(params.query_value,
// doc[params.field])". Nothing else of Painless is interpreted.
StatusOr<ScriptPlan> ParsePainless(const std::string& source, const json& params) {
  std::string s;
  for (char ch : source) {
    if (!std::isspace(static_cast<unsigned char>(ch))) s.push_back(ch);
  }
  static const std::regex kRecip(
      R"(^1(?:\.0)?/\(1(?:\.0)?\+(l2Squared|l1Norm|cosineSimilarity)\(params\.query_value,doc\[(?:'([^']+)'|params\.field)\]\)\)$)");
  static const std::regex kPlus(
      R"(^(\(?)1(?:\.0)?\+(l2Squared|l1Norm|cosineSimilarity)\(params\.query_value,doc\[(?:'([^']+)'|params\.field)\]\)(\)?)$)");
  std::smatch m;
  ScriptPlan p;
  p.painless = true;
  std::string fn;
  std::string quoted;
  if (std::regex_match(s, m, kRecip)) {
    p.reciprocal = true;
    fn = m[1];
    quoted = m[2];
  } else if (std::regex_match(s, m, kPlus) && m[1].length() == m[4].length()) {
    fn = m[2];
    quoted = m[3];
  } else {
    return Unsupported("script_score.script.source \"" + source +
                       "\" (Painless: only LangChain's l2Squared/l1Norm/cosineSimilarity forms)");
  }
  p.fn = fn == "l2Squared" ? ScriptFn::kL2Squared
         : fn == "l1Norm"  ? ScriptFn::kL1
                           : ScriptFn::kCosine;
  if (!quoted.empty()) {
    p.field = quoted;
  } else if (params.contains("field") && params["field"].is_string()) {
    p.field = params["field"].get<std::string>();
  } else {
    return InvalidArgument(
        "[script_score] script uses doc[params.field] but params.field is missing");
  }
  return p;
}

StatusOr<Scores> EvalScriptScore(Ctx& c, const json& body) {
  if (!body.is_object()) return InvalidArgument("[script_score] expects an object");
  RETURN_IF_ERROR(OnlyKeys(body, "script_score", {"query", "script", "boost", "min_score"}));
  if (!body.contains("script") || !body["script"].is_object()) {
    return InvalidArgument("[script_score] script is missing");
  }
  const json& script = body["script"];
  RETURN_IF_ERROR(OnlyKeys(script, "script_score.script", {"source", "lang", "params"}));
  const json params = script.value("params", json::object());
  if (!params.is_object()) return InvalidArgument("[script_score] script.params must be an object");
  if (!script.contains("source") || !script["source"].is_string()) {
    return InvalidArgument("[script_score] script.source must be a string");
  }
  const std::string source = script["source"].get<std::string>();
  const std::string lang = script.value("lang", std::string("painless"));
  ScriptPlan plan;
  if (lang == "knn") {
    if (source != "knn_score") return Unsupported("script lang knn source \"" + source + "\"");
    if (!params.contains("field") || !params["field"].is_string()) {
      return InvalidArgument("[knn_score] params.field is missing");
    }
    plan.field = params["field"].get<std::string>();
    if (!params.contains("space_type") || !params["space_type"].is_string()) {
      return InvalidArgument("[knn_score] params.space_type is missing");
    }
    const std::string space = params["space_type"].get<std::string>();
    if (space == "l2") {
      plan.fn = ScriptFn::kL2Squared;
    } else if (space == "l1") {
      plan.fn = ScriptFn::kL1;
    } else if (space == "linf") {
      plan.fn = ScriptFn::kLInf;
    } else if (space == "cosinesimil") {
      plan.fn = ScriptFn::kCosine;
    } else if (space == "innerproduct") {
      plan.fn = ScriptFn::kInnerProduct;
    } else {
      return Unsupported("knn_score space_type \"" + space + "\"");
    }
  } else if (lang == "painless") {
    ASSIGN_OR_RETURN(plan, ParsePainless(source, params));
  } else {
    return Unsupported("script lang \"" + lang + "\"");
  }
  if (c.reader.Kind(plan.field) != IndexReader::FieldKind::kKnnVector) {
    return InvalidArgument("[script_score] field [" + plan.field + "] is not a knn_vector field");
  }
  if (!params.contains("query_value"))
    return InvalidArgument("[script_score] params.query_value is missing");
  ASSIGN_OR_RETURN(std::vector<float> q, ParseVector(params["query_value"], "params.query_value"));
  if (q.size() != c.reader.Dimension(plan.field)) {
    return InvalidArgument(
        fmt::format("[script_score] query_value has dimension {}, field [{}] has {}", q.size(),
                    plan.field, c.reader.Dimension(plan.field)));
  }
  if (plan.fn == ScriptFn::kCosine && Dot(q, q) == 0) {
    return InvalidArgument("[script_score] a zero query_value has no cosine similarity");
  }
  ASSIGN_OR_RETURN(double boost, Boost(body, "script_score"));
  std::optional<double> min_score;
  if (body.contains("min_score")) {
    if (!body["min_score"].is_number())
      return InvalidArgument("[script_score] min_score must be a number");
    min_score = body["min_score"].get<double>();
  }
  Scores inner;
  if (body.contains("query")) {
    ASSIGN_OR_RETURN(inner, Eval(c, body["query"]));
  } else {
    for (const std::string& doc : c.reader.Docs()) inner[doc] = 1;
  }
  Scores out;
  for (auto& [doc, unused] : inner) {
    auto v = c.reader.Vector(doc, plan.field);
    if (!v) continue;  // documents without the vector are not scored
    const double d = ScriptDistance(plan.fn, q, *v);
    double score = 0;
    if (plan.painless) {
      score = plan.reciprocal ? 1 / (1 + d) : 1 + d;
    } else {
      score = KnnScriptScore(plan.fn, d);
    }
    score *= boost;
    if (min_score && score < *min_score) continue;
    out[doc] = score;
  }
  return out;
}

StatusOr<Scores> Eval(Ctx& c, const json& q) {
  ASSIGN_OR_RETURN(auto kv, OneKey(q, "query"));
  const std::string& name = kv.first;
  const json& body = *kv.second;
  if (name == "match_all") {
    ASSIGN_OR_RETURN(double boost, Boost(body, "match_all"));
    Scores out;
    for (const std::string& doc : c.reader.Docs()) out[doc] = boost;
    return out;
  }
  if (name == "match_none") return Scores{};
  if (name == "match") return EvalMatch(c, body);
  if (name == "term") return EvalTerm(c, body);
  if (name == "terms") return EvalTerms(c, body);
  if (name == "bool") return EvalBool(c, body);
  if (name == "knn") return EvalKnn(c, body);
  if (name == "script_score") return EvalScriptScore(c, body);
  if (name == "ids") {
    if (!body.is_object() || !body.contains("values") || !body["values"].is_array()) {
      return InvalidArgument("[ids] expects {\"values\": [...]}");
    }
    std::set<std::string> want;
    for (const json& v : body["values"])
      want.insert(v.is_string() ? v.get<std::string>() : v.dump());
    Scores out;
    for (const std::string& doc : c.reader.Docs()) {
      if (want.contains(doc)) out[doc] = 1;
    }
    return out;
  }
  if (name == "exists") {
    if (!body.is_object() || !body.contains("field") || !body["field"].is_string()) {
      return InvalidArgument("[exists] expects {\"field\": \"name\"}");
    }
    const std::string field = ExactField(c.reader, body["field"].get<std::string>());
    Scores out;
    for (const std::string& doc : c.reader.Docs()) {
      if (!c.reader.Values(doc, field).empty() || c.reader.Vector(doc, field)) out[doc] = 1;
    }
    return out;
  }
  if (name == "hybrid") {
    return InvalidArgument(
        "[hybrid] must be the top-level query of a search with a search pipeline");
  }
  static const std::set<std::string, std::less<>> kKnown = {"range",
                                                            "prefix",
                                                            "wildcard",
                                                            "regexp",
                                                            "fuzzy",
                                                            "match_phrase",
                                                            "multi_match",
                                                            "query_string",
                                                            "simple_query_string",
                                                            "nested",
                                                            "function_score",
                                                            "dis_max",
                                                            "constant_score",
                                                            "match_phrase_prefix",
                                                            "neural",
                                                            "boosting"};
  if (kKnown.contains(name)) return Unsupported(name + " query");
  return InvalidArgument("unknown query [" + name + "]");
}

std::vector<std::pair<std::string, double>> Sorted(Ctx& c, const Scores& s) {
  std::vector<std::pair<std::string, double>> out(s.begin(), s.end());
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return c.position[a.first] < c.position[b.first];
  });
  return out;
}

Ctx MakeCtx(const IndexReader& reader) {
  Ctx c{reader, {}};
  const auto& docs = reader.Docs();
  for (size_t i = 0; i < docs.size(); ++i) c.position[docs[i]] = i;
  return c;
}

StatusOr<std::vector<std::string>> Patterns(const json& v, std::string_view key) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array())
    return InvalidArgument(fmt::format("[_source] {} must be a string or a list", key));
  for (const json& p : v) {
    if (!p.is_string()) return InvalidArgument(fmt::format("[_source] {} must hold strings", key));
    out.push_back(p.get<std::string>());
  }
  return out;
}

bool Glob(const std::string& pattern, const std::string& path) {
  return fnmatch(pattern.c_str(), path.c_str(), 0) == 0;
}

// Could `pattern` match `prefix` or something under it ("a.b" under "a")?
bool MayMatchBelow(const std::string& pattern, const std::string& prefix) {
  const std::string literal = pattern.substr(0, pattern.find('*'));
  const std::string dotted = prefix + ".";
  return literal.starts_with(dotted) || dotted.starts_with(literal);
}

json FilterObject(const json& obj, const std::string& prefix, const SourceFilter& f,
                  bool included) {
  json out = json::object();
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    bool excluded = false;
    for (const auto& p : f.excludes) excluded = excluded || Glob(p, path);
    if (excluded) continue;
    bool in = included || f.includes.empty();
    for (const auto& p : f.includes) in = in || Glob(p, path);
    if (it.value().is_object()) {
      bool below = in;
      for (const auto& p : f.includes) below = below || MayMatchBelow(p, path);
      if (!below) continue;
      json sub = FilterObject(it.value(), path, f, in);
      if (in || !sub.empty()) out[it.key()] = std::move(sub);
    } else if (in) {
      out[it.key()] = it.value();
    }
  }
  return out;
}

void Flatten(const json& v, const std::string& path, const std::vector<std::string>& skip,
             std::vector<std::pair<std::string, std::string>>* out) {
  if (std::find(skip.begin(), skip.end(), path) != skip.end()) return;
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      Flatten(it.value(), path.empty() ? it.key() : path + "." + it.key(), skip, out);
    }
  } else if (v.is_array()) {
    for (const json& x : v) Flatten(x, path, skip, out);
  } else if (!v.is_null() && !path.empty()) {
    out->emplace_back(path, ExactValue(v));
  }
}

}  // namespace

std::string ExactValue(const json& scalar) {
  if (scalar.is_string()) return scalar.get<std::string>();
  if (scalar.is_number_float()) {
    // 3.0 and 3 name the same value (OpenSearch compares numbers, not text).
    const double d = scalar.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9e15) {
      return std::to_string(static_cast<int64_t>(d));
    }
  }
  return scalar.dump();
}

std::vector<std::pair<std::string, std::string>> FlattenValues(
    const json& source, const std::vector<std::string>& skip) {
  std::vector<std::pair<std::string, std::string>> out;
  Flatten(source, "", skip, &out);
  return out;
}

json FilterSource(const json& source, const SourceFilter& filter) {
  if (!filter.enabled) return nullptr;
  if (filter.includes.empty() && filter.excludes.empty()) return source;
  if (!source.is_object()) return source;
  return FilterObject(source, "", filter, false);
}

StatusOr<SearchRequest> ParseSearchRequest(const json& body) {
  SearchRequest r;
  if (body.is_null()) return r;
  if (!body.is_object()) return InvalidArgument("the search body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "query") {
      r.query = v;
    } else if (key == "size" || key == "from") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        return InvalidArgument("[" + key + "] must be a non-negative integer, got " + v.dump());
      }
      (key == "size" ? r.size : r.from) = v.get<size_t>();
    } else if (key == "min_score") {
      if (!v.is_number()) return InvalidArgument("[min_score] must be a number, got " + v.dump());
      r.min_score = v.get<double>();
    } else if (key == "_source") {
      if (v.is_boolean()) {
        r.source.enabled = v.get<bool>();
      } else if (v.is_object()) {
        for (auto s = v.begin(); s != v.end(); ++s) {
          if (s.key() == "includes" || s.key() == "include") {
            ASSIGN_OR_RETURN(r.source.includes, Patterns(s.value(), s.key()));
          } else if (s.key() == "excludes" || s.key() == "exclude") {
            ASSIGN_OR_RETURN(r.source.excludes, Patterns(s.value(), s.key()));
          } else {
            return InvalidArgument("[_source] unknown key [" + s.key() + "]");
          }
        }
      } else {
        ASSIGN_OR_RETURN(r.source.includes, Patterns(v, "_source"));
      }
    } else if (key == "track_total_hits") {
      // Totals are always exact here; true, false or a number all get them.
      if (!v.is_boolean() && !v.is_number_integer()) {
        return InvalidArgument("[track_total_hits] must be a boolean or an integer");
      }
    } else {
      static const std::set<std::string, std::less<>> kKnown = {"sort",
                                                                "aggs",
                                                                "aggregations",
                                                                "highlight",
                                                                "post_filter",
                                                                "search_after",
                                                                "collapse",
                                                                "rescore",
                                                                "suggest",
                                                                "script_fields",
                                                                "docvalue_fields",
                                                                "stored_fields",
                                                                "explain",
                                                                "fields",
                                                                "ext",
                                                                "timeout",
                                                                "terminate_after",
                                                                "version",
                                                                "seq_no_primary_term"};
      if (kKnown.contains(key)) return Unsupported(key);
      return InvalidArgument("unknown key [" + key + "] in the search body");
    }
  }
  return r;
}

StatusOr<Pipeline> ParsePipeline(const json& body) {
  if (!body.is_object()) return InvalidArgument("a search pipeline must be a JSON object");
  Pipeline p;
  bool found = false;
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    if (key == "description" || key == "version") continue;
    if (key != "phase_results_processors") {
      return Unsupported("search pipeline " + key);
    }
    if (!it.value().is_array()) return InvalidArgument("[phase_results_processors] must be a list");
    for (const json& proc : it.value()) {
      ASSIGN_OR_RETURN(auto kv, OneKey(proc, "phase_results_processors"));
      if (kv.first != "normalization-processor") return Unsupported("processor " + kv.first);
      if (found) return Unsupported("more than one normalization-processor");
      found = true;
      const json& np = *kv.second;
      if (!np.is_object()) return InvalidArgument("[normalization-processor] must be an object");
      RETURN_IF_ERROR(
          OnlyKeys(np, "normalization-processor",
                   {"normalization", "combination", "description", "tag", "ignore_failure"}));
      // Defaults are min_max and arithmetic_mean (OpenSearch's
      // normalization-processor documentation).
      const json norm = np.value("normalization", json::object());
      if (norm.value("technique", std::string("min_max")) != "min_max") {
        return Unsupported("normalization technique " + norm["technique"].dump());
      }
      const json comb = np.value("combination", json::object());
      if (comb.value("technique", std::string("arithmetic_mean")) != "arithmetic_mean") {
        return Unsupported("combination technique " + comb["technique"].dump());
      }
      if (comb.contains("parameters")) {
        const json& params = comb["parameters"];
        if (params.contains("weights")) {
          if (!params["weights"].is_array())
            return InvalidArgument("[weights] must be a list of numbers");
          for (const json& w : params["weights"]) {
            if (!w.is_number()) return InvalidArgument("[weights] must be a list of numbers");
            p.weights.push_back(w.get<double>());
          }
        }
      }
    }
  }
  if (!found) return Unsupported("a search pipeline without a normalization-processor");
  return p;
}

StatusOr<SearchResult> RunSearch(const IndexReader& reader, const SearchRequest& req,
                                 const Pipeline* pipeline) {
  Ctx c = MakeCtx(reader);
  std::vector<std::pair<std::string, double>> ranked;
  const bool hybrid =
      req.query.is_object() && req.query.size() == 1 && req.query.contains("hybrid");
  if (hybrid) {
    if (pipeline == nullptr) {
      return InvalidArgument(
          "[hybrid] needs a search pipeline with a normalization-processor (?search_pipeline=ID)");
    }
    const json& h = req.query["hybrid"];
    if (!h.is_object() || !h.contains("queries") || !h["queries"].is_array() ||
        h["queries"].empty() || h["queries"].size() > 5) {
      return InvalidArgument("[hybrid] expects {\"queries\": [1 to 5 queries]}");
    }
    RETURN_IF_ERROR(OnlyKeys(h, "hybrid", {"queries"}));
    if (!pipeline->weights.empty() && pipeline->weights.size() != h["queries"].size()) {
      return InvalidArgument(fmt::format("the search pipeline has {} weights for {} hybrid queries",
                                         pipeline->weights.size(), h["queries"].size()));
    }
    // Each sub-query contributes its top from+size (OpenSearch's hybrid query
    // collects that many per sub-query before normalisation).
    std::vector<retrieval::RankedList> lists;
    for (const json& q : h["queries"]) {
      ASSIGN_OR_RETURN(Scores s, Eval(c, q));
      auto sorted = Sorted(c, s);
      if (sorted.size() > req.from + req.size) sorted.resize(req.from + req.size);
      retrieval::RankedList l;
      for (auto& [id, score] : sorted) l.push_back({id, score});
      lists.push_back(std::move(l));
    }
    retrieval::MinMaxOptions mo;
    mo.weights = pipeline->weights;
    ASSIGN_OR_RETURN(auto fused, retrieval::FuseMinMax(lists, mo));
    for (auto& f : fused) ranked.emplace_back(f.id, f.score);
  } else {
    Scores s;
    if (req.query.is_null()) {
      for (const std::string& doc : reader.Docs()) s[doc] = 1;
    } else {
      ASSIGN_OR_RETURN(s, Eval(c, req.query));
    }
    ranked = Sorted(c, s);
  }
  SearchResult out;
  for (auto& [id, score] : ranked) {
    if (req.min_score && score < *req.min_score) continue;
    ++out.total;
    if (!out.max_score || score > *out.max_score) out.max_score = score;
    if (out.total > req.from && out.hits.size() < req.size) out.hits.push_back({id, score});
  }
  return out;
}

StatusOr<size_t> RunCount(const IndexReader& reader, const json& query) {
  if (query.is_null()) return reader.Docs().size();
  Ctx c = MakeCtx(reader);
  ASSIGN_OR_RETURN(Scores s, Eval(c, query));
  return s.size();
}

}  // namespace sagebox::rag::opensearch
