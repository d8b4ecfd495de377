#include "pipeline/asl/definition.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <exception>
#include <limits>
#include <set>
#include <utility>

#include "pipeline/asl/intrinsics.h"
#include "pipeline/asl/json_path.h"

namespace sagebox::pipeline::asl {
namespace {

using json = nlohmann::json;
// The document is read into an ordered_json so states keep the order they were written in.
using ojson = nlohmann::ordered_json;

// JSON nesting deeper than this is refused before the walk: the walk recurses per level.
constexpr size_t kMaxDepth = 256;
// Step Functions refuses longer state names (asl-validator's schema: "^.{1,80}$").
constexpr size_t kMaxStateNameLength = 80;
constexpr std::string_view kJsonataMessage =
    "JSONata is not supported yet: use JSONPath (the default)";
// How many problems ParseDefinition's message lists before "and N more".
constexpr size_t kProblemsInStatus = 5;
// Step Functions' upper bound for the second counts below (developer guide, "Task", "Wait",
// "Handling errors": 99999999).
constexpr int64_t kMaxSeconds = 99999999;

// ---------------------------------------------------------------------------------------------
// JSON pointers

std::string EscapePointer(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Ptr(std::string_view base, std::string_view segment) {
  std::string out(base);
  out += '/';
  out += EscapePointer(segment);
  return out;
}

std::string Ptr(std::string_view base, size_t index) {
  return std::string(base) + "/" + std::to_string(index);
}

// Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict on "\"" + string.
std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

// 100 rather than nlohmann's "100.0": the bounds in messages read as the docs write them.
std::string FormatBound(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v))) {
    return std::to_string(static_cast<int64_t>(v));
  }
  return nlohmann::json(v).dump();
}

std::string LineCol(std::string_view text, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// ---------------------------------------------------------------------------------------------
// Reading the text: nlohmann's DOM keeps only the last of two equal keys, so a SAX consumer
// in front of its DOM builder notes every repeated key (and the nesting depth) on the way.

class DuplicateKeySax {
 public:
  using number_integer_t = ojson::number_integer_t;
  using number_unsigned_t = ojson::number_unsigned_t;
  using number_float_t = ojson::number_float_t;
  using string_t = ojson::string_t;
  using binary_t = ojson::binary_t;

  DuplicateKeySax(ojson* root, std::vector<Problem>* problems)
      : dom_(*root, /*allow_exceptions_=*/false), problems_(problems) {}

  bool null() {
    Advance();
    return dom_.null();
  }
  bool boolean(bool v) {
    Advance();
    return dom_.boolean(v);
  }
  bool number_integer(number_integer_t v) {
    Advance();
    return dom_.number_integer(v);
  }
  bool number_unsigned(number_unsigned_t v) {
    Advance();
    return dom_.number_unsigned(v);
  }
  bool number_float(number_float_t v, const string_t& s) {
    Advance();
    return dom_.number_float(v, s);
  }
  bool string(string_t& v) {
    Advance();
    return dom_.string(v);
  }
  bool binary(binary_t& v) {
    Advance();
    return dom_.binary(v);
  }
  bool start_object(std::size_t n) { return Open(false) && dom_.start_object(n); }
  bool key(string_t& k) {
    Frame& f = frames_.back();
    f.key = k;
    if (!f.keys.insert(k).second) {
      problems_->push_back({Pointer(), "duplicate key " + Quote(k) +
                                           ": a JSON object must not repeat a field (a JSON "
                                           "parser keeps only one of them)"});
    }
    return dom_.key(k);
  }
  bool end_object() {
    frames_.pop_back();
    Advance();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return Open(true) && dom_.start_array(n); }
  bool end_array() {
    frames_.pop_back();
    Advance();
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    failed_ = true;
    position_ = position;
    message_ = ex.what();
    return false;
  }

  bool failed() const { return failed_; }
  bool too_deep() const { return too_deep_; }
  size_t position() const { return position_; }
  // nlohmann's explanation without its "[json.exception...] parse error at line L, column C: "
  // prefix: we print our own location.
  std::string explanation() const {
    size_t col = message_.find("column ");
    size_t colon = col == std::string::npos ? std::string::npos : message_.find(": ", col);
    return colon == std::string::npos ? message_ : message_.substr(colon + 2);
  }

 private:
  struct Frame {
    bool is_array = false;
    size_t index = 0;
    std::string key;
    std::set<std::string, std::less<>> keys;
  };

  bool Open(bool is_array) {
    if (frames_.size() >= kMaxDepth) {
      too_deep_ = true;
      problems_->push_back({Pointer(), "JSON nested deeper than " + std::to_string(kMaxDepth) +
                                           " levels; a state machine definition needs far fewer"});
      return false;
    }
    frames_.push_back(Frame{is_array, 0, {}, {}});
    return true;
  }
  // A value ended: the enclosing array moves on to its next index.
  void Advance() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }
  std::string Pointer() const {
    std::string out;
    for (const Frame& f : frames_) {
      out += f.is_array ? Ptr("", f.index) : Ptr("", f.key);
    }
    return out;
  }

  nlohmann::detail::json_sax_dom_parser<ojson> dom_;
  std::vector<Problem>* problems_;
  std::deque<Frame> frames_;
  bool failed_ = false;
  bool too_deep_ = false;
  size_t position_ = 0;
  std::string message_ = "malformed JSON";
};

// ---------------------------------------------------------------------------------------------
// Path and intrinsic syntax: the run-time parsers (json_path.h, intrinsics.h) decide, so a
// definition accepted here is one the interpreter can run; each function is the one place a
// kind of string is checked.

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// After the leading "$": skips the "$" of "$$" (the context object) or a variable name
// ("$name"). Returns the index of the first character of the selectors.
size_t SkipPathRoot(std::string_view path) {
  size_t i = 1;
  if (i < path.size() && path[i] == '$') return i + 1;
  while (i < path.size() && IsIdentChar(path[i])) ++i;
  return i;
}

// A path rooted at a JSONPath-mode variable (`$name...`, written by "Assign") is checked as the
// same path rooted at `$`: asl::ParseJsonPath knows `$` and `$$` only, and a variable's value is
// an ordinary JSON document.
std::string VariableRootedAsInput(std::string_view path) {
  if (path.size() > 1 && path[0] == '$' && IsIdentStart(path[1])) {
    return "$" + std::string(path.substr(SkipPathRoot(path)));
  }
  return std::string(path);
}

// A Reference Path: `$`, `$$` or `$var`, then only `.name`, `['name']` and `[index]` (the
// spec: it identifies a single node; no `..`, `*`, `@`, `,`, `:`, `?`).
Status CheckReferencePathSyntax(std::string_view path) {
  StatusOr<JsonPath> parsed = ParseReferencePath(VariableRootedAsInput(path));
  if (!parsed.ok()) return parsed.status();
  return Status::Ok();
}

// A Path: JSONPath from `$`, `$$` or `$var`, with `..`, `*`, slices and filters.
Status CheckJsonPathSyntax(std::string_view path) {
  StatusOr<JsonPath> parsed = ParseJsonPath(VariableRootedAsInput(path));
  if (!parsed.ok()) return parsed.status();
  return Status::Ok();
}

