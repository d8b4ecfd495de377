#include "pipeline/tracking/search_filter.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace sagebox::pipeline::tracking {
namespace {

enum class Tok { kIdent, kString, kQuoted, kNumber, kOp, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // raw text (identifiers keep their backquotes until split)
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' || c == '.';
}

// Splits the filter into tokens. InvalidArgument for an unterminated quote.
StatusOr<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  auto quoted = [&](char q, std::string* raw) -> bool {  // at s[i] == q; appends with quotes
    size_t j = i + 1;
    while (j < s.size()) {
      if (s[j] == q) {
        if (q == '\'' && j + 1 < s.size() && s[j + 1] == '\'') {  // '' is a quote in SQL
          j += 2;
          continue;
        }
        *raw += s.substr(i, j + 1 - i);
        i = j + 1;
        return true;
      }
      ++j;
    }
    return false;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
      continue;
    }
    Token t;
    if (c == '\'' || c == '"') {
      t.kind = c == '\'' ? Tok::kString : Tok::kQuoted;
      if (!quoted(c, &t.text)) {
        return InvalidArgument(fmt::format("Error on parsing filter '{}': unterminated {}", s, c));
      }
      out.push_back(std::move(t));
      continue;
    }
    const bool sign_digit =
        (c == '-' || c == '+') && i + 1 < s.size() &&
        (std::isdigit(static_cast<unsigned char>(s[i + 1])) != 0 || s[i + 1] == '.');
    if (std::isdigit(static_cast<unsigned char>(c)) != 0 || sign_digit ||
        (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) != 0)) {
      size_t j = i + 1;
      while (j < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[j])) != 0 || s[j] == '.' ||
              ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E')))) {
        ++j;
      }
      t.kind = Tok::kNumber;
      t.text = std::string(s.substr(i, j - i));
      i = j;
      out.push_back(std::move(t));
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '`') {
      t.kind = Tok::kIdent;
      while (i < s.size()) {
        if (s[i] == '`' || (s[i] == '"' && !t.text.empty() && t.text.back() == '.')) {
          if (!quoted(s[i], &t.text)) {
            return InvalidArgument(
                fmt::format("Error on parsing filter '{}': unterminated {}", s, s[i]));
          }
        } else if (IsIdentChar(s[i])) {
          t.text += s[i++];
        } else {
          break;
        }
      }
      out.push_back(std::move(t));
      continue;
    }
    if (c == '(' || c == ')' || c == ',') {
      t.kind = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma;
      t.text = std::string(1, c);
      ++i;
      out.push_back(std::move(t));
      continue;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
      size_t n = (i + 1 < s.size() && (s[i + 1] == '=' || (c == '<' && s[i + 1] == '>'))) ? 2 : 1;
      t.kind = Tok::kOp;
      t.text = std::string(s.substr(i, n));
      if (t.text == "!")
        return InvalidArgument(
            fmt::format("Invalid clause(s) in filter string: '{}'", s.substr(i)));
      if (t.text == "<>") t.text = "!=";
      i += n;
      out.push_back(std::move(t));
      continue;
    }
    return InvalidArgument(fmt::format("Invalid clause(s) in filter string: '{}'", s.substr(i)));
  }
  out.push_back(Token{});
  return out;
}

bool IsKeyword(const Token& t, std::string_view word) {
  return t.kind == Tok::kIdent && Upper(t.text) == word;
}

std::string TrimEnds(std::string_view s) { return std::string(s.substr(1, s.size() - 2)); }

bool IsQuoted(std::string_view s, char q) {
  return s.size() >= 2 && s.front() == q && s.back() == q;
}

// _strip_quotes then _trim_backticks, as MLflow does to a key.
std::string CleanKey(std::string_view key) {
  std::string k(key);
  if (IsQuoted(k, '\'') || IsQuoted(k, '"')) k = TrimEnds(k);
  if (IsQuoted(k, '`')) k = TrimEnds(k);
  return k;
}

// A string literal's value: the quotes gone, '' back to '.
std::string StringValue(std::string_view raw) {
  std::string v = TrimEnds(raw);
  if (raw.front() == '\'') {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      out += v[i];
      if (v[i] == '\'' && i + 1 < v.size() && v[i + 1] == '\'') ++i;
    }
    return out;
  }
  return v;
}

