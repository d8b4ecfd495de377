#include "pipeline/asl/choice.h"

#include <array>
#include <string>
#include <vector>

#include "core/time.h"
#include "fmt/format.h"
#include "pipeline/asl/json_path.h"

namespace sagebox::pipeline::asl {

using nlohmann::json;

namespace {

enum class Family { kString, kNumeric, kBoolean, kTimestamp };
enum class Relation { kEq, kLt, kLe, kGt, kGe };

struct Operator {
  std::string_view name;
  Family family;
  Relation relation;
};

constexpr std::array<Operator, 16> kOperators = {{
    {"StringEquals", Family::kString, Relation::kEq},
    {"StringLessThan", Family::kString, Relation::kLt},
    {"StringLessThanEquals", Family::kString, Relation::kLe},
    {"StringGreaterThan", Family::kString, Relation::kGt},
    {"StringGreaterThanEquals", Family::kString, Relation::kGe},
    {"NumericEquals", Family::kNumeric, Relation::kEq},
    {"NumericLessThan", Family::kNumeric, Relation::kLt},
    {"NumericLessThanEquals", Family::kNumeric, Relation::kLe},
    {"NumericGreaterThan", Family::kNumeric, Relation::kGt},
    {"NumericGreaterThanEquals", Family::kNumeric, Relation::kGe},
    {"BooleanEquals", Family::kBoolean, Relation::kEq},
    {"TimestampEquals", Family::kTimestamp, Relation::kEq},
    {"TimestampLessThan", Family::kTimestamp, Relation::kLt},
    {"TimestampLessThanEquals", Family::kTimestamp, Relation::kLe},
    {"TimestampGreaterThan", Family::kTimestamp, Relation::kGt},
    {"TimestampGreaterThanEquals", Family::kTimestamp, Relation::kGe},
}};

AslError InvalidPath(const std::string& path) {
  return RuntimeError(fmt::format(
      "Invalid path '{}': The choice state's condition path references an invalid value.", path));
}

// The node a Variable (or ...Path comparand) names; nullopt when it matches nothing.
AslOr<std::optional<json>> Resolve(const json& path_value, const json& input, const json& context) {
  if (!path_value.is_string()) return RuntimeError("a Choice path must be a string");
  const std::string& text = path_value.get_ref<const std::string&>();
  auto path = ParseJsonPath(text);
  if (!path.ok()) return RuntimeError(path.status().message());
  const auto nodes = SelectNodes(*path, input, context);
  if (path->is_definite()) {
    if (nodes.empty()) return std::optional<json>();
    return std::optional<json>(*nodes.front());
  }
  json arr = json::array();
  for (const json* n : nodes) arr.push_back(*n);
  return std::optional<json>(std::move(arr));
}

bool Holds(Relation r, int order) {
  switch (r) {
    case Relation::kEq:
      return order == 0;
    case Relation::kLt:
      return order < 0;
    case Relation::kLe:
      return order <= 0;
    case Relation::kGt:
      return order > 0;
    case Relation::kGe:
      return order >= 0;
  }
  return false;
}

int NumericOrder(const json& a, const json& b) {
  // Integers compare exactly; otherwise as doubles (AWS documents no more precision than
  // IEEE 754 doubles for numeric comparisons).
  if (a.is_number_integer() && b.is_number_integer() && !a.is_number_unsigned() &&
      !b.is_number_unsigned()) {
    const auto x = a.get<int64_t>();
    const auto y = b.get<int64_t>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const auto x = a.get<double>();
  const auto y = b.get<double>();
  return x < y ? -1 : (x > y ? 1 : 0);
}

// Compares a variable's value with the comparand under one operator family. False when
// either side has the wrong type (the state-choice page: such comparisons do not match).
bool Compare(Family family, Relation rel, const json& v, const json& c) {
  switch (family) {
    case Family::kString: {
      if (!v.is_string() || !c.is_string()) return false;
      const int cmp = v.get_ref<const std::string&>().compare(c.get_ref<const std::string&>());
      return Holds(rel, cmp < 0 ? -1 : (cmp > 0 ? 1 : 0));
    }
    case Family::kNumeric:
      if (!v.is_number() || !c.is_number()) return false;
      return Holds(rel, NumericOrder(v, c));
    case Family::kBoolean:
      return v.is_boolean() && c.is_boolean() && v.get<bool>() == c.get<bool>();
    case Family::kTimestamp: {
      if (!v.is_string() || !c.is_string()) return false;
      const auto a = ParseRfc3339(v.get_ref<const std::string&>());
      const auto b = ParseRfc3339(c.get_ref<const std::string&>());
      if (!a || !b) return false;
      return Holds(rel, *a < *b ? -1 : (*b < *a ? 1 : 0));
    }
  }
  return false;
}

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<Instant> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!ParseDigits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !ParseDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ParseDigits(s, 8, 2, &d) || s[10] != 'T' || !ParseDigits(s, 11, 2, &h) ||
      s[13] != ':' || !ParseDigits(s, 14, 2, &mi) || s[16] != ':' || !ParseDigits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[static_cast<size_t>(mo - 1)] || (mo == 2 && d == 29 && !leap)) {
    return std::nullopt;
  }
  size_t pos = 19;
  int32_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t begin = pos;
    int32_t scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == begin) return std::nullopt;
  }
  int offset = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!ParseDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return Instant{days * 86400 + h * 3600 + mi * 60 + sec - offset, nanos};
}