// An intrinsic function call: `States.Name(arg, ...)`, arguments being 'strings', numbers,
// null, booleans, paths or nested calls, the function one AWS documents with an allowed number
// of arguments.
Status CheckIntrinsicSyntax(std::string_view expression) {
  // Variables may be arguments (`$field2`): checked as paths from `$`, as above.
  std::string text;
  text.reserve(expression.size());
  bool quoted = false;
  for (size_t i = 0; i < expression.size(); ++i) {
    char c = expression[i];
    if (quoted && c == '\\' && i + 1 < expression.size()) {
      text += c;
      text += expression[++i];
      continue;
    }
    if (c == '\'') quoted = !quoted;
    text += c;
    if (!quoted && c == '$' && i + 1 < expression.size() && IsIdentStart(expression[i + 1])) {
      while (i + 1 < expression.size() && IsIdentChar(expression[i + 1])) ++i;
    }
  }
  StatusOr<IntrinsicCall> parsed = ParseIntrinsic(text);
  if (!parsed.ok()) return parsed.status();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Timestamps: RFC 3339 with an uppercase T and Z (developer guide, "Wait": "Timestamps must
// conform to the RFC3339 profile of ISO 8601").

bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t k = at; k < at + n; ++k) {
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
    v = v * 10 + (s[k] - '0');
  }
  *out = v;
  return true;
}

bool IsRfc3339(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || s[10] != 'T' || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return false;
  }
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
  int oh = 0, om = 0;
  return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && Digits(s, i + 1, 2, &oh) &&
         s[i + 3] == ':' && Digits(s, i + 4, 2, &om) && oh <= 23 && om <= 59;
}

// ---------------------------------------------------------------------------------------------
// JSONata: one problem, at the first place it shows.

bool IsJsonataString(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b != std::string::npos && e - b + 1 >= 4 && s.compare(b, 2, "{%") == 0 &&
         s.compare(e - 1, 2, "%}") == 0;
}

bool FindJsonata(const ojson& j, const std::string& loc, std::string* where) {
  if (j.is_string()) {
    if (IsJsonataString(j.get_ref<const std::string&>())) {
      *where = loc;
      return true;
    }
    return false;
  }
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      if (FindJsonata(j[i], Ptr(loc, i), where)) return true;
    }
    return false;
  }
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (key == "Comment") continue;  // free text: `{%` in a comment means nothing
      if (key == "QueryLanguage" && value == "JSONata") {
        *where = Ptr(loc, key);
        return true;
      }
      if (FindJsonata(value, Ptr(loc, key), where)) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The walk: checks every field and builds the model at the same time.

enum class Scope { kTop, kBranch, kProcessor };

constexpr std::array<std::string_view, 8> kTypeNames = {"Task",    "Pass", "Choice",   "Wait",
                                                        "Succeed", "Fail", "Parallel", "Map"};

std::vector<std::string_view> AllowedFields(StateType type) {
  switch (type) {
    case StateType::kTask:
      return {"Type",
              "Comment",
              "QueryLanguage",
              "Next",
              "End",
              "InputPath",
              "OutputPath",
              "ResultPath",
              "Parameters",
              "ResultSelector",
              "Assign",
              "Retry",
              "Catch",
              "Resource",
              "TimeoutSeconds",
              "TimeoutSecondsPath",
              "Credentials",
              "HeartbeatSeconds",
              "HeartbeatSecondsPath"};
    case StateType::kPass:
      return {"Type",       "Comment",    "QueryLanguage", "Next",   "End",   "InputPath",
              "OutputPath", "ResultPath", "Parameters",    "Result", "Assign"};
    case StateType::kChoice:
      return {"Type",       "Comment", "QueryLanguage", "InputPath",
              "OutputPath", "Choices", "Default",       "Assign"};
    case StateType::kWait:
      return {"Type",       "Comment", "QueryLanguage", "Next",        "End",           "InputPath",
              "OutputPath", "Seconds", "Timestamp",     "SecondsPath", "TimestampPath", "Assign"};
    case StateType::kSucceed:
      return {"Type", "Comment", "QueryLanguage", "InputPath", "OutputPath"};
    case StateType::kFail:
      return {"Type", "Comment", "QueryLanguage", "Error", "ErrorPath", "Cause", "CausePath"};
    case StateType::kParallel:
      return {"Type",      "Comment",    "QueryLanguage", "Next",       "End",
              "InputPath", "OutputPath", "ResultPath",    "Parameters", "ResultSelector",
              "Assign",    "Retry",      "Catch",         "Branches"};
    case StateType::kMap:
      return {"Type",
              "Comment",
              "QueryLanguage",
              "Next",
              "End",
              "InputPath",
              "OutputPath",
              "ResultPath",
              "Parameters",
              "ResultSelector",
              "Assign",
              "Retry",
              "Catch",
              "ItemProcessor",
              "Iterator",
              "ItemsPath",
              "ItemSelector",
              "ItemReader",
              "ItemBatcher",
              "ResultWriter",
              "MaxConcurrency",
              "MaxConcurrencyPath",
              "ToleratedFailurePercentage",
              "ToleratedFailurePercentagePath",
              "ToleratedFailureCount",
              "ToleratedFailureCountPath",
              "Label"};
  }
  return {};
}

std::string JoinQuoted(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += Quote(n);
  }
  return out;
}

