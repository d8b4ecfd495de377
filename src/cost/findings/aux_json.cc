#include "cost/findings/aux_json.h"

#include <cmath>
#include <string>
#include <utility>

namespace sagebox::findings {
namespace {

using nlohmann::json;

// Largest timestamp accepted: 9999-12-31T23:59:59Z, so every accepted value
// formats back as YYYY.
constexpr UnixSeconds kMaxTime = 253'402'300'799;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Builds the DOM like json::parse does, but keeps the parser's error
// position instead of throwing or discarding it.
class DomKeepingErrors {
 public:
  explicit DomKeepingErrors(json* root) : dom_(*root, /*allow_exceptions_=*/false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return dom_.start_object(n); }
  bool key(json::string_t& v) { return dom_.key(v); }
  bool end_object() { return dom_.end_object(); }
  bool start_array(std::size_t n) { return dom_.start_array(n); }
  bool end_array() { return dom_.end_array(); }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    failed_ = true;
    position_ = position;
    message_ = ex.what();
    return false;
  }

  bool failed() const { return failed_; }
  size_t position() const { return position_; }
  // The parser's explanation without its own "[json.exception...] parse
  // error at line 1, column 5: " prefix (those numbers are relative to the
  // fragment; ours are relative to the file).
  std::string explanation() const {
    size_t col = message_.find("column ");
    size_t colon = col == std::string::npos ? std::string::npos : message_.find(": ", col);
    if (colon != std::string::npos) return message_.substr(colon + 2);
    size_t bracket = message_.find("] ");
    return bracket == std::string::npos ? message_ : message_.substr(bracket + 2);
  }

 private:
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  bool failed_ = false;
  size_t position_ = 0;
  std::string message_;
};

// End (exclusive) of the value that starts at text[i], by bracket counting
// outside strings; the end of the text if it never closes (the parser then
// says what is missing). Refuses nesting deeper than kMaxJsonDepth.
Status ValueEnd(std::string_view text, std::string_view label, size_t i, size_t* end) {
  const char first = text[i];
  if (first == '{' || first == '[') {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t j = i; j < text.size(); ++j) {
      const char c = text[j];
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        if (++depth > kMaxJsonDepth) {
          return BadInput(std::string(label) + ":" + LineCol(text, j) +
                          ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        }
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          *end = j + 1;
          return Status::Ok();
        }
      }
    }
    *end = text.size();
    return Status::Ok();
  }
  if (first == '"') {
    bool escaped = false;
    for (size_t j = i + 1; j < text.size(); ++j) {
      if (escaped) {
        escaped = false;
      } else if (text[j] == '\\') {
        escaped = true;
      } else if (text[j] == '"') {
        *end = j + 1;
        return Status::Ok();
      }
    }
    *end = text.size();
    return Status::Ok();
  }
  size_t j = i;
  while (j < text.size() && !IsSpace(text[j]) && text[j] != '{' && text[j] != '[' &&
         text[j] != '}' && text[j] != ']' && text[j] != ',' && text[j] != '"') {
    ++j;
  }
  *end = j == i ? i + 1 : j;  // a lone structural character: let the parser name it
  return Status::Ok();
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string LineCol(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++col;  // count characters, not UTF-8 continuation bytes
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

Status ForEachJsonValue(std::string_view text, std::string_view label,
                        const std::function<Status(const JsonValueAt&)>& fn) {
  size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) return Status::Ok();
    size_t end = i;
    RETURN_IF_ERROR(ValueEnd(text, label, i, &end));
    JsonValueAt at;
    at.raw = text.substr(i, end - i);
    at.offset = i;
    DomKeepingErrors sax(&at.value);
    json::sax_parse(at.raw.begin(), at.raw.end(), &sax);
    if (sax.failed()) {
      // The parser counts characters read, the failing one included.
      size_t pos = sax.position() == 0 ? 0 : sax.position() - 1;
      if (pos > at.raw.size()) pos = at.raw.size();
      return BadInput(std::string(label) + ":" + LineCol(text, i + pos) + ": " + sax.explanation());
    }
    RETURN_IF_ERROR(fn(at));
    i = end;
  }
}

std::optional<UnixSeconds> ParseIsoTimestamp(std::string_view s) {
  // The offset, if any, follows the time: look for it after the 'T'.
  size_t t = s.find_first_of("T ");
  if (t == std::string_view::npos) return ParseTimestamp(s);
  size_t sign = s.find_last_of("+-");
  if (sign == std::string_view::npos || sign < t) return ParseTimestamp(s);
  std::string_view off = s.substr(sign + 1);
  int hours = 0, minutes = 0;
  auto two = [](std::string_view d) { return (d[0] - '0') * 10 + (d[1] - '0'); };
  if (off.size() == 5 && off[2] == ':' && AllDigits(off.substr(0, 2)) && AllDigits(off.substr(3))) {
    hours = two(off);
    minutes = two(off.substr(3));
  } else if (off.size() == 4 && AllDigits(off)) {
    hours = two(off);
    minutes = two(off.substr(2));
  } else if (off.size() == 2 && AllDigits(off)) {
    hours = two(off);
  } else {
    return std::nullopt;
  }
  if (hours > 23 || minutes > 59) return std::nullopt;
  auto base = ParseTimestamp(s.substr(0, sign));
  if (!base) return std::nullopt;
  const UnixSeconds shift = hours * 3600 + minutes * 60;
  // 12:00+05:30 is 06:30 UTC.
  UnixSeconds utc = s[sign] == '+' ? *base - shift : *base + shift;
  if (utc < 0 || utc > kMaxTime) return std::nullopt;
  return utc;
}

