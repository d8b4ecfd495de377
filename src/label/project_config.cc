// project_config.cc: a project's config from JSON and back (project.h).
//
// The JSON comes from a requester's file or an API body, so every field is checked for
// its type before it is read (nlohmann's get<>() throws on a wrong type) and every
// message names the field by its path ("requirements.answer_words.min").
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "label/project.h"

namespace sagebox::label {

namespace {

using nlohmann::json;

// Reads one config object, collecting the first error; `where` prefixes every message.
class Reader {
 public:
  explicit Reader(std::string_view where) : where_(where) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  void Fail(const std::string& field, const std::string& what) {
    if (status_.ok()) status_ = BadInput(where_ + ": " + field + ": " + what);
  }

  // Every key of `obj` must be one of `known`: a typo must not silently drop a rule.
  void OnlyKeys(const json& obj, const std::string& prefix,
                std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : obj.items()) {
      bool found = false;
      for (std::string_view k : known) found = found || k == key;
      if (!found) {
        std::string names;
        for (std::string_view k : known) names += (names.empty() ? "" : ", ") + std::string(k);
        Fail(prefix + key, "unknown key (expected one of " + names + ")");
      }
    }
  }

  void Int(const json& obj, const char* key, const std::string& prefix, int64_t lo, int64_t hi,
           int64_t* out) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    const std::string field = prefix + key;
    if (it->is_number_unsigned()) {
      const auto v = it->get<uint64_t>();
      if (v > static_cast<uint64_t>(hi)) {
        Fail(field, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                        ", got " + it->dump());
        return;
      }
      *out = static_cast<int64_t>(v);
    } else if (it->is_number_integer()) {
      *out = it->get<int64_t>();
    } else {
      Fail(field, "expected an integer, got " + TypeOf(*it));
      return;
    }
    if (*out < lo || *out > hi) {
      Fail(field, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                      ", got " + std::to_string(*out));
    }
  }

  void Int(const json& obj, const char* key, const std::string& prefix, int lo, int* out) {
    int64_t v = *out;
    Int(obj, key, prefix, lo, std::numeric_limits<int>::max(), &v);
    *out = static_cast<int>(v);
  }

  void Number(const json& obj, const char* key, const std::string& prefix, double lo, double hi,
              double* out) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    ReadNumber(*it, prefix + key, lo, hi, out);
  }

  void ReadNumber(const json& v, const std::string& field, double lo, double hi, double* out) {
    if (!v.is_number()) {
      Fail(field, "expected a number, got " + TypeOf(v));
      return;
    }
    const double d = v.get<double>();
    if (!(d >= lo && d <= hi)) {
      Fail(field, "expected a number from " + Num(lo) + " to " + Num(hi) + ", got " + v.dump());
      return;
    }
    *out = d;
  }

  void Bool(const json& obj, const char* key, const std::string& prefix, bool* out) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    if (!it->is_boolean()) {
      Fail(prefix + key, "expected true or false, got " + TypeOf(*it));
      return;
    }
    *out = it->get<bool>();
  }

  void String(const json& obj, const char* key, const std::string& prefix, std::string* out) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    if (!it->is_string()) {
      Fail(prefix + key, "expected a string, got " + TypeOf(*it));
      return;
    }
    *out = it->get<std::string>();
  }

  // An array of distinct non-empty strings.
  void Strings(const json& obj, const char* key, const std::string& prefix,
               std::vector<std::string>* out) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    const std::string field = prefix + key;
    if (!it->is_array()) {
      Fail(field, "expected an array of strings, got " + TypeOf(*it));
      return;
    }
    out->clear();
    std::set<std::string> seen;
    for (size_t i = 0; i < it->size(); ++i) {
      const json& s = (*it)[i];
      const std::string at = field + "[" + std::to_string(i) + "]";
      if (!s.is_string() || s.get_ref<const std::string&>().empty()) {
        Fail(at, "expected a non-empty string, got " + (s.is_string() ? "\"\"" : TypeOf(s)));
        return;
      }
      if (!seen.insert(s.get<std::string>()).second) {
        Fail(at, "'" + s.get<std::string>() + "' is listed twice");
        return;
      }
      out->push_back(s.get<std::string>());
    }
  }

  void Words(const json& obj, const char* key, const std::string& prefix, WordRange* out) {
    auto it = obj.find(key);
    if (it == obj.end()) return;
    const std::string field = prefix + key;
    if (!it->is_object()) {
      Fail(field, "expected an object {\"min\", \"max\"}, got " + TypeOf(*it));
      return;
    }
    OnlyKeys(*it, field + ".", {"min", "max"});
    Int(*it, "min", field + ".", 0, &out->min);
    Int(*it, "max", field + ".", 0, &out->max);
    if (ok() && out->max > 0 && out->min > out->max) {
      Fail(field, "min (" + std::to_string(out->min) + ") is above max (" +
                      std::to_string(out->max) + ")");
    }
  }

  static std::string TypeOf(const json& v) {
    if (v.is_string()) return "a string";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "the number " + v.dump();
    if (v.is_null()) return "null";
    if (v.is_array()) return "an array";
    return "an object";
  }

 private:
  // Bounds print as the requester would write them: "1", not "1.0".
  static std::string Num(double d) {
    if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<int64_t>(d));
    return json(d).dump();
  }

  std::string where_;
  Status status_;
};