bool StringMatchesPattern(std::string_view pattern, std::string_view text) {
  // Tokens: a literal character (escapes resolved) or a star; iterative wildcard matching with
  // one backtrack point, linear in practice and never recursive.
  struct Tok {
    bool star;
    char c;
  };
  std::string_view p = pattern;
  std::vector<Tok> toks;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size() && (p[i + 1] == '*' || p[i + 1] == '\\')) {
      toks.push_back({false, p[++i]});
    } else if (p[i] == '*') {
      toks.push_back({true, '\0'});
    } else {
      toks.push_back({false, p[i]});
    }
  }
  size_t t = 0, k = 0;
  size_t star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (k < toks.size() && !toks[k].star && toks[k].c == text[t]) {
      ++t;
      ++k;
    } else if (k < toks.size() && toks[k].star) {
      star = k++;
      mark = t;
    } else if (star != std::string_view::npos) {
      k = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (k < toks.size() && toks[k].star) ++k;
  return k == toks.size();
}

AslOr<bool> EvaluateChoiceRule(const json& rule, const json& input, const json& context) {
  if (!rule.is_object()) return RuntimeError("a Choice rule must be an object");
  if (const auto it = rule.find("And"); it != rule.end() && it->is_array()) {
    for (const json& r : *it) {
      ASL_ASSIGN_OR_RETURN(bool v, EvaluateChoiceRule(r, input, context));
      if (!v) return false;
    }
    return true;
  }
  if (const auto it = rule.find("Or"); it != rule.end() && it->is_array()) {
    for (const json& r : *it) {
      ASL_ASSIGN_OR_RETURN(bool v, EvaluateChoiceRule(r, input, context));
      if (v) return true;
    }
    return false;
  }
  if (const auto it = rule.find("Not"); it != rule.end()) {
    ASL_ASSIGN_OR_RETURN(bool v, EvaluateChoiceRule(*it, input, context));
    return !v;
  }
  const auto var_it = rule.find("Variable");
  if (var_it == rule.end()) return RuntimeError("a Choice rule needs And, Or, Not or Variable");
  const std::string var_text = var_it->is_string() ? var_it->get<std::string>() : "";
  ASL_ASSIGN_OR_RETURN(std::optional<json> value, Resolve(*var_it, input, context));

  if (const auto it = rule.find("IsPresent"); it != rule.end()) {
    return it->is_boolean() && value.has_value() == it->get<bool>();
  }
  if (!value) return InvalidPath(var_text);

  struct TypeTest {
    std::string_view name;
    bool (*test)(const json&);
  };
  static constexpr TypeTest kTypeTests[] = {
      {"IsNull", [](const json& v) { return v.is_null(); }},
      {"IsNumeric", [](const json& v) { return v.is_number(); }},
      {"IsString", [](const json& v) { return v.is_string(); }},
      {"IsBoolean", [](const json& v) { return v.is_boolean(); }},
      {"IsTimestamp",
       [](const json& v) {
         return v.is_string() && ParseRfc3339(v.get_ref<const std::string&>()).has_value();
       }},
  };
  for (const TypeTest& t : kTypeTests) {
    if (const auto it = rule.find(std::string(t.name)); it != rule.end()) {
      return it->is_boolean() && t.test(*value) == it->get<bool>();
    }
  }
  if (const auto it = rule.find("StringMatches"); it != rule.end()) {
    return value->is_string() && it->is_string() &&
           StringMatchesPattern(it->get_ref<const std::string&>(),
                                value->get_ref<const std::string&>());
  }
  for (const Operator& op : kOperators) {
    if (const auto it = rule.find(std::string(op.name)); it != rule.end()) {
      return Compare(op.family, op.relation, *value, *it);
    }
    if (const auto it = rule.find(std::string(op.name) + "Path"); it != rule.end()) {
      ASL_ASSIGN_OR_RETURN(std::optional<json> other, Resolve(*it, input, context));
      if (!other) return InvalidPath(it->is_string() ? it->get<std::string>() : "");
      return Compare(op.family, op.relation, *value, *other);
    }
  }
  return RuntimeError(fmt::format("the Choice rule on '{}' has no comparison operator", var_text));
}

}  // namespace sagebox::pipeline::asl
