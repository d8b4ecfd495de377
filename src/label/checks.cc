// checks.cc: the requirement checks of the four kinds (project.h CheckPayload).
//
// The payload is untrusted JSON from the network. nlohmann's get<>() throws on a wrong
// type, so every value's type is tested before it is read, and a wrong type becomes a
// "shape" failure with the value's path instead.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "core/json_type.h"
#include "label/project.h"

namespace sagebox::label {

namespace {

using nlohmann::json;

// Code points of UTF-8 text: every byte that is not a continuation byte (10xxxxxx)
// starts one. For valid UTF-8 this is Python's len(); invalid bytes still give a count.
int64_t CodePoints(std::string_view s) {
  int64_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Whitespace-separated tokens (ASCII whitespace, as Python's str.split() for ASCII text).
int CountWords(std::string_view s) {
  int n = 0;
  bool in_word = false;
  for (const char c : s) {
    const bool space = IsSpace(c);
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

// A number as a person writes it: shortest round-trip text, "3" rather than "3.0".
std::string Num(double d) {
  std::string s = json(d).dump();
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s;
}

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
std::string Key(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// An id's text: strings as they are, integers in decimal; nullopt for anything else.
std::optional<std::string> IdText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  return std::nullopt;
}

class Checker {
 public:
  std::vector<Failure> failures;

  void Add(std::string requirement, std::string message, std::string path) {
    failures.push_back({std::move(requirement), std::move(message), std::move(path)});
  }
  void Shape(const std::string& path, const std::string& expected, const json* got) {
    Add("shape", "expected " + expected + (got ? ", got " + JsonTypeName(*got) : ", it is missing"),
        path);
  }

  // obj[key] as an array: missing = empty (nullptr returned, no failure), wrong type =
  // a shape failure (nullptr).
  const json* Array(const json& obj, const char* key, const std::string& path) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    if (!it->is_array()) {
      Shape(Key(path, key), "an array", &*it);
      return nullptr;
    }
    return &*it;
  }

  // obj[key] as a string; missing or null = "" (no failure), wrong type = shape.
  std::optional<std::string> String(const json& obj, const char* key, const std::string& path) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::string();
    if (!it->is_string()) {
      Shape(Key(path, key), "a string", &*it);
      return std::nullopt;
    }
    return it->get<std::string>();
  }

  // A text the kind needs: a shape failure for a wrong type, "required" when empty or
  // only whitespace.
  std::optional<std::string> RequiredText(const json& obj, const char* key, const std::string& path,
                                          const std::string& what) {
    auto s = String(obj, key, path);
    if (s && CountWords(*s) == 0) {
      Add("required", what + " is empty", Key(path, key));
      return std::nullopt;
    }
    return s;
  }

  // A number that must be finite; nullopt (with a shape failure) otherwise.
  std::optional<double> Number(const json& obj, const char* key, const std::string& path) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number()) {
      Shape(Key(path, key), "a number", it == obj.end() ? nullptr : &*it);
      return std::nullopt;
    }
    return it->get<double>();
  }

  void Words(const std::string& requirement, const WordRange& range, const std::string& text,
             const std::string& what, const std::string& path) {
    if (range.min <= 0 && range.max <= 0) return;
    const int n = CountWords(text);
    if (n < range.min || (range.max > 0 && n > range.max)) {
      std::string want;
      if (range.max <= 0) {
        want = "at least " + std::to_string(range.min);
      } else if (range.min <= 0) {
        want = "at most " + std::to_string(range.max);
      } else {
        want = std::to_string(range.min) + " to " + std::to_string(range.max);
      }
      Add(requirement, what + " has " + std::to_string(n) + " words, expected " + want, path);
    }
  }

  void AtLeast(const std::string& requirement, size_t have, int want, const std::string& what,
               const std::string& path) {
    if (static_cast<int64_t>(have) < want) {
      Add(requirement,
          std::to_string(have) + " " + what + ", expected at least " + std::to_string(want), path);
    }
  }

  // Records `id` (at `path`) and reports a second use of it.
  bool UniqueId(std::set<std::string>* seen, const json& obj, const std::string& path,
                const std::string& what, std::string* id_out) {
    auto it = obj.find("id");
    std::optional<std::string> id;
    if (it != obj.end()) id = IdText(*it);
    if (!id || id->empty()) {
      Shape(Key(path, "id"), "a non-empty string or an integer", it == obj.end() ? nullptr : &*it);
      return false;
    }
    if (!seen->insert(*id).second) {
      Add("unique_ids", "two " + what + " have the id '" + *id + "'", Key(path, "id"));
      return false;
    }
    *id_out = *id;
    return true;
  }

  void SettingAndCaption(const Requirements& q, const json& p) {
    auto setting = String(p, "setting", "");
    if (setting && q.require_setting && CountWords(*setting) == 0) {
      Add("setting", "the setting is not described", "setting");
    }
    auto caption = RequiredText(p, "caption", "", "the caption");
    if (caption) Words("caption_words", q.caption_words, *caption, "the caption", "caption");
  }
};

void CheckQaPairs(const ProjectConfig& c, const ItemView& item, const json& p, Checker& k) {
  const Requirements& q = c.requirements;
  const int64_t passage = CodePoints(item.text);
  const json* pairs = k.Array(p, "qa_pairs", "");
  const size_t n = pairs ? pairs->size() : 0;
  k.AtLeast("min_pairs", n, q.min_pairs, "QA pairs", "qa_pairs");
  if (q.max_pairs > 0 && static_cast<int64_t>(n) > q.max_pairs) {
    k.Add("max_pairs",
          std::to_string(n) + " QA pairs, expected at most " + std::to_string(q.max_pairs),
          "qa_pairs");
  }
  std::set<std::string> ids;
  std::map<std::string, int> per_type;
  for (size_t i = 0; pairs && i < n; ++i) {
    const json& pair = (*pairs)[i];
    const std::string path = Index("qa_pairs", i);
    if (!pair.is_object()) {
      k.Shape(path, "an object {\"id\",\"question\",\"answer\",...}", &pair);
      continue;
    }
    std::string id;
    k.UniqueId(&ids, pair, path, "QA pairs", &id);
    if (auto question = k.RequiredText(pair, "question", path, "the question")) {
      k.Words("question_words", q.question_words, *question, "the question", Key(path, "question"));
    }
    if (auto answer = k.RequiredText(pair, "answer", path, "the answer")) {
      k.Words("answer_words", q.answer_words, *answer, "the answer", Key(path, "answer"));
    }
    if (auto type = k.String(pair, "question_type", path)) {
      if (!c.question_types.empty()) {
        bool allowed = false;
        for (const std::string& t : c.question_types) allowed = allowed || t == *type;
        if (!allowed) {
          std::string names;
          for (const std::string& t : c.question_types) names += (names.empty() ? "" : ", ") + t;
          k.Add("question_type",
                "question type '" + *type + "' is not one of the project's: " + names,
                Key(path, "question_type"));
        }
      }
      ++per_type[*type];
    }
    bool entire = false;
    if (auto it = pair.find("refs_entire_passage"); it != pair.end() && !it->is_null()) {
      if (it->is_boolean()) {
        entire = it->get<bool>();
      } else {
        k.Shape(Key(path, "refs_entire_passage"), "true or false", &*it);
      }
    }
    const json* spans = k.Array(pair, "spans", path);
    const size_t nspans = spans ? spans->size() : 0;
    for (size_t s = 0; s < nspans; ++s) {
      const json& span = (*spans)[s];
      const std::string at = Index(Key(path, "spans"), s);
      if (!span.is_object()) {
        k.Shape(at, "an object {\"start\",\"end\"}", &span);
        continue;
      }
      auto start = span.find("start");
      auto end = span.find("end");
      if (start == span.end() || !start->is_number_integer()) {
        k.Shape(Key(at, "start"), "an integer", start == span.end() ? nullptr : &*start);
        continue;
      }
      if (end == span.end() || !end->is_number_integer()) {
        k.Shape(Key(at, "end"), "an integer", end == span.end() ? nullptr : &*end);
        continue;
      }
      const auto b = start->get<int64_t>();
      const auto e = end->get<int64_t>();
      if (b < 0 || b >= e || e > passage) {
        k.Add("span_bounds",
              "span " + std::to_string(b) + ".." + std::to_string(e) +
                  " is not within the passage: expected 0 <= start < end <= " +
                  std::to_string(passage) + " (code points)",
              at);
      }
    }
    if (q.require_spans && nspans == 0 && !entire) {
      k.Add("spans",
            "the pair highlights no span and is not marked as referring to the entire "
            "passage",
            path);
    }
  }
  // The mix is a share of this submission's pairs; with no pairs min_pairs speaks.
  if (n > 0) {
    for (const auto& [type, share] : q.question_type_min_share) {
      const int have = per_type.count(type) ? per_type[type] : 0;
      // A count compare with a little slack: 0.07 * 100 is 7.000000000000001.
      if (static_cast<double>(have) + 1e-9 < share * static_cast<double>(n)) {
        k.Add("question_type_mix",
              std::to_string(have) + " of " + std::to_string(n) + " pairs are '" + type +
                  "', expected at least " + Num(std::round(share * 100 * 1e6) / 1e6) + "%",
              "qa_pairs");
      }
    }
  }
}

void CheckRanking(const ProjectConfig& c, const ItemView& item, const json& p, Checker& k) {
  const Requirements& q = c.requirements;
  // The item's response ids, when the item is known.
  std::set<std::string> responses;
  bool known = false;
  if (item.line && item.line->is_object()) {
    auto it = item.line->find("responses");
    if (it != item.line->end() && it->is_array()) {
      known = true;
      for (const json& r : *it) {
        if (!r.is_object()) continue;
        auto id = r.find("id");
        if (id == r.end()) continue;
        if (auto text = IdText(*id)) responses.insert(*text);
      }
    }
  }
  std::set<std::string> ranked;
  const json* rankings = k.Array(p, "rankings", "");
  for (size_t i = 0; rankings && i < rankings->size(); ++i) {
    const json& r = (*rankings)[i];
    const std::string path = Index("rankings", i);
    if (!r.is_object()) {
      k.Shape(path, "an object {\"dimension\",\"order\",\"ties\"}", &r);
      continue;
    }
    auto dim = k.String(r, "dimension", path);
    if (!dim) continue;
    bool wanted = false;
    for (const std::string& d : q.dimensions) wanted = wanted || d == *dim;
    if (!wanted) {
      k.Add("dimensions", "dimension '" + *dim + "' is not one of the project's",
            Key(path, "dimension"));
      continue;
    }
    if (!ranked.insert(*dim).second) {
      k.Add("dimensions", "dimension '" + *dim + "' is ranked twice", Key(path, "dimension"));
      continue;
    }
    // `order`: every response id once, best first.
    const std::string order_path = Key(path, "order");
    const json* order = k.Array(r, "order", path);
    std::map<std::string, size_t> position;
    bool order_ok = order != nullptr;
    for (size_t j = 0; order && j < order->size(); ++j) {
      auto id = IdText((*order)[j]);
      if (!id) {
        k.Shape(Index(order_path, j), "a response id", &(*order)[j]);
        order_ok = false;
        continue;
      }
      if (known && !responses.count(*id)) {
        k.Add("all_ranked", "'" + *id + "' is not one of the item's responses",
              Index(order_path, j));
        order_ok = false;
      } else if (!position.emplace(*id, j).second) {
        k.Add("all_ranked", "'" + *id + "' is ranked twice", Index(order_path, j));
        order_ok = false;
      }
    }
    if (known) {
      std::string missing;
      for (const std::string& id : responses) {
        if (!position.count(id)) missing += (missing.empty() ? "" : ", ") + id;
      }
      if (!missing.empty()) {
        k.Add("all_ranked", "dimension '" + *dim + "' does not rank " + missing, order_path);
      }
    } else if (position.size() < 2) {
      k.Add("all_ranked", "dimension '" + *dim + "' ranks fewer than 2 responses", order_path);
    }
    // `ties`: groups of adjacent ids of equal rank.
    const json* ties = k.Array(r, "ties", path);
    if (!ties || ties->empty()) continue;
    if (!q.allow_ties) {
      k.Add("ties", "ties are not allowed in this project: rank every response apart",
            Key(path, "ties"));
      continue;
    }
    std::set<std::string> tied;
    for (size_t g = 0; g < ties->size(); ++g) {
      const json& group = (*ties)[g];
      const std::string gpath = Index(Key(path, "ties"), g);
      if (!group.is_array() || group.size() < 2) {
        k.Shape(gpath, "an array of at least 2 response ids", &group);
        continue;
      }
      std::vector<size_t> at;
      bool good = true;
      for (size_t m = 0; m < group.size(); ++m) {
        auto id = IdText(group[m]);
        if (!id) {
          k.Shape(Index(gpath, m), "a response id", &group[m]);
          good = false;
          continue;
        }
        if (!tied.insert(*id).second) {
          k.Add("ties", "'" + *id + "' is in two tie groups (or twice in one)", Index(gpath, m));
          good = false;
          continue;
        }
        auto pos = position.find(*id);
        if (pos == position.end()) {
          if (order_ok) k.Add("ties", "'" + *id + "' is not in the order", Index(gpath, m));
          good = false;
          continue;
        }
        at.push_back(pos->second);
      }
      if (!good) continue;
      std::sort(at.begin(), at.end());
      if (at.back() - at.front() + 1 != at.size()) {
        k.Add("ties", "tied responses must stand next to each other in the order", gpath);
      }
    }
  }
  for (const std::string& d : q.dimensions) {
    if (!ranked.count(d)) k.Add("all_ranked", "dimension '" + d + "' is not ranked", "rankings");
  }
  if (!q.require_rationale) return;
  auto rationale = p.find("rationale");
  if (rationale != p.end() && !rationale->is_object() && !rationale->is_null()) {
    k.Shape("rationale", "an object {dimension: text}", &*rationale);
    return;
  }
  for (const std::string& d : q.dimensions) {
    const std::string path = "rationale." + d;
    const json* text = nullptr;
    if (rationale != p.end() && rationale->is_object()) {
      auto it = rationale->find(d);
      if (it != rationale->end()) text = &*it;
    }
    if (text && !text->is_string() && !text->is_null()) {
      k.Shape(path, "a string", text);
    } else if (!text || text->is_null() || CountWords(text->get_ref<const std::string&>()) == 0) {
      k.Add("rationale", "no rationale for dimension '" + d + "'", path);
    }
  }
}

void CheckImageCaption(const ProjectConfig& c, const json& p, Checker& k) {
  const Requirements& q = c.requirements;
  std::set<std::string> ids;
  const json* objects = k.Array(p, "objects", "");
  const size_t nobj = objects ? objects->size() : 0;
  for (size_t i = 0; i < nobj; ++i) {
    const json& o = (*objects)[i];
    const std::string path = Index("objects", i);
    if (!o.is_object()) {
      k.Shape(path, "an object {\"id\",\"x\",\"y\",\"name\",\"description\"}", &o);
      continue;
    }
    std::string id;
    k.UniqueId(&ids, o, path, "objects", &id);
    for (const char* axis : {"x", "y"}) {
      auto v = k.Number(o, axis, path);
      if (v && !(*v >= 0 && *v <= 1)) {
        k.Add("coordinates",
              std::string(axis) + " is " + Num(*v) + ", expected 0 to 1 (a share of the " +
                  (axis[0] == 'x' ? "width" : "height") + ")",
              Key(path, axis));
      }
    }
    k.RequiredText(o, "name", path, "the object's name");
    k.String(o, "description", path);
  }
  k.AtLeast("min_objects", nobj, q.min_objects, "objects", "objects");
  const json* rels = k.Array(p, "relationships", "");
  const size_t nrel = rels ? rels->size() : 0;
  for (size_t i = 0; i < nrel; ++i) {
    const json& r = (*rels)[i];
    const std::string path = Index("relationships", i);
    if (!r.is_object()) {
      k.Shape(path, "an object {\"subject\",\"object\",\"text\"}", &r);
      continue;
    }
    for (const char* end : {"subject", "object"}) {
      auto it = r.find(end);
      std::optional<std::string> id;
      if (it != r.end()) id = IdText(*it);
      if (!id) {
        k.Shape(Key(path, end), "an object id", it == r.end() ? nullptr : &*it);
      } else if (!ids.count(*id)) {
        k.Add("relationships", "the " + std::string(end) + " '" + *id + "' is not an object's id",
              Key(path, end));
      }
    }
    k.RequiredText(r, "text", path, "the relationship");
  }
  k.AtLeast("min_relationships", nrel, q.min_relationships, "relationships", "relationships");
  k.SettingAndCaption(q, p);
}

void CheckVideoCaption(const ProjectConfig& c, const ItemView& item, const json& p, Checker& k) {
  const Requirements& q = c.requirements;
  std::set<std::string> ids;
  const json* acts = k.Array(p, "activities", "");
  const size_t n = acts ? acts->size() : 0;
  const double duration = item.duration_seconds;
  for (size_t i = 0; i < n; ++i) {
    const json& a = (*acts)[i];
    const std::string path = Index("activities", i);
    if (!a.is_object()) {
      k.Shape(path, "an object {\"id\",\"start\",\"end\",\"text\"}", &a);
      continue;
    }
    std::string id;
    k.UniqueId(&ids, a, path, "activities", &id);
    auto start = k.Number(a, "start", path);
    auto end = k.Number(a, "end", path);
    if (start && end) {
      const bool within = duration > 0 ? *end <= duration : true;
      if (!(*start >= 0 && *start < *end && within)) {
        k.Add("time_bounds",
              "activity from " + Num(*start) + " s to " + Num(*end) +
                  " s: expected 0 <= start < end" +
                  (duration > 0 ? " <= " + Num(duration) + " (the duration)" : ""),
              path);
      }
    }
    k.RequiredText(a, "text", path, "the activity's description");
  }
  k.AtLeast("min_activities", n, q.min_activities, "activities", "activities");
  k.SettingAndCaption(q, p);
}

}  // namespace

std::vector<Failure> CheckPayload(const ProjectConfig& config, const ItemView& item,
                                  const nlohmann::json& payload) {
  Checker k;
  if (!payload.is_object()) {
    k.Shape("", "a JSON object (the " + std::string(KindName(config.kind)) + " payload)", &payload);
    return std::move(k.failures);
  }
  switch (config.kind) {
    case Kind::kQaPairs:
      CheckQaPairs(config, item, payload, k);
      break;
    case Kind::kRanking:
      CheckRanking(config, item, payload, k);
      break;
    case Kind::kImageCaption:
      CheckImageCaption(config, payload, k);
      break;
    case Kind::kVideoCaption:
      CheckVideoCaption(config, item, payload, k);
      break;
  }
  return std::move(k.failures);
}

}  // namespace sagebox::label