void ReadRequirements(Reader& r, const json& j, Requirements* q) {
  const std::string p = "requirements.";
  if (!j.is_object()) {
    r.Fail("requirements", "expected an object, got " + Reader::TypeOf(j));
    return;
  }
  r.OnlyKeys(j, p,
             {"min_pairs", "max_pairs", "question_type_min_share", "answer_words", "question_words",
              "require_spans", "dimensions", "allow_ties", "require_rationale", "min_objects",
              "min_relationships", "caption_words", "require_setting", "min_activities"});
  r.Int(j, "min_pairs", p, 0, &q->min_pairs);
  r.Int(j, "max_pairs", p, 0, &q->max_pairs);
  if (auto it = j.find("question_type_min_share"); it != j.end()) {
    if (!it->is_object()) {
      r.Fail(p + "question_type_min_share",
             "expected an object of question type to share, e.g. {\"reasoning\": 0.3}, got " +
                 Reader::TypeOf(*it));
    } else {
      q->question_type_min_share.clear();
      for (const auto& [type, share] : it->items()) {
        double v = 0;
        std::string field = p;
        field += "question_type_min_share.";
        field += type;
        r.ReadNumber(share, field, 0, 1, &v);
        q->question_type_min_share.emplace_back(type, v);
      }
    }
  }
  r.Words(j, "answer_words", p, &q->answer_words);
  r.Words(j, "question_words", p, &q->question_words);
  r.Bool(j, "require_spans", p, &q->require_spans);
  r.Strings(j, "dimensions", p, &q->dimensions);
  r.Bool(j, "allow_ties", p, &q->allow_ties);
  r.Bool(j, "require_rationale", p, &q->require_rationale);
  r.Int(j, "min_objects", p, 0, &q->min_objects);
  r.Int(j, "min_relationships", p, 0, &q->min_relationships);
  r.Words(j, "caption_words", p, &q->caption_words);
  r.Bool(j, "require_setting", p, &q->require_setting);
  r.Int(j, "min_activities", p, 0, &q->min_activities);
}

json WordsJson(const WordRange& w) { return {{"min", w.min}, {"max", w.max}}; }

}  // namespace

Status ValidateProjectConfig(const ProjectConfig& c, std::string_view where) {
  const std::string w(where);
  auto bad = [&](const std::string& field, const std::string& what) {
    return BadInput(w + ": " + field + ": " + what);
  };
  if (c.overlap < 1) return bad("overlap", "expected at least 1 annotator per item");
  if (!(c.review_rate >= 0 && c.review_rate <= 1)) {
    return bad("review_rate", "expected a share from 0 to 1");
  }
  if (c.max_rework_rounds < 0) return bad("max_rework_rounds", "expected 0 or more");
  if (c.reservation_seconds <= 0) return bad("reservation_seconds", "expected more than 0");
  if (c.batch_size < 1) return bad("batch_size", "expected at least 1 item per batch");
  if (c.hourly_rate < Decimal()) return bad("hourly_rate", "expected 0 or more");
  if (c.responses == 1 || c.responses < 0) {
    return bad("responses", "expected 0 (any number) or at least 2 responses per item");
  }
  const Requirements& q = c.requirements;
  if (q.max_pairs > 0 && q.min_pairs > q.max_pairs) {
    return bad("requirements.min_pairs", "min_pairs (" + std::to_string(q.min_pairs) +
                                             ") is above max_pairs (" +
                                             std::to_string(q.max_pairs) + ")");
  }
  double sum = 0;
  for (const auto& [type, share] : q.question_type_min_share) {
    const std::string field = "requirements.question_type_min_share." + type;
    if (type.empty()) return bad(field, "expected a question type's name, got \"\"");
    if (!(share >= 0 && share <= 1)) return bad(field, "expected a share from 0 to 1");
    if (!c.question_types.empty()) {
      bool allowed = false;
      for (const std::string& t : c.question_types) allowed = allowed || t == type;
      if (!allowed) {
        return bad(field, "'" + type + "' is not one of the project's question_types");
      }
    }
    sum += share;
  }
  // A small tolerance: 0.1 + 0.2 + 0.7 is a little above 1 in binary.
  if (sum > 1 + 1e-9) {
    return bad("requirements.question_type_min_share",
               "the shares sum to " + nlohmann::json(sum).dump() + ", expected at most 1");
  }
  if (c.kind == Kind::kRanking && q.dimensions.empty()) {
    return bad("requirements.dimensions",
               "a ranking project needs at least one dimension, e.g. [\"helpfulness\"]");
  }
  return Status::Ok();
}