bool Contains(const std::vector<std::string_view>& names, std::string_view n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

class Walker {
 public:
  std::vector<Problem> problems;

  StateMachine Machine(const ojson& j, const std::string& loc, Scope scope,
                       ProcessorConfig* config) {
    StateMachine m;
    const std::string what = scope == Scope::kTop      ? "the state machine"
                             : scope == Scope::kBranch ? "this Parallel branch"
                                                       : "this Map processor";
    if (!j.is_object()) {
      Add(loc, what + " must be a JSON object with \"StartAt\" and \"States\"");
      return m;
    }
    std::vector<std::string_view> allowed = {"Comment", "StartAt", "States"};
    if (scope == Scope::kTop) {
      allowed.insert(allowed.end(), {"Version", "TimeoutSeconds", "QueryLanguage"});
    }
    if (config != nullptr) allowed.emplace_back("ProcessorConfig");  // not in a legacy Iterator
    for (const auto& [key, value] : j.items()) {
      if (!Contains(allowed, key)) {
        Add(Ptr(loc, key),
            "unknown field " + Quote(key) + " in " + what + "; expected " + JoinQuoted(allowed));
      }
    }
    m.comment = OptString(j, "Comment", loc, what);
    m.version = OptString(j, "Version", loc, what);
    if (j.contains("QueryLanguage") && j["QueryLanguage"] != "JSONPath") {
      Add(Ptr(loc, "QueryLanguage"), what + ": \"QueryLanguage\" must be \"JSONPath\"");
    }
    m.timeout_seconds = OptInteger(j, "TimeoutSeconds", loc, what, 0, kMaxSeconds);
    if (config != nullptr) *config = Processor(j, loc);

    const ojson* start = Find(j, "StartAt");
    if (start == nullptr) {
      Add(Ptr(loc, "StartAt"), what + ": missing \"StartAt\" (the name of the first state)");
    } else if (!start->is_string()) {
      Add(Ptr(loc, "StartAt"), what + ": \"StartAt\" must be a string naming a state");
    } else {
      m.start_at = start->get<std::string>();
    }
    const ojson* states = Find(j, "States");
    if (states == nullptr) {
      Add(Ptr(loc, "States"), what + ": missing \"States\" (an object of named states)");
      return m;
    }
    if (!states->is_object() || states->empty()) {
      Add(Ptr(loc, "States"), what + ": \"States\" must be a non-empty object of named states");
      return m;
    }
    const std::string states_loc = Ptr(loc, "States");
    for (const auto& [name, state_json] : states->items()) {
      const std::string state_loc = Ptr(states_loc, name);
      if (name.empty() || name.size() > kMaxStateNameLength) {
        Add(state_loc, "state name " + Quote(name) + " is " + std::to_string(name.size()) +
                           " characters long; it must be 1 to " +
                           std::to_string(kMaxStateNameLength));
      }
      m.index.emplace(name, m.states.size());
      m.states.push_back(StateAt(state_json, state_loc, name));
    }
    if (!m.start_at.empty() && m.index.find(m.start_at) == m.index.end()) {
      Add(Ptr(loc, "StartAt"), what + ": \"StartAt\" names " + Quote(m.start_at) + ", which " +
                                   Missing(m.start_at, scope));
    }
    Transitions(m, states_loc, scope);
    return m;
  }

  // Every state name in the document, whatever its scope: says "in another scope" apart
  // from "nowhere" when a transition target is missing.
  void CollectNames(const ojson& j) {
    if (!j.is_object()) return;
    const ojson* states = Find(j, "States");
    if (states == nullptr || !states->is_object()) return;
    for (const auto& [name, state] : states->items()) {
      all_names_.insert(name);
      if (!state.is_object()) continue;
      if (const ojson* b = Find(state, "Branches"); b != nullptr && b->is_array()) {
        for (const ojson& branch : *b) CollectNames(branch);
      }
      if (const ojson* p = Find(state, "ItemProcessor")) CollectNames(*p);
      if (const ojson* p = Find(state, "Iterator")) CollectNames(*p);
    }
  }

 private:
  std::set<std::string, std::less<>> all_names_;

  void Add(std::string loc, std::string message) {
    problems.push_back({std::move(loc), std::move(message)});
  }

  static const ojson* Find(const ojson& j, std::string_view key) {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  }

  std::string Missing(const std::string& target, Scope scope) const {
    if (all_names_.count(target) == 0) return "is not a state";
    return scope == Scope::kTop
               ? "is inside a Parallel branch or Map processor (a transition "
                 "cannot enter one)"
               : "is outside this " +
                     std::string(scope == Scope::kBranch ? "Parallel branch" : "Map processor") +
                     " (a transition cannot leave it)";
  }

  // --- typed field readers: each adds a problem on a wrong type and returns the default.

  std::string OptString(const ojson& j, std::string_view key, const std::string& loc,
                        const std::string& who) {
    const ojson* v = Find(j, key);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " must be a string");
      return {};
    }
    return v->get<std::string>();
  }

  std::optional<int64_t> OptInteger(const ojson& j, std::string_view key, const std::string& loc,
                                    const std::string& who, int64_t min, int64_t max) {
    const ojson* v = Find(j, key);
    if (v == nullptr) return std::nullopt;
    const std::string range =
        "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!v->is_number_integer()) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " must be " + range + ", not " + v->dump());
      return std::nullopt;
    }
    // Unsigned values above int64's range are out of range too.
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " must be " + range + ", not " + v->dump());
      return std::nullopt;
    }
    const auto n = v->get<int64_t>();
    if (n < min || n > max) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " must be " + range + ", not " + v->dump());
      return std::nullopt;
    }
    return n;
  }

  std::optional<double> OptNumber(const ojson& j, std::string_view key, const std::string& loc,
                                  const std::string& who, double min, double max) {
    const ojson* v = Find(j, key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number() || v->get<double>() < min || v->get<double>() > max) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " must be a number from " + FormatBound(min) +
                             " to " + FormatBound(max) + ", not " + v->dump());
      return std::nullopt;
    }
    return v->get<double>();
  }

  // The shape every nullable path field shares: absent, null, or a string (kPath); anything
  // else is reported as "must be a <what> string or null" and read as absent.
  PathField NullablePathAt(const ojson& j, std::string_view key, const std::string& loc,
                           const std::string& who, std::string_view what) {
    PathField f;
    const ojson* v = Find(j, key);
    if (v == nullptr) return f;
    if (v->is_null()) {
      f.kind = PathField::Kind::kNull;
      return f;
    }
    if (!v->is_string()) {
      Add(Ptr(loc, key),
          who + ": " + Quote(key) + " must be a " + std::string(what) + " string or null");
      return f;
    }
    f.kind = PathField::Kind::kPath;
    f.path = v->get<std::string>();
    return f;
  }

  // A Path (InputPath, OutputPath): a string or null.
  PathField PathAt(const ojson& j, std::string_view key, const std::string& loc,
                   const std::string& who) {
    PathField f = NullablePathAt(j, key, loc, who, "path");
    if (f.kind != PathField::Kind::kPath) return f;
    if (Status s = CheckJsonPathSyntax(f.path); !s.ok()) {
      Add(Ptr(loc, key),
          who + ": " + Quote(key) + " " + Quote(f.path) + " is not a valid path: " + s.message());
    }
    return f;
  }

  // A ResultPath: a reference path into the state's input (not the context object, not a
  // variable: those are read-only), or null.
  PathField ResultPathAt(const ojson& j, std::string_view key, const std::string& loc,
                         const std::string& who) {
    PathField f = NullablePathAt(j, key, loc, who, "reference path");
    if (f.kind != PathField::Kind::kPath) return f;
    const std::string& p = f.path;
    std::string why;
    if (p.starts_with("$$")) {
      why = "it cannot write into the context object ($$)";
    } else if (p.size() > 1 && p[0] == '$' && IsIdentStart(p[1])) {
      why = "it cannot be a variable (" + p.substr(0, SkipPathRoot(p)) +
            "); assign variables with \"Assign\"";
    } else if (Status s = CheckReferencePathSyntax(p); !s.ok()) {
      why = s.message();
    }
    if (!why.empty()) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " " + Quote(p) +
                             " must be a reference path into the state's input: " + why);
    }
    return f;
  }

  // A field holding a Reference Path (ItemsPath, SecondsPath, ...): a string.
  std::string RefPathAt(const ojson& j, std::string_view key, const std::string& loc,
                        const std::string& who) {
    const ojson* v = Find(j, key);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " must be a reference path string");
      return {};
    }
    std::string p = v->get<std::string>();
    if (Status s = CheckReferencePathSyntax(p); !s.ok()) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " " + Quote(p) +
                             " is not a valid reference path: " + s.message());
    }
    return p;
  }

  // A payload template (Parameters, ResultSelector, ItemSelector, Credentials, Assign, ...):
  // `name.$` fields hold a path or an intrinsic, and no two fields may have the same name once
  // the ".$" is stripped (the spec).
  void Template(const ojson& j, const std::string& loc, const std::string& who) {
    if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i) Template(j[i], Ptr(loc, i), who);
      return;
    }
    if (!j.is_object()) return;
    std::map<std::string, std::string, std::less<>> stripped;  // name without ".$" -> key
    for (const auto& [key, value] : j.items()) {
      const bool dynamic = key.size() > 2 && key.ends_with(".$");
      const std::string name = dynamic ? key.substr(0, key.size() - 2) : key;
      auto [it, fresh] = stripped.emplace(name, key);
      if (!fresh) {
        Add(Ptr(loc, key), who + ": fields " + Quote(it->second) + " and " + Quote(key) +
                               " both become " + Quote(name) +
                               " once the \".$\" suffix is removed");
      }
      if (!dynamic) {
        Template(value, Ptr(loc, key), who);
        continue;
      }
      if (!value.is_string()) {
        Add(Ptr(loc, key), who + ": field " + Quote(key) +
                               " ends in \".$\", so its value must be a path or intrinsic "
                               "function string, not " +
                               value.dump());
        continue;
      }
      const auto& text = value.get_ref<const std::string&>();
      Status s = text.starts_with("States.") ? CheckIntrinsicSyntax(text)
                 : text.starts_with("$")     ? CheckJsonPathSyntax(text)
                                             : InvalidArgument(
                                                   "expected a path (\"$...\") or an intrinsic "
                                                       "function (\"States.Name(...)\")");
      if (!s.ok()) {
        Add(Ptr(loc, key),
            who + ": field " + Quote(key) + " value " + Quote(text) + ": " + s.message());
      }
    }
  }

  std::optional<json> TemplateAt(const ojson& j, std::string_view key, const std::string& loc,
                                 const std::string& who, bool object_only) {
    const ojson* v = Find(j, key);
    if (v == nullptr) return std::nullopt;
    if (object_only && !v->is_object()) {
      Add(Ptr(loc, key), who + ": " + Quote(key) + " must be a JSON object");
      return std::nullopt;
    }
    Template(*v, Ptr(loc, key), who + " " + Quote(key));
    return json(*v);
  }

  // `ErrorEquals`: a non-empty array of non-empty strings; "States.ALL" alone.
  std::vector<std::string> ErrorEquals(const ojson& j, const std::string& loc,
                                       const std::string& who, bool* has_all) {
    std::vector<std::string> out;
    const ojson* v = Find(j, "ErrorEquals");
    const std::string at = Ptr(loc, "ErrorEquals");
    if (v == nullptr) {
      Add(at, who + ": missing \"ErrorEquals\" (a non-empty array of error names)");
      return out;
    }
    if (!v->is_array() || v->empty()) {
      Add(at, who + ": \"ErrorEquals\" must be a non-empty array of error names");
      return out;
    }
    for (size_t i = 0; i < v->size(); ++i) {
      const ojson& e = (*v)[i];
      if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
        Add(Ptr(at, i), who + ": \"ErrorEquals\" must hold error name strings, not " + e.dump());
        continue;
      }
      out.push_back(e.get<std::string>());
    }
    *has_all = std::find(out.begin(), out.end(), "States.ALL") != out.end();
    if (*has_all && v->size() > 1) {
      Add(at, who + ": \"States.ALL\" must appear alone in \"ErrorEquals\"");
    }
    return out;
  }

  std::vector<Retrier> RetryAt(const ojson& state, const std::string& loc, const std::string& who) {
    std::vector<Retrier> out;
    const ojson* v = Find(state, "Retry");
    if (v == nullptr) return out;
    const std::string at = Ptr(loc, "Retry");
    if (!v->is_array()) {
      Add(at, who + ": \"Retry\" must be an array of retriers");
      return out;
    }
    static const std::vector<std::string_view> kAllowed = {
        "ErrorEquals",     "IntervalSeconds", "MaxAttempts", "BackoffRate",
        "MaxDelaySeconds", "JitterStrategy",  "Comment"};
    for (size_t i = 0; i < v->size(); ++i) {
      const ojson& r = (*v)[i];
      const std::string rloc = Ptr(at, i);
      const std::string rwho = who + ", Retry[" + std::to_string(i) + "]";
      if (!r.is_object()) {
        Add(rloc, rwho + ": a retrier must be a JSON object");
        continue;
      }
      Unknown(r, rloc, rwho, kAllowed);
      Retrier retrier;
      bool has_all = false;
      retrier.error_equals = ErrorEquals(r, rloc, rwho, &has_all);
      if (has_all && i + 1 != v->size()) {
        Add(Ptr(rloc, "ErrorEquals"), rwho + ": the retrier with \"States.ALL\" must be last");
      }
      retrier.interval_seconds =
          OptInteger(r, "IntervalSeconds", rloc, rwho, 1, kMaxSeconds).value_or(1);
      retrier.max_attempts = OptInteger(r, "MaxAttempts", rloc, rwho, 0, kMaxSeconds).value_or(3);
      retrier.backoff_rate = OptNumber(r, "BackoffRate", rloc, rwho, 1.0, 1e9).value_or(2.0);
      retrier.max_delay_seconds = OptInteger(r, "MaxDelaySeconds", rloc, rwho, 1, kMaxSeconds);
      if (const ojson* js = Find(r, "JitterStrategy")) {
        if (*js == "FULL") {
          retrier.jitter_strategy = JitterStrategy::kFull;
        } else if (*js != "NONE") {
          Add(Ptr(rloc, "JitterStrategy"),
              rwho + ": \"JitterStrategy\" must be \"FULL\" or \"NONE\", not " + js->dump());
        }
      }
      out.push_back(std::move(retrier));
    }
    return out;
  }

  std::vector<Catcher> CatchAt(const ojson& state, const std::string& loc, const std::string& who) {
    std::vector<Catcher> out;
    const ojson* v = Find(state, "Catch");
    if (v == nullptr) return out;
    const std::string at = Ptr(loc, "Catch");
    if (!v->is_array()) {
      Add(at, who + ": \"Catch\" must be an array of catchers");
      return out;
    }
    static const std::vector<std::string_view> kAllowed = {"ErrorEquals", "Next", "ResultPath",
                                                           "Assign", "Comment"};
    for (size_t i = 0; i < v->size(); ++i) {
      const ojson& c = (*v)[i];
      const std::string cloc = Ptr(at, i);
      const std::string cwho = who + ", Catch[" + std::to_string(i) + "]";
      if (!c.is_object()) {
        Add(cloc, cwho + ": a catcher must be a JSON object");
        continue;
      }
      Unknown(c, cloc, cwho, kAllowed);
      Catcher catcher;
      bool has_all = false;
      catcher.error_equals = ErrorEquals(c, cloc, cwho, &has_all);
      if (has_all && i + 1 != v->size()) {
        Add(Ptr(cloc, "ErrorEquals"), cwho + ": the catcher with \"States.ALL\" must be last");
      }
      const ojson* next = Find(c, "Next");
      if (next == nullptr || !next->is_string()) {
        Add(Ptr(cloc, "Next"), cwho + ": \"Next\" must be a string naming the state to go to");
      } else {
        catcher.next = next->get<std::string>();
      }
      catcher.result_path = ResultPathAt(c, "ResultPath", cloc, cwho);
      catcher.assign = TemplateAt(c, "Assign", cloc, cwho, /*object_only=*/true);
      out.push_back(std::move(catcher));
    }
    return out;
  }

  void Unknown(const ojson& j, const std::string& loc, const std::string& who,
               const std::vector<std::string_view>& allowed) {
    for (const auto& [key, value] : j.items()) {
      if (!Contains(allowed, key)) {
        Add(Ptr(loc, key),
            who + ": unknown field " + Quote(key) + "; expected " + JoinQuoted(allowed));
      }
    }
  }

  // At most one of `a` and `b` (a value and the path that reads it at run time).
  void AtMostOne(const ojson& j, std::string_view a, std::string_view b, const std::string& loc,
                 const std::string& who) {
    if (j.contains(a) && j.contains(b)) {
      Add(Ptr(loc, b), who + ": has both " + Quote(a) + " and " + Quote(b) + "; use only one");
    }
  }

  State StateAt(const ojson& j, const std::string& loc, const std::string& name) {
    State st;
    st.name = name;
    const std::string who = "state " + Quote(name);
    if (!j.is_object()) {
      Add(loc, who + " must be a JSON object with a \"Type\"");
      return st;
    }
    const ojson* type = Find(j, "Type");
    auto known =
        type != nullptr && type->is_string()
            ? std::find(kTypeNames.begin(), kTypeNames.end(), type->get_ref<const std::string&>())
            : kTypeNames.end();
    if (known == kTypeNames.end()) {
      Add(Ptr(loc, "Type"),
          who + ": \"Type\" must be one of " + JoinQuoted({kTypeNames.begin(), kTypeNames.end()}) +
              (type == nullptr ? std::string(" (missing)") : ", not " + type->dump()));
      return st;
    }
    st.type = static_cast<StateType>(known - kTypeNames.begin());
    const std::string twho = std::string(StateTypeName(st.type)) + " " + who;

    const std::vector<std::string_view> allowed = AllowedFields(st.type);
    for (const auto& [key, value] : j.items()) {
      if (Contains(allowed, key)) continue;
      if ((key == "Next" || key == "End") &&
          (st.type == StateType::kChoice || st.type == StateType::kSucceed ||
           st.type == StateType::kFail)) {
        Add(Ptr(loc, key), twho + ": a " + std::string(StateTypeName(st.type)) +
                               " state must not have " + Quote(key) +
                               (st.type == StateType::kChoice
                                    ? " (its transitions are in \"Choices\" and \"Default\")"
                                    : " (it ends the execution)"));
        continue;
      }
      Add(Ptr(loc, key), twho + ": unknown field " + Quote(key) + " for a " +
                             std::string(StateTypeName(st.type)) + " state; expected " +
                             JoinQuoted(allowed));
    }
    if (j.contains("QueryLanguage") && j["QueryLanguage"] != "JSONPath") {
      Add(Ptr(loc, "QueryLanguage"), twho + ": \"QueryLanguage\" must be \"JSONPath\"");
    }
    st.comment = OptString(j, "Comment", loc, twho);
    st.input_path = PathAt(j, "InputPath", loc, twho);
    st.output_path = PathAt(j, "OutputPath", loc, twho);
    st.result_path = ResultPathAt(j, "ResultPath", loc, twho);
    st.result_selector = TemplateAt(j, "ResultSelector", loc, twho, /*object_only=*/false);
    st.assign = TemplateAt(j, "Assign", loc, twho, /*object_only=*/true);
    st.retry = RetryAt(j, loc, twho);
    st.catchers = CatchAt(j, loc, twho);
    if (st.type != StateType::kMap) {
      st.parameters = TemplateAt(j, "Parameters", loc, twho, /*object_only=*/false);
    }

    const bool terminal = st.type == StateType::kChoice || st.type == StateType::kSucceed ||
                          st.type == StateType::kFail;
    if (!terminal) {
      const ojson* next = Find(j, "Next");
      const ojson* end = Find(j, "End");
      if (next != nullptr && end != nullptr) {
        Add(Ptr(loc, "End"), twho + ": has both \"Next\" and \"End\"; use exactly one");
      } else if (next == nullptr && end == nullptr) {
        Add(loc, twho + ": needs \"Next\" (the state to go to) or \"End\": true");
      }
      if (next != nullptr) {
        if (next->is_string()) {
          st.next = next->get<std::string>();
        } else {
          Add(Ptr(loc, "Next"), twho + ": \"Next\" must be a string naming a state");
        }
      }
      if (end != nullptr) {
        if (*end == true) {
          st.end = true;
        } else {
          Add(Ptr(loc, "End"),
              twho + ": \"End\" must be true (leave it out otherwise), not " + end->dump());
        }
      }
    }

    switch (st.type) {
      case StateType::kTask:
        st.fields = Task(j, loc, twho);
        break;
      case StateType::kPass: {
        PassFields p;
        if (const ojson* r = Find(j, "Result")) p.result = json(*r);
        st.fields = std::move(p);
        break;
      }
      case StateType::kChoice:
        st.fields = Choice(j, loc, twho);
        break;
      case StateType::kWait:
        st.fields = Wait(j, loc, twho);
        break;
      case StateType::kSucceed:
        st.fields = SucceedFields{};
        break;
      case StateType::kFail:
        st.fields = Fail(j, loc, twho);
        break;
      case StateType::kParallel:
        st.fields = Parallel(j, loc, twho);
        break;
      case StateType::kMap:
        st.fields = Map(j, loc, twho, &st);
        break;
    }
    return st;
  }

  TaskFields Task(const ojson& j, const std::string& loc, const std::string& who) {
    TaskFields t;
    const ojson* r = Find(j, "Resource");
    if (r == nullptr) {
      Add(Ptr(loc, "Resource"), who + ": missing \"Resource\" (the URI of the task to run)");
    } else if ((r->is_string() && !r->get_ref<const std::string&>().empty()) || r->is_object()) {
      // An object is a CloudFormation reference (`Ref`, `Fn::GetAtt`) resolved before deploy.
      t.resource = json(*r);
    } else {
      Add(Ptr(loc, "Resource"), who + ": \"Resource\" must be a URI string, not " + r->dump());
    }
    t.timeout_seconds = OptInteger(j, "TimeoutSeconds", loc, who, 1, kMaxSeconds);
    t.timeout_seconds_path = RefPathAt(j, "TimeoutSecondsPath", loc, who);
    AtMostOne(j, "TimeoutSeconds", "TimeoutSecondsPath", loc, who);
    t.heartbeat_seconds = OptInteger(j, "HeartbeatSeconds", loc, who, 1, kMaxSeconds);
    t.heartbeat_seconds_path = RefPathAt(j, "HeartbeatSecondsPath", loc, who);
    AtMostOne(j, "HeartbeatSeconds", "HeartbeatSecondsPath", loc, who);
    // A heartbeat must come more often than the time-out (developer guide, "Task": the
    // HeartbeatSeconds value must be less than TimeoutSeconds; the default time-out is
    // 99999999).
    if (t.heartbeat_seconds && *t.heartbeat_seconds >= t.timeout_seconds.value_or(kMaxSeconds)) {
      Add(Ptr(loc, "HeartbeatSeconds"),
          who + ": \"HeartbeatSeconds\" (" + std::to_string(*t.heartbeat_seconds) +
              ") must be less than \"TimeoutSeconds\" (" +
              std::to_string(t.timeout_seconds.value_or(kMaxSeconds)) + ")");
    }
    t.credentials = TemplateAt(j, "Credentials", loc, who, /*object_only=*/true);
    return t;
  }

  WaitFields Wait(const ojson& j, const std::string& loc, const std::string& who) {
    WaitFields w;
    int count = 0;
    for (std::string_view k : {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}) {
      count += j.contains(k) ? 1 : 0;
    }
    if (count != 1) {
      Add(loc, who +
                   ": needs exactly one of \"Seconds\", \"Timestamp\", \"SecondsPath\", "
                   "\"TimestampPath\"; found " +
                   std::to_string(count));
    }
    w.seconds = OptInteger(j, "Seconds", loc, who, 0, kMaxSeconds);
    w.timestamp = OptString(j, "Timestamp", loc, who);
    if (!w.timestamp.empty() && !IsRfc3339(w.timestamp)) {
      Add(Ptr(loc, "Timestamp"), who + ": \"Timestamp\" " + Quote(w.timestamp) +
                                     " is not an RFC 3339 time such as 2016-03-14T01:59:00Z");
    }
    w.seconds_path = RefPathAt(j, "SecondsPath", loc, who);
    w.timestamp_path = RefPathAt(j, "TimestampPath", loc, who);
    return w;
  }

  FailFields Fail(const ojson& j, const std::string& loc, const std::string& who) {
    FailFields f;
    f.error = OptString(j, "Error", loc, who);
    f.cause = OptString(j, "Cause", loc, who);
    AtMostOne(j, "Error", "ErrorPath", loc, who);
    AtMostOne(j, "Cause", "CausePath", loc, who);
    // ErrorPath and CausePath take a reference path or an intrinsic function (developer
    // guide, "Fail").
    auto dynamic = [&](std::string_view key, std::string* out) {
      *out = OptString(j, key, loc, who);
      if (out->empty()) return;
      Status s =
          out->starts_with("States.") ? CheckIntrinsicSyntax(*out) : CheckReferencePathSyntax(*out);
      if (!s.ok()) {
        Add(Ptr(loc, key),
            who + ": " + Quote(key) + " " + Quote(*out) +
                " must be a reference path or an intrinsic function: " + s.message());
      }
    };
    dynamic("ErrorPath", &f.error_path);
    dynamic("CausePath", &f.cause_path);
    return f;
  }

  ParallelFields Parallel(const ojson& j, const std::string& loc, const std::string& who) {
    ParallelFields p;
    const ojson* b = Find(j, "Branches");
    if (b == nullptr) {
      Add(Ptr(loc, "Branches"), who + ": missing \"Branches\" (an array of state machines)");
      return p;
    }
    if (!b->is_array() || b->empty()) {
      Add(Ptr(loc, "Branches"), who +
                                    ": \"Branches\" must be a non-empty array of state "
                                    "machines");
      return p;
    }
    for (size_t i = 0; i < b->size(); ++i) {
      p.branches.push_back(Machine((*b)[i], Ptr(Ptr(loc, "Branches"), i), Scope::kBranch, nullptr));
    }
    return p;
  }

  ProcessorConfig Processor(const ojson& j, const std::string& loc) {
    ProcessorConfig c;
    const ojson* pc = Find(j, "ProcessorConfig");
    if (pc == nullptr) return c;
    const std::string at = Ptr(loc, "ProcessorConfig");
    const std::string who = "Map processor \"ProcessorConfig\"";
    if (!pc->is_object()) {
      Add(at, who + " must be a JSON object");
      return c;
    }
    Unknown(*pc, at, who, {"Mode", "ExecutionType"});
    const ojson* mode = Find(*pc, "Mode");
    if (mode == nullptr || *mode == "INLINE") {
      c.mode = ProcessorMode::kInline;
    } else if (*mode == "DISTRIBUTED") {
      c.mode = ProcessorMode::kDistributed;
    } else {
      Add(Ptr(at, "Mode"),
          who + ": \"Mode\" must be \"INLINE\" or \"DISTRIBUTED\", not " + mode->dump());
    }
    if (const ojson* et = Find(*pc, "ExecutionType")) {
      if (*et == "STANDARD" || *et == "EXPRESS") {
        c.execution_type = et->get<std::string>();
      } else {
        Add(Ptr(at, "ExecutionType"),
            who + ": \"ExecutionType\" must be \"STANDARD\" or \"EXPRESS\", not " + et->dump());
      }
    } else if (c.mode == ProcessorMode::kDistributed) {
      Add(Ptr(at, "ExecutionType"),
          who + ": DISTRIBUTED mode needs \"ExecutionType\" (\"STANDARD\" or \"EXPRESS\")");
    }
    return c;
  }

  std::optional<json> RawObject(const ojson& j, std::string_view key, const std::string& loc,
                                const std::string& who, bool needs_resource) {
    const ojson* v = Find(j, key);
    if (v == nullptr) return std::nullopt;
    const std::string at = Ptr(loc, key);
    if (!v->is_object()) {
      Add(at, who + ": " + Quote(key) + " must be a JSON object");
      return std::nullopt;
    }
    if (needs_resource) {
      const ojson* r = Find(*v, "Resource");
      if (r == nullptr || !r->is_string()) {
        Add(Ptr(at, "Resource"), who + ": " + Quote(key) + " needs a \"Resource\" URI string");
      }
    }
    if (const ojson* p = Find(*v, "Parameters")) {
      Template(*p, Ptr(at, "Parameters"), who + " " + Quote(key));
    }
    return json(*v);
  }

  MapFields Map(const ojson& j, const std::string& loc, const std::string& who, State* st) {
    MapFields m;
    const bool has_processor = j.contains("ItemProcessor");
    const bool has_iterator = j.contains("Iterator");
    if (has_processor == has_iterator) {
      Add(has_iterator ? Ptr(loc, "Iterator") : loc,
          who + ": needs exactly one of \"ItemProcessor\" and \"Iterator\" (the legacy name)");
    }
    if (has_processor) {
      m.processor = Machine(j["ItemProcessor"], Ptr(loc, "ItemProcessor"), Scope::kProcessor,
                            &m.processor_config);
    } else if (has_iterator) {
      m.legacy_iterator = true;
      m.processor = Machine(j["Iterator"], Ptr(loc, "Iterator"), Scope::kProcessor, nullptr);
    }
    AtMostOne(j, "ItemSelector", "Parameters", loc, who);
    // The legacy `Parameters` of a Map is its item selector.
    m.item_selector = TemplateAt(j, "ItemSelector", loc, who, /*object_only=*/false);
    if (!m.item_selector) m.item_selector = TemplateAt(j, "Parameters", loc, who, false);
    st->parameters.reset();
    m.items_path = RefPathAt(j, "ItemsPath", loc, who);
    m.max_concurrency = OptInteger(j, "MaxConcurrency", loc, who, 0, kMaxSeconds).value_or(0);
    m.max_concurrency_path = RefPathAt(j, "MaxConcurrencyPath", loc, who);
    AtMostOne(j, "MaxConcurrency", "MaxConcurrencyPath", loc, who);
    m.tolerated_failure_percentage =
        OptNumber(j, "ToleratedFailurePercentage", loc, who, 0.0, 100.0);
    m.tolerated_failure_percentage_path = RefPathAt(j, "ToleratedFailurePercentagePath", loc, who);
    AtMostOne(j, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", loc, who);
    m.tolerated_failure_count =
        OptInteger(j, "ToleratedFailureCount", loc, who, 0, std::numeric_limits<int64_t>::max());
    m.tolerated_failure_count_path = RefPathAt(j, "ToleratedFailureCountPath", loc, who);
    AtMostOne(j, "ToleratedFailureCount", "ToleratedFailureCountPath", loc, who);
    m.label = OptString(j, "Label", loc, who);
    m.item_reader = RawObject(j, "ItemReader", loc, who, /*needs_resource=*/true);
    m.result_writer = RawObject(j, "ResultWriter", loc, who, /*needs_resource=*/true);
    m.item_batcher = RawObject(j, "ItemBatcher", loc, who, /*needs_resource=*/false);
    if (const ojson* ir = Find(j, "ItemReader"); ir != nullptr && ir->is_object()) {
      if (const ojson* rc = Find(*ir, "ReaderConfig"); rc != nullptr && rc->is_object()) {
        const std::string rloc = Ptr(Ptr(loc, "ItemReader"), "ReaderConfig");
        AtMostOne(*rc, "MaxItems", "MaxItemsPath", rloc, who + " \"ItemReader\"");
      }
    }
    if (const ojson* ib = Find(j, "ItemBatcher"); ib != nullptr && ib->is_object()) {
      const std::string bloc = Ptr(loc, "ItemBatcher");
      const std::string bwho = who + " \"ItemBatcher\"";
      AtMostOne(*ib, "MaxItemsPerBatch", "MaxItemsPerBatchPath", bloc, bwho);
      AtMostOne(*ib, "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", bloc, bwho);
      if (const ojson* bi = Find(*ib, "BatchInput")) {
        Template(*bi, Ptr(Ptr(loc, "ItemBatcher"), "BatchInput"), who + " \"BatchInput\"");
      }
    }
    return m;
  }

  ChoiceFields Choice(const ojson& j, const std::string& loc, const std::string& who) {
    ChoiceFields c;
    c.default_state = OptString(j, "Default", loc, who);
    const ojson* choices = Find(j, "Choices");
    const std::string at = Ptr(loc, "Choices");
    if (choices == nullptr) {
      Add(at, who + ": missing \"Choices\" (a non-empty array of Choice rules)");
      return c;
    }
    if (!choices->is_array() || choices->empty()) {
      Add(at, who + ": \"Choices\" must be a non-empty array of Choice rules");
      return c;
    }
    for (size_t i = 0; i < choices->size(); ++i) {
      const ojson& rule = (*choices)[i];
      const std::string rloc = Ptr(at, i);
      const std::string rwho = who + ", Choices[" + std::to_string(i) + "]";
      if (!rule.is_object()) {
        Add(rloc, rwho + ": a Choice rule must be a JSON object");
        continue;
      }
      ChoiceRule out;
      const ojson* next = Find(rule, "Next");
      if (next == nullptr || !next->is_string()) {
        Add(Ptr(rloc, "Next"), rwho + ": a top-level Choice rule needs \"Next\" (a state name)");
      } else {
        out.next = next->get<std::string>();
      }
      if (const ojson* a = Find(rule, "Assign")) {
        if (!a->is_object()) {
          Add(Ptr(rloc, "Assign"), rwho + ": \"Assign\" must be a JSON object");
        } else {
          Template(*a, Ptr(rloc, "Assign"), rwho + " \"Assign\"");
        }
      }
      Rule(rule, rloc, rwho, /*top=*/true);
      out.rule = json(rule);
      c.choices.push_back(std::move(out));
    }
    return c;
  }

  enum class Operand { kString, kNumber, kBoolean, kTimestamp, kPath };

  static std::optional<Operand> Comparison(std::string_view op) {
    if (op.ends_with("Path") && op != "Variable") {
      // StringEqualsPath, NumericLessThanPath, ...: the operand is read from the input.
      std::string_view base = op.substr(0, op.size() - 4);
      if (base != "StringMatches" && Comparison(base).has_value() && !base.starts_with("Is")) {
        return Operand::kPath;
      }
      return std::nullopt;
    }
    static constexpr std::array<std::string_view, 5> kSuffixes = {
        "Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"};
    auto with = [&](std::string_view prefix) {
      if (!op.starts_with(prefix)) return false;
      std::string_view rest = op.substr(prefix.size());
      return std::find(kSuffixes.begin(), kSuffixes.end(), rest) != kSuffixes.end();
    };
    if (with("String") || op == "StringMatches") return Operand::kString;
    if (with("Numeric")) return Operand::kNumber;
    if (with("Timestamp")) return Operand::kTimestamp;
    if (op == "BooleanEquals") return Operand::kBoolean;
    if (op == "IsNull" || op == "IsPresent" || op == "IsNumeric" || op == "IsString" ||
        op == "IsBoolean" || op == "IsTimestamp") {
      return Operand::kBoolean;
    }
    return std::nullopt;
  }

  void Rule(const ojson& r, const std::string& loc, const std::string& who, bool top) {
    std::vector<std::string> ops;
    for (const auto& [key, value] : r.items()) {
      if (key == "And" || key == "Or" || key == "Not" || Comparison(key).has_value()) {
        ops.push_back(key);
      } else if (key == "Variable" || key == "Comment" ||
                 (top && (key == "Next" || key == "Assign"))) {
        continue;
      } else if (key == "Next") {
        Add(Ptr(loc, key), who + ": a nested Choice rule must not have \"Next\"");
      } else {
        Add(Ptr(loc, key), who + ": unknown field " + Quote(key) +
                               " in a Choice rule; expected \"Variable\" with one comparison "
                               "operator (StringEquals, NumericLessThan, IsPresent, ...), or "
                               "\"And\", \"Or\", \"Not\"");
      }
    }
    if (ops.size() != 1) {
      std::string found;
      for (const std::string& o : ops) found += (found.empty() ? "" : ", ") + Quote(o);
      Add(loc, who +
                   ": a Choice rule needs exactly one comparison operator or \"And\"/\"Or\"/"
                   "\"Not\"; found " +
                   (ops.empty() ? std::string("none") : found));
      return;
    }
    const std::string& op = ops[0];
    const ojson& operand = r[op];
    const std::string oloc = Ptr(loc, op);
    if (op == "And" || op == "Or") {
      if (r.contains("Variable")) {
        Add(Ptr(loc, "Variable"), who + ": an " + Quote(op) + " rule takes no \"Variable\"");
      }
      if (!operand.is_array() || operand.empty()) {
        Add(oloc, who + ": " + Quote(op) + " must be a non-empty array of Choice rules");
        return;
      }
      for (size_t i = 0; i < operand.size(); ++i) {
        if (!operand[i].is_object()) {
          Add(Ptr(oloc, i), who + ": " + Quote(op) + " must hold Choice rule objects");
          continue;
        }
        std::string nested = who;
        nested += ", " + op;
        nested += "[" + std::to_string(i) + "]";
        Rule(operand[i], Ptr(oloc, i), nested, false);
      }
      return;
    }
    if (op == "Not") {
      if (r.contains("Variable")) {
        Add(Ptr(loc, "Variable"), who + ": a \"Not\" rule takes no \"Variable\"");
      }
      if (!operand.is_object()) {
        Add(oloc, who + ": \"Not\" must be one Choice rule object");
        return;
      }
      Rule(operand, oloc, who + ", Not", false);
      return;
    }
    const ojson* var = Find(r, "Variable");
    if (var == nullptr) {
      Add(Ptr(loc, "Variable"),
          who + ": the comparison " + Quote(op) + " needs \"Variable\" (the path to compare)");
    } else if (!var->is_string()) {
      Add(Ptr(loc, "Variable"), who + ": \"Variable\" must be a path string");
    } else if (Status s = CheckJsonPathSyntax(var->get_ref<const std::string&>()); !s.ok()) {
      Add(Ptr(loc, "Variable"),
          who + ": \"Variable\" " + var->dump() + " is not a valid path: " + s.message());
    }
    const Operand kind = *Comparison(op);
    switch (kind) {
      case Operand::kString:
        if (!operand.is_string()) Add(oloc, who + ": " + Quote(op) + " compares to a string");
        break;
      case Operand::kNumber:
        if (!operand.is_number()) Add(oloc, who + ": " + Quote(op) + " compares to a number");
        break;
      case Operand::kBoolean:
        if (!operand.is_boolean()) {
          Add(oloc, who + ": " + Quote(op) + " takes true or false, not " + operand.dump());
        }
        break;
      case Operand::kTimestamp:
        if (!operand.is_string() || !IsRfc3339(operand.get_ref<const std::string&>())) {
          Add(oloc, who + ": " + Quote(op) +
                        " compares to an RFC 3339 timestamp string such as "
                        "2016-03-14T01:59:00Z, not " +
                        operand.dump());
        }
        break;
      case Operand::kPath:
        if (!operand.is_string()) {
          Add(oloc, who + ": " + Quote(op) + " takes a reference path string");
        } else if (Status s = CheckReferencePathSyntax(operand.get_ref<const std::string&>());
                   !s.ok()) {
          Add(oloc, who + ": " + Quote(op) + " " + operand.dump() +
                        " is not a valid reference path: " + s.message());
        }
        break;
    }
  }

  // Every transition names a state of this scope; every state is reachable from StartAt;
  // something ends the scope.
  void Transitions(const StateMachine& m, const std::string& states_loc, Scope scope) {
    auto check = [&](const std::string& target, const std::string& loc, const State& from,
                     std::string_view field) {
      if (target.empty() || m.index.count(target) != 0) return;
      Add(loc, "state " + Quote(from.name) + ": " + std::string(field) + " names " + Quote(target) +
                   ", which " + Missing(target, scope));
    };
    bool has_terminal = false;
    for (const State& s : m.states) {
      const std::string sloc = Ptr(states_loc, s.name);
      check(s.next, Ptr(sloc, "Next"), s, "\"Next\"");
      for (size_t i = 0; i < s.catchers.size(); ++i) {
        check(s.catchers[i].next, Ptr(Ptr(Ptr(sloc, "Catch"), i), "Next"), s,
              "\"Catch\"[" + std::to_string(i) + "] \"Next\"");
      }
      if (const ChoiceFields* c = s.choice()) {
        for (size_t i = 0; i < c->choices.size(); ++i) {
          check(c->choices[i].next, Ptr(Ptr(Ptr(sloc, "Choices"), i), "Next"), s,
                "\"Choices\"[" + std::to_string(i) + "] \"Next\"");
        }
        check(c->default_state, Ptr(sloc, "Default"), s, "\"Default\"");
      }
      has_terminal =
          has_terminal || s.end || s.type == StateType::kSucceed || s.type == StateType::kFail;
    }
    if (!m.states.empty() && !has_terminal) {
      Add(states_loc,
          "no state ends this scope: it needs a state with \"End\": true, or a "
          "Succeed or Fail state");
    }
    // Reachability from StartAt (only when StartAt itself is fine).
    auto start = m.index.find(m.start_at);
    if (start == m.index.end()) return;
    std::vector<bool> seen(m.states.size(), false);
    std::vector<size_t> todo = {start->second};
    seen[start->second] = true;
    auto visit = [&](const std::string& target) {
      auto it = m.index.find(target);
      if (it != m.index.end() && !seen[it->second]) {
        seen[it->second] = true;
        todo.push_back(it->second);
      }
    };
    while (!todo.empty()) {
      const State& s = m.states[todo.back()];
      todo.pop_back();
      visit(s.next);
      for (const Catcher& c : s.catchers) visit(c.next);
      if (const ChoiceFields* c = s.choice()) {
        for (const ChoiceRule& r : c->choices) visit(r.next);
        visit(c->default_state);
      }
    }
    for (size_t i = 0; i < m.states.size(); ++i) {
      if (!seen[i]) {
        Add(Ptr(states_loc, m.states[i].name),
            "state " + Quote(m.states[i].name) +
                " is unreachable: no transition leads to it from \"StartAt\" " + Quote(m.start_at));
      }
    }
  }
};