std::optional<UnixSeconds> ParseAwsTimestamp(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<json::number_unsigned_t>();
    if (u > static_cast<json::number_unsigned_t>(kMaxTime)) return std::nullopt;
    return static_cast<UnixSeconds>(u);
  }
  if (v.is_number_integer()) {
    auto n = v.get<json::number_integer_t>();
    if (n < 0 || n > kMaxTime) return std::nullopt;
    return static_cast<UnixSeconds>(n);
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMaxTime)) return std::nullopt;
    return static_cast<UnixSeconds>(std::floor(d));
  }
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  std::string_view sv(s);
  size_t dot = sv.find('.');
  std::string_view whole = sv.substr(0, dot);
  if (AllDigits(whole) && (dot == std::string_view::npos || AllDigits(sv.substr(dot + 1)))) {
    // Epoch seconds written as a string; more than 12 digits is past 9999.
    if (whole.size() > 12) return std::nullopt;
    UnixSeconds n = 0;
    for (char c : whole) n = n * 10 + (c - '0');
    if (n > kMaxTime) return std::nullopt;
    return n;
  }
  auto t = ParseIsoTimestamp(sv);
  if (!t || *t < 0 || *t > kMaxTime) return std::nullopt;
  return t;
}

std::string_view JsonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "something else";
  }
}

std::string FieldReader::Where(std::string_view key) const {
  std::string where = std::string(label_) + ":";
  if (!key.empty()) {
    const std::string quoted = "\"" + std::string(key) + "\"";
    for (size_t p = at_.raw.find(quoted); p != std::string_view::npos;
         p = at_.raw.find(quoted, p + 1)) {
      size_t q = p + quoted.size();
      while (q < at_.raw.size() && IsSpace(at_.raw[q])) ++q;
      if (q < at_.raw.size() && at_.raw[q] == ':') {
        return where + LineCol(file_text_, at_.offset + p);
      }
    }
  }
  return where + LineCol(file_text_, at_.offset);
}

void FieldReader::FailWith(std::string_view key, std::string message) {
  if (!status_.ok()) return;
  status_ = BadInput(Where(key) + ": " + std::move(message));
}

void FieldReader::Fail(std::string_view key, std::string_view path, std::string_view what,
                       const json* got) {
  std::string m = "expected '" + std::string(path.empty() ? key : path) + "' to be ";
  m += what;
  if (got != nullptr) {
    m += ", got ";
    if (got->is_number() || got->is_boolean()) {
      m += got->dump();  // scalars only: never recursive
    } else {
      m += JsonTypeName(*got);
    }
  }
  FailWith(key, std::move(m));
}

const json* FieldReader::Field(const json& obj, std::string_view key) const {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string FieldReader::String(const json& obj, std::string_view key, std::string_view path) {
  const json* v = Field(obj, key);
  if (v == nullptr) return {};
  if (!v->is_string()) {
    Fail(key, path, "a string", v);
    return {};
  }
  return v->get<std::string>();
}

std::optional<int64_t> FieldReader::Int(const json& obj, std::string_view key, int64_t min,
                                        int64_t max, std::string_view path) {
  const json* v = Field(obj, key);
  if (v == nullptr) return std::nullopt;
  std::optional<int64_t> n;
  if (v->is_number_unsigned()) {
    auto u = v->get<json::number_unsigned_t>();
    if (u <= static_cast<json::number_unsigned_t>(max)) n = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    n = v->get<json::number_integer_t>();
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= static_cast<double>(min) &&
        d <= static_cast<double>(max)) {
      n = static_cast<int64_t>(d);
    }
  }
  if (!n || *n < min || *n > max) {
    Fail(key, path, "an integer from " + std::to_string(min) + " to " + std::to_string(max), v);
    return std::nullopt;
  }
  return n;
}

std::optional<bool> FieldReader::Bool(const json& obj, std::string_view key,
                                      std::string_view path) {
  const json* v = Field(obj, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(key, path, "true or false", v);
    return std::nullopt;
  }
  return v->get<bool>();
}

UnixSeconds FieldReader::Time(const json& obj, std::string_view key, std::string_view path) {
  const json* v = Field(obj, key);
  if (v == nullptr) return 0;
  auto t = ParseAwsTimestamp(*v);
  if (!t) {
    Fail(key, path, "an ISO 8601 timestamp or epoch seconds", v);
    return 0;
  }
  return *t;
}

const json* FieldReader::Object(const json& obj, std::string_view key, std::string_view path) {
  const json* v = Field(obj, key);
  if (v != nullptr && !v->is_object()) {
    Fail(key, path, "an object", v);
    return nullptr;
  }
  return v;
}

const json* FieldReader::Array(const json& obj, std::string_view key, std::string_view path) {
  const json* v = Field(obj, key);
  if (v != nullptr && !v->is_array()) {
    Fail(key, path, "an array", v);
    return nullptr;
  }
  return v;
}

}  // namespace sagebox::findings