StatusOr<ProjectConfig> ParseProjectConfig(const nlohmann::json& j, std::string_view where) {
  Reader r(where);
  if (!j.is_object()) {
    return BadInput(std::string(where) + ": (config): expected a JSON object, got " +
                    Reader::TypeOf(j));
  }
  r.OnlyKeys(j, "",
             {"kind", "instructions", "label_attribute", "question_types", "responses", "overlap",
              "review_rate", "max_rework_rounds", "reservation_seconds", "batch_size",
              "hourly_rate", "requirements"});
  ProjectConfig c;
  if (auto it = j.find("kind"); it != j.end() && r.ok()) {
    if (!it->is_string()) {
      r.Fail("kind", "expected a string, got " + Reader::TypeOf(*it));
    } else {
      auto kind = ParseKind(it->get<std::string>());
      if (kind.ok()) {
        c.kind = *kind;
      } else {
        r.Fail("kind", kind.status().message());
      }
    }
  }
  r.String(j, "instructions", "", &c.instructions);
  r.String(j, "label_attribute", "", &c.label_attribute);
  r.Strings(j, "question_types", "", &c.question_types);
  r.Int(j, "responses", "", 0, &c.responses);
  r.Int(j, "overlap", "", 1, &c.overlap);
  r.Number(j, "review_rate", "", 0, 1, &c.review_rate);
  r.Int(j, "max_rework_rounds", "", 0, &c.max_rework_rounds);
  r.Int(j, "reservation_seconds", "", 1, std::numeric_limits<int64_t>::max(),
        &c.reservation_seconds);
  r.Int(j, "batch_size", "", 1, &c.batch_size);
  if (auto it = j.find("hourly_rate"); it != j.end() && r.ok()) {
    // A string is parsed digit for digit. A JSON number has already been read as a
    // double; its shortest round-trip text (what dump() writes) is the literal the
    // requester wrote for any rate of up to 15 significant digits.
    std::string text;
    if (it->is_string()) {
      text = it->get<std::string>();
    } else if (it->is_number()) {
      text = it->dump();
    }
    Decimal rate;
    if (text.empty() || !Decimal::Parse(text, &rate)) {
      r.Fail("hourly_rate", "expected a decimal amount in USD per hour such as \"18.50\", got " +
                                Reader::TypeOf(*it));
    } else if (rate < Decimal()) {
      r.Fail("hourly_rate", "expected 0 or more, got " + text);
    } else {
      c.hourly_rate = rate;
    }
  }
  if (auto it = j.find("requirements"); it != j.end() && r.ok()) {
    ReadRequirements(r, *it, &c.requirements);
  }
  if (!r.ok()) return r.status();
  RETURN_IF_ERROR(ValidateProjectConfig(c, where));
  return c;
}

nlohmann::json ProjectConfigJson(const ProjectConfig& c) {
  const Requirements& q = c.requirements;
  json shares = json::object();
  for (const auto& [type, share] : q.question_type_min_share) shares[type] = share;
  return {
      {"kind", std::string(KindName(c.kind))},
      {"instructions", c.instructions},
      {"label_attribute", c.label_attribute},
      {"question_types", c.question_types},
      {"responses", c.responses},
      {"overlap", c.overlap},
      {"review_rate", c.review_rate},
      {"max_rework_rounds", c.max_rework_rounds},
      {"reservation_seconds", c.reservation_seconds},
      {"batch_size", c.batch_size},
      // A string, so the exact decimal survives every JSON reader.
      {"hourly_rate", c.hourly_rate.ToString()},
      {"requirements",
       {
           {"min_pairs", q.min_pairs},
           {"max_pairs", q.max_pairs},
           {"question_type_min_share", shares},
           {"answer_words", WordsJson(q.answer_words)},
           {"question_words", WordsJson(q.question_words)},
           {"require_spans", q.require_spans},
           {"dimensions", q.dimensions},
           {"allow_ties", q.allow_ties},
           {"require_rationale", q.require_rationale},
           {"min_objects", q.min_objects},
           {"min_relationships", q.min_relationships},
           {"caption_words", WordsJson(q.caption_words)},
           {"require_setting", q.require_setting},
           {"min_activities", q.min_activities},
       }},
  };
}

}  // namespace sagebox::label