struct Analysis {
  StateMachine machine;
  std::vector<Problem> problems;
};

Analysis Analyze(std::string_view text) {
  Analysis a;
  ojson doc;
  try {
    DuplicateKeySax sax(&doc, &a.problems);
    const bool ok = ojson::sax_parse(text.begin(), text.end(), &sax);
    if (sax.too_deep()) return a;
    if (!ok || sax.failed()) {
      a.problems.clear();  // the duplicate keys of half a document are beside the point
      a.problems.push_back({"", "malformed JSON at " +
                                    LineCol(text, sax.position() == 0 ? 0 : sax.position() - 1) +
                                    ": " + sax.explanation()});
      return a;
    }
  } catch (const std::exception& e) {
    a.problems.clear();
    a.problems.push_back({"", std::string("malformed JSON: ") + e.what()});
    return a;
  }
  std::string where;
  if (FindJsonata(doc, "", &where)) {
    // One clear problem rather than a cascade of JSONata fields JSONPath does not know.
    a.problems.clear();
    a.problems.push_back({where, std::string(kJsonataMessage)});
    return a;
  }
  try {
    Walker w;
    w.CollectNames(doc);
    a.machine = w.Machine(doc, "", Scope::kTop, nullptr);
    a.problems.insert(a.problems.end(), w.problems.begin(), w.problems.end());
  } catch (const std::exception& e) {
    // nlohmann throws only on a type confusion the walk failed to guard: a bug, but the
    // caller still gets a Problem rather than an exception.
    a.problems.push_back({"", std::string("internal error while validating: ") + e.what()});
  }
  return a;
}

}  // namespace