std::string SetText(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", '" : "'") + items[i] + "'";
  return out + "}";
}

// Function-local statics: built on first use, so no initializer runs before main.
const std::vector<std::string>& MetricComparators() {
  static const std::vector<std::string> k = {"!=", "<", "<=", "=", ">", ">="};
  return k;
}
const std::vector<std::string>& StringComparators() {
  static const std::vector<std::string> k = {"!=", "=", "ILIKE", "LIKE"};
  return k;
}
const std::vector<std::string>& StringAttrComparators() {
  static const std::vector<std::string> k = {"!=", "=", "ILIKE", "IN", "LIKE", "NOT IN"};
  return k;
}

// What one search kind accepts.
struct Grammar {
  std::vector<std::string> attributes;  // filterable attribute keys
  std::set<std::string> numeric_attributes;
  std::vector<std::string> order_attributes;  // order_by attribute keys
  std::set<std::string> list_attributes;      // attributes that take IN / NOT IN lists
  bool run_entities = false;                  // metrics and params exist
};

const Grammar& GrammarFor(SearchKind kind) {
  static const Grammar kRunsG = {
      {"artifact_uri", "end_time", "run_id", "run_name", "start_time", "status", "user_id"},
      {"start_time", "end_time"},
      {"artifact_uri", "end_time", "experiment_id", "run_id", "run_name", "start_time", "status",
       "user_id"},
      {"run_id"},
      true};
  static const Grammar kExperimentsG = {
      {"creation_time", "last_update_time", "name"},
      {"creation_time", "last_update_time"},
      {"creation_time", "experiment_id", "last_update_time", "name"},
      {},
      false};
  static const Grammar kModelsG = {
      {"name"}, {}, {"creation_timestamp", "last_updated_timestamp", "name"}, {}, false};
  static const Grammar kVersionsG = {
      {"name", "run_id", "source_path"},
      {},
      {"creation_timestamp", "last_updated_timestamp", "name", "version_number"},
      {"run_id"},
      false};
  switch (kind) {
    case SearchKind::kRuns:
      return kRunsG;
    case SearchKind::kExperiments:
      return kExperimentsG;
    case SearchKind::kRegisteredModels:
      return kModelsG;
    case SearchKind::kModelVersions:
      return kVersionsG;
  }
  return kRunsG;
}

std::string ListText(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", '" : "'") + v[i] + "'";
  return out + "]";
}

// "metrics.`f1 score`" → (metric, "f1 score"); an unprefixed key is an attribute.
StatusOr<std::pair<Entity, std::string>> Identifier(std::string_view raw, SearchKind kind,
                                                    const std::vector<std::string>& valid) {
  std::string entity_text;
  std::string key;
  // The first '.' outside quotes separates the entity.
  size_t dot = std::string_view::npos;
  if (!raw.empty() && raw.front() != '`' && raw.front() != '"') dot = raw.find('.');
  if (dot == std::string_view::npos) {
    key = std::string(raw);
  } else {
    entity_text = CleanKey(raw.substr(0, dot));
    key = std::string(raw.substr(dot + 1));
  }
  Entity entity = Entity::kAttribute;
  if (!entity_text.empty()) {
    if (kind != SearchKind::kRuns) {
      if (entity_text == "attribute") {
        entity = Entity::kAttribute;
      } else if (entity_text == "tag" || entity_text == "tags") {
        entity = Entity::kTag;
      } else {
        return InvalidArgument(fmt::format(
            "Invalid entity type '{}'. Valid entity types are ('attribute', 'tag', 'tags')",
            entity_text));
      }
    } else if (entity_text == "metric" || entity_text == "metrics") {
      entity = Entity::kMetric;
    } else if (entity_text == "parameter" || entity_text == "parameters" ||
               entity_text == "param" || entity_text == "params") {
      entity = Entity::kParam;
    } else if (entity_text == "tag" || entity_text == "tags") {
      entity = Entity::kTag;
    } else if (entity_text == "attribute" || entity_text == "attributes" || entity_text == "attr" ||
               entity_text == "run") {
      entity = Entity::kAttribute;
    } else if (entity_text == "dataset" || entity_text == "datasets") {
      return InvalidArgument("Dataset filters ('dataset.<key>') are not supported by sagebox");
    } else {
      return InvalidArgument(
          fmt::format("Invalid entity type '{}'. Valid values are ['metric', 'parameter', 'tag', "
                      "'attribute', 'dataset']",
                      entity_text));
    }
  }
  key = CleanKey(key);
  if (entity == Entity::kAttribute) {
    if (kind == SearchKind::kRuns) {  // SearchUtils.translate_key_alias
      if (key == "created" || key == "Created") key = "start_time";
      if (key == "run name" || key == "Run name" || key == "Run Name") key = "run_name";
    }
    if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
      return InvalidArgument(fmt::format(
          "Invalid attribute key '{}' specified. Valid keys are '{}'", key, ListText(valid)));
    }
  }
  if (key.empty()) return InvalidArgument(fmt::format("Invalid identifier '{}'", raw));
  return std::make_pair(entity, key);
}

