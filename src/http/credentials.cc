#include "http/credentials.h"

#include <cstddef>
#include <optional>
#include <set>
#include <utility>

#include "core/strings.h"

namespace sagebox::http {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// One `name = value` line we keep, with where it was for error messages.
struct Setting {
  std::string value;
  size_t line = 0;
  size_t col = 0;
};

struct Section {
  std::string name;
  size_t line = 0;
  std::optional<Setting> key_id;
  std::optional<Setting> secret;
  std::set<std::string> option_names;  // RawConfigParser (strict) rejects repeats
};

class Parser {
 public:
  explicit Parser(const std::string& path) : path_(path) {}

  Status Error(size_t line, size_t col, const std::string& what) const {
    return BadInput(path_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
  }

  StatusOr<Credentials> Parse(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    size_t line_no = 0;
    while (!text.empty() || line_no == 0) {
      ++line_no;
      const size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      RETURN_IF_ERROR(ParseLine(line, line_no));
      if (text.empty()) break;
    }
    RETURN_IF_ERROR(FinishSection());
    if (creds_.secret_by_access_key.empty()) {
      return Error(1, 1,
                   "expected at least one [section] with both aws_access_key_id and "
                   "aws_secret_access_key (an AWS shared-credentials file)");
    }
    return std::move(creds_);
  }

 private:
  Status ParseLine(std::string_view line, size_t line_no) {
    size_t indent = 0;
    while (indent < line.size() && IsSpace(line[indent])) ++indent;
    const std::string_view body = Trim(line);
    if (body.empty() || body.front() == '#' || body.front() == ';') return Status::Ok();
    if (indent > 0 && last_option_indent_ && indent > *last_option_indent_) {
      // An indented line after an option continues it (RawConfigParser).
      // After an empty `name =` it is a nested sub-setting (botocore's
      // `s3 =` blocks), which the server has no use for.
      if (last_option_empty_) return Status::Ok();
      return Error(line_no, indent + 1,
                   "an indented line continues the value of '" + last_option_ +
                       "'; write the value on one line");
    }
    if (body.front() == '[') {
      if (body.back() != ']') {
        return Error(line_no, indent + 1, "expected a section header '[name]'");
      }
      const std::string_view name = Trim(body.substr(1, body.size() - 2));
      if (name.empty()) return Error(line_no, indent + 1, "empty section name '[]'");
      RETURN_IF_ERROR(FinishSection());
      if (!section_names_.insert(std::string(name)).second) {
        return Error(line_no, indent + 1, "duplicate section [" + std::string(name) + "]");
      }
      section_ = Section{};
      section_->name = std::string(name);
      section_->line = line_no;
      last_option_indent_.reset();
      return Status::Ok();
    }
    const size_t delim = body.find_first_of("=:");
    if (delim == std::string_view::npos) {
      return Error(line_no, indent + 1, "expected 'name = value' or a '[section]' header");
    }
    const std::string name = AsciiLower(Trim(body.substr(0, delim)));
    if (name.empty()) return Error(line_no, indent + 1, "expected an option name before '='");
    if (!section_) {
      return Error(line_no, indent + 1,
                   "expected a '[section]' header (e.g. [default]) before the first setting");
    }
    const std::string_view value = Trim(body.substr(delim + 1));
    const size_t value_col = value.empty()
                                 ? indent + delim + 2
                                 : static_cast<size_t>(value.data() - line.data()) + 1;  // 1-based
    if (!section_->option_names.insert(name).second) {
      return Error(line_no, indent + 1,
                   "duplicate option '" + name + "' in section [" + section_->name + "]");
    }
    last_option_ = name;
    last_option_indent_ = indent;
    last_option_empty_ = value.empty();
    Setting setting{std::string(value), line_no, value_col};
    if (name == "aws_access_key_id") {
      section_->key_id = std::move(setting);
    } else if (name == "aws_secret_access_key") {
      section_->secret = std::move(setting);
    } else if (name == "sagebox_dashboard_token") {
      if (value.empty()) return Error(line_no, value_col, "empty sagebox_dashboard_token");
      if (token_line_ != 0) {
        return Error(line_no, indent + 1,
                     "a second sagebox_dashboard_token (the first is on line " +
                         std::to_string(token_line_) + ")");
      }
      token_line_ = line_no;
      creds_.dashboard_token = std::string(value);
    }
    return Status::Ok();
  }

  // Checks the section just ended and records its key pair.
  Status FinishSection() {
    if (!section_) return Status::Ok();
    Section s = std::move(*section_);
    section_.reset();
    if (!s.key_id && !s.secret) return Status::Ok();  // a profile with other settings only
    if (!s.key_id || !s.secret) {
      const Setting& present = s.key_id ? *s.key_id : *s.secret;
      return Error(present.line, 1,
                   "section [" + s.name + "] has " +
                       (s.key_id ? "aws_access_key_id but no aws_secret_access_key"
                                 : "aws_secret_access_key but no aws_access_key_id"));
    }
    for (const Setting* st : {&*s.key_id, &*s.secret}) {
      if (st->value.empty()) {
        return Error(st->line, st->col, "empty value in section [" + s.name + "]");
      }
    }
    auto [it, inserted] = creds_.secret_by_access_key.emplace(s.key_id->value, s.secret->value);
    if (!inserted && !ConstantTimeEquals(it->second, s.secret->value)) {
      return Error(s.key_id->line, s.key_id->col,
                   "access key " + s.key_id->value +
                       " appears again with a different aws_secret_access_key");
    }
    return Status::Ok();
  }

  const std::string& path_;
  Credentials creds_;
  std::optional<Section> section_;
  std::set<std::string> section_names_;
  std::string last_option_;
  std::optional<size_t> last_option_indent_;
  bool last_option_empty_ = false;
  size_t token_line_ = 0;
};

}  // namespace

StatusOr<Credentials> ParseCredentials(std::string_view text, const std::string& path) {
  return Parser(path).Parse(text);
}

StatusOr<Credentials> LoadCredentials(Env* env, const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  return ParseCredentials(text, path);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Walk the full length of `a` whatever `b` holds, and fold all differences
  // into one byte, so the time says nothing about the first mismatch.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    const char bc = i < b.size() ? b[i] : '\0';
    diff = static_cast<unsigned char>(diff | static_cast<unsigned char>(a[i] ^ bc));
  }
  // A volatile read keeps the compiler from turning the loop into an early exit.
  volatile unsigned char result = diff;
  return result == 0;
}

}  // namespace sagebox::http