std::string_view StateTypeName(StateType type) { return kTypeNames[static_cast<size_t>(type)]; }

const State* StateMachine::Find(std::string_view name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &states[it->second];
}

StatusOr<StateMachine> ParseDefinition(std::string_view json_text) {
  Analysis a = Analyze(json_text);
  if (a.problems.empty()) return std::move(a.machine);
  std::string message = "invalid state machine definition (" + std::to_string(a.problems.size()) +
                        " problem" + (a.problems.size() == 1 ? "" : "s") + "): ";
  for (size_t i = 0; i < a.problems.size() && i < kProblemsInStatus; ++i) {
    if (i > 0) message += "; ";
    if (!a.problems[i].location.empty()) message += a.problems[i].location + ": ";
    message += a.problems[i].message;
  }
  if (a.problems.size() > kProblemsInStatus) {
    message += "; and " + std::to_string(a.problems.size() - kProblemsInStatus) + " more";
  }
  return BadInput(message);
}

std::vector<Problem> ValidateDefinition(std::string_view json_text) {
  return Analyze(json_text).problems;
}

std::string FormatProblems(std::string_view file, const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& p : problems) {
    out += file;
    out += ": ";
    if (!p.location.empty()) {
      out += p.location;
      out += ": ";
    }
    out += p.message;
    out += '\n';
  }
  return out;
}

}  // namespace sagebox::pipeline::asl