StatusOr<double> Number(const std::string& text) {
  double v = 0;
  auto [p, ec] =
      std::from_chars(text.data() + (text.starts_with('+') ? 1 : 0), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return InvalidArgument(fmt::format("Invalid number '{}'", text));
  }
  return v;
}

Status CheckComparator(const std::string& c, const std::vector<std::string>& valid) {
  if (std::find(valid.begin(), valid.end(), c) != valid.end()) return Status::Ok();
  return InvalidArgument(fmt::format("Invalid comparator '{}' not one of '{}'", c, SetText(valid)));
}

}  // namespace

StatusOr<std::vector<Clause>> ParseFilter(std::string_view filter, SearchKind kind) {
  std::vector<Clause> out;
  if (filter.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  ASSIGN_OR_RETURN(std::vector<Token> toks, Lex(filter));
  const Grammar& g = GrammarFor(kind);
  size_t i = 0;
  auto rest = [&](size_t from) {
    std::string r;
    for (size_t j = from; j < toks.size() && toks[j].kind != Tok::kEnd; ++j) {
      r += (r.empty() ? "" : " ") + toks[j].text;
    }
    return r;
  };
  auto invalid = [&](size_t from) {
    return InvalidArgument(fmt::format("Invalid clause(s) in filter string: '{}'", rest(from)));
  };
  while (true) {
    if (toks[i].kind != Tok::kIdent || IsKeyword(toks[i], "AND") || IsKeyword(toks[i], "OR") ||
        IsKeyword(toks[i], "NOT")) {
      return invalid(i);
    }
    Clause c;
    ASSIGN_OR_RETURN(auto id, Identifier(toks[i].text, kind, g.attributes));
    c.entity = id.first;
    c.key = id.second;
    ++i;
    if (toks[i].kind == Tok::kOp) {
      c.comparator = toks[i++].text;
    } else if (IsKeyword(toks[i], "LIKE") || IsKeyword(toks[i], "ILIKE") ||
               IsKeyword(toks[i], "IN")) {
      c.comparator = Upper(toks[i++].text);
    } else if (IsKeyword(toks[i], "NOT") && IsKeyword(toks[i + 1], "IN")) {
      c.comparator = "NOT IN";
      i += 2;
    } else {
      return InvalidArgument(
          fmt::format("Invalid comparison clause. Expected comparison found '{}'", rest(i - 1)));
    }
    const Token& v = toks[i];
    const char* entity_name = c.entity == Entity::kParam ? "parameter" : "tag";
    switch (c.entity) {
      case Entity::kMetric:
        if (v.kind != Tok::kNumber) {
          return InvalidArgument(
              fmt::format("Expected numeric value type for metric. Found {}", v.text));
        }
        RETURN_IF_ERROR(CheckComparator(c.comparator, MetricComparators()));
        c.numeric = true;
        break;
      case Entity::kParam:
      case Entity::kTag:
        if (v.kind != Tok::kString && v.kind != Tok::kQuoted) {
          return InvalidArgument(
              fmt::format("Expected a quoted string value for {} (e.g. 'my-value'). Got value {}",
                          entity_name, v.text));
        }
        RETURN_IF_ERROR(CheckComparator(c.comparator, StringComparators()));
        break;
      case Entity::kAttribute:
        if (g.numeric_attributes.contains(c.key)) {
          if (v.kind != Tok::kNumber) {
            return InvalidArgument(fmt::format(
                "Expected numeric value type for numeric attribute: {}. Found {}", c.key, v.text));
          }
          RETURN_IF_ERROR(CheckComparator(c.comparator, MetricComparators()));
          c.numeric = true;
        } else if (v.kind == Tok::kLParen) {
          if (!g.list_attributes.contains(c.key)) {
            return InvalidArgument(
                "Only the 'run_id' attribute supports comparison with a list of quoted string "
                "values.");
          }
        } else if (v.kind != Tok::kString && v.kind != Tok::kQuoted) {
          return InvalidArgument(
              fmt::format("Expected a quoted string value for attributes. Got value {}", v.text));
        } else {
          RETURN_IF_ERROR(CheckComparator(c.comparator, StringAttrComparators()));
        }
        break;
    }
    if (v.kind == Tok::kLParen) {
      if (c.comparator != "IN" && c.comparator != "NOT IN") {
        return InvalidArgument(fmt::format("Invalid comparator '{}' not one of '{}'", c.comparator,
                                           SetText({"IN", "NOT IN"})));
      }
      ++i;
      while (true) {
        if (toks[i].kind != Tok::kString) {
          return InvalidArgument(
              "While parsing a list in the query, expected a non-empty list of string values, "
              "but got ill-formed list.");
        }
        c.list.push_back(StringValue(toks[i++].text));
        if (toks[i].kind == Tok::kComma) {
          ++i;
          continue;
        }
        if (toks[i].kind != Tok::kRParen) {
          return InvalidArgument(
              "While parsing a list in the query, expected a non-empty list of string values, "
              "but got ill-formed list.");
        }
        ++i;
        break;
      }
    } else {
      if (c.comparator == "IN" || c.comparator == "NOT IN") {
        return InvalidArgument(fmt::format(
            "Expected a list of quoted string values after {}, found {}", c.comparator, v.text));
      }
      if (c.numeric) {
        ASSIGN_OR_RETURN(c.number, Number(v.text));
      } else {
        c.text = StringValue(v.text);
      }
      ++i;
    }
    out.push_back(std::move(c));
    if (toks[i].kind == Tok::kEnd) break;
    if (!IsKeyword(toks[i], "AND")) return invalid(i);
    ++i;
  }
  return out;
}

StatusOr<OrderBy> ParseOrderBy(std::string_view text, SearchKind kind) {
  auto bad = [&] {
    return InvalidArgument(fmt::format("Invalid order_by clause '{}'. Could not be parsed.", text));
  };
  auto toks = Lex(text);
  if (!toks.ok()) return bad();
  OrderBy o;
  std::vector<Token>& t = *toks;
  if (t.size() < 2 || t.size() > 3 || t[0].kind != Tok::kIdent) return bad();
  if (t.size() == 3) {
    const std::string dir = Upper(t[1].text);
    if (t[1].kind != Tok::kIdent || (dir != "ASC" && dir != "DESC")) {
      return InvalidArgument(fmt::format("Invalid ordering key in order_by clause '{}'.", text));
    }
    o.ascending = dir == "ASC";
  }
  const Grammar& g = GrammarFor(kind);
  ASSIGN_OR_RETURN(auto id, Identifier(t[0].text, kind, g.order_attributes));
  if (kind != SearchKind::kRuns && id.first != Entity::kAttribute) {
    return InvalidArgument("Invalid order_by entity: tag");
  }
  o.entity = id.first;
  o.key = id.second;
  return o;
}

StatusOr<int64_t> ParsePageToken(std::string_view token) {
  if (token.empty()) return int64_t{0};
  if (token.size() % 4 != 0 || token.size() > 1024) {
    return InvalidArgument("Invalid page token, could not base64-decode");
  }
  std::string decoded(token.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(token.data()),
                                static_cast<int>(token.size()));
  if (n < 0) return InvalidArgument("Invalid page token, could not base64-decode");
  decoded.resize(static_cast<size_t>(n));
  while (!decoded.empty() && decoded.back() == '\0') decoded.pop_back();  // padding
  nlohmann::json j = nlohmann::json::parse(decoded, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument(fmt::format("Invalid page token, decoded value={}", decoded));
  }
  auto it = j.find("offset");
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
    return InvalidArgument(fmt::format("Invalid page token, parsed value={}", decoded));
  }
  return it->get<int64_t>();
}

std::string MakePageToken(int64_t offset) {
  const std::string text = nlohmann::json{{"offset", offset}}.dump();
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace sagebox::pipeline::tracking
