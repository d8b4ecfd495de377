#include "pipeline/asl/json_path.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <utility>

#include "core/json_type.h"
#include "fmt/format.h"

namespace sagebox::pipeline::asl {

using nlohmann::json;

// A filter expression: `||`, `&&`, `!`, comparisons and existence tests over operands that are
// literals or paths relative to the current node (`@`) or the input root (`$`).
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct FilterNode {
  enum class Op { kOr, kAnd, kNot, kCompare, kExists };
  enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };
  // NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
  struct Operand {
    enum class Kind { kLiteral, kCurrent, kRoot };
    Kind kind = Kind::kLiteral;
    json literal;
    std::vector<PathStep> steps;
  };
  Op op = Op::kExists;
  Cmp cmp = Cmp::kEq;
  std::shared_ptr<const FilterNode> left, right;  // kOr, kAnd, kNot (left only)
  Operand a, b;                                   // kCompare (a, b), kExists (a)
};

namespace {

constexpr int kMaxFilterDepth = 32;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Status Fail(const std::string& what) const {
    return BadInput(fmt::format("JSONPath '{}': at offset {}: {}", s_, pos_, what));
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  void SkipSpaces() {
    while (!AtEnd() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  size_t pos() const { return pos_; }
  void Skip(size_t n) { pos_ += n; }

  // Steps until the end (top level) or, inside a filter, until a character that cannot
  // continue a path.
  Status ParseSteps(std::vector<PathStep>* steps, bool in_filter, int depth) {
    while (!AtEnd()) {
      const char c = Peek();
      if (c != '.' && c != '[') {
        if (in_filter) return Status::Ok();
        return Fail(fmt::format("expected '.' or '[' but found '{}'", c));
      }
      PathStep step;
      if (c == '.') {
        ++pos_;
        if (Peek() == '.') {
          ++pos_;
          step.descendant = true;
          if (Peek() == '[') {
            RETURN_IF_ERROR(ParseBracket(&step, depth));
            steps->push_back(std::move(step));
            continue;
          }
        }
        if (Peek() == '*') {
          ++pos_;
          step.kind = PathStep::Kind::kWildcard;
        } else {
          const size_t begin = pos_;
          while (!AtEnd() && !EndsName(Peek(), in_filter)) ++pos_;
          if (pos_ == begin) return Fail("expected a field name after '.'");
          step.kind = PathStep::Kind::kName;
          step.names.emplace_back(s_.substr(begin, pos_ - begin));
        }
      } else {
        RETURN_IF_ERROR(ParseBracket(&step, depth));
      }
      steps->push_back(std::move(step));
    }
    return Status::Ok();
  }

  StatusOr<std::shared_ptr<const FilterNode>> ParseOr(int depth) {
    if (depth > kMaxFilterDepth) return Fail("filter nested too deeply");
    ASSIGN_OR_RETURN(auto left, ParseAnd(depth));
    SkipSpaces();
    while (Peek() == '|' && Peek(1) == '|') {
      pos_ += 2;
      ASSIGN_OR_RETURN(auto right, ParseAnd(depth));
      auto node = std::make_shared<FilterNode>();
      node->op = FilterNode::Op::kOr;
      node->left = std::move(left);
      node->right = std::move(right);
      left = std::move(node);
      SkipSpaces();
    }
    return left;
  }

 private:
  static bool EndsName(char c, bool in_filter) {
    if (c == '.' || c == '[') return true;
    if (!in_filter) return false;
    return c == ' ' || c == '\t' || c == ')' || c == ']' || c == '=' || c == '!' || c == '<' ||
           c == '>' || c == '&' || c == '|' || c == ',';
  }

  StatusOr<std::string> ParseQuoted() {
    const char quote = Peek();
    ++pos_;
    std::string out;
    while (!AtEnd() && Peek() != quote) {
      char c = Peek();
      if (c == '\\') {
        ++pos_;
        if (AtEnd()) break;
        c = Peek();
      }
      out.push_back(c);
      ++pos_;
    }
    if (AtEnd()) return Fail(fmt::format("unterminated string, expected {}", quote));
    ++pos_;
    return out;
  }

  StatusOr<int64_t> ParseInt() {
    SkipSpaces();
    const size_t begin = pos_;
    if (Peek() == '-') ++pos_;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') ++pos_;
    int64_t v = 0;
    const auto r = std::from_chars(s_.data() + begin, s_.data() + pos_, v);
    if (r.ec != std::errc() || r.ptr != s_.data() + pos_) {
      pos_ = begin;
      return Fail("expected an integer");
    }
    SkipSpaces();
    return v;
  }

  Status Expect(char c) {
    SkipSpaces();
    if (Peek() != c) return Fail(fmt::format("expected '{}'", c));
    ++pos_;
    return Status::Ok();
  }

  Status ParseBracket(PathStep* step, int depth) {
    ++pos_;  // '['
    SkipSpaces();
    const char c = Peek();
    if (c == '*') {
      ++pos_;
      step->kind = PathStep::Kind::kWildcard;
      return Expect(']');
    }
    if (c == '?') {
      ++pos_;
      RETURN_IF_ERROR(Expect('('));
      ASSIGN_OR_RETURN(step->filter, ParseOr(depth + 1));
      step->kind = PathStep::Kind::kFilter;
      RETURN_IF_ERROR(Expect(')'));
      return Expect(']');
    }
    if (c == '(') {  // Goessner's script subscript, in its one common form: (@.length-N)
      ++pos_;
      SkipSpaces();
      if (s_.substr(pos_, 8) != "@.length") {
        return Fail("only the script subscript (@.length-N) is supported");
      }
      pos_ += 8;
      SkipSpaces();
      int64_t back = 0;
      if (Peek() == '-') {
        ++pos_;
        SkipSpaces();
        ASSIGN_OR_RETURN(back, ParseInt());
      }
      if (back <= 0) return Fail("(@.length-N) needs N >= 1: @.length itself is past the end");
      RETURN_IF_ERROR(Expect(')'));
      step->indices.push_back(-back);  // counted from the end, as a negative index is
      step->kind = PathStep::Kind::kIndex;
      return Expect(']');
    }
    if (c == '\'' || c == '"') {
      for (;;) {
        SkipSpaces();
        if (Peek() != '\'' && Peek() != '"') return Fail("expected a quoted field name");
        ASSIGN_OR_RETURN(std::string name, ParseQuoted());
        step->names.push_back(std::move(name));
        SkipSpaces();
        if (Peek() != ',') break;
        ++pos_;
      }
      step->kind = step->names.size() == 1 ? PathStep::Kind::kName : PathStep::Kind::kNames;
      return Expect(']');
    }
    if (c == ':' || c == '-' || (c >= '0' && c <= '9')) {
      std::optional<int64_t> first;
      if (c != ':') {
        ASSIGN_OR_RETURN(first, ParseInt());
      }
      if (Peek() == ':') {  // slice [start:end:step]
        ++pos_;
        step->kind = PathStep::Kind::kSlice;
        step->start = first;
        SkipSpaces();
        if (Peek() != ':' && Peek() != ']') {
          ASSIGN_OR_RETURN(step->end, ParseInt());
        }
        if (Peek() == ':') {
          ++pos_;
          SkipSpaces();
          if (Peek() != ']') {
            ASSIGN_OR_RETURN(step->step, ParseInt());
            if (step->step == 0) return Fail("slice step must not be 0");
          }
        }
        return Expect(']');
      }
      step->indices.push_back(*first);
      while (Peek() == ',') {
        ++pos_;
        ASSIGN_OR_RETURN(int64_t next, ParseInt());
        step->indices.push_back(next);
      }
      step->kind = step->indices.size() == 1 ? PathStep::Kind::kIndex : PathStep::Kind::kIndices;
      return Expect(']');
    }
    return Fail("expected '*', '?(', a quoted name, an index or a slice after '['");
  }

  StatusOr<std::shared_ptr<const FilterNode>> ParseAnd(int depth) {
    ASSIGN_OR_RETURN(auto left, ParseUnary(depth));
    SkipSpaces();
    while (Peek() == '&' && Peek(1) == '&') {
      pos_ += 2;
      ASSIGN_OR_RETURN(auto right, ParseUnary(depth));
      auto node = std::make_shared<FilterNode>();
      node->op = FilterNode::Op::kAnd;
      node->left = std::move(left);
      node->right = std::move(right);
      left = std::move(node);
      SkipSpaces();
    }
    return left;
  }

  StatusOr<std::shared_ptr<const FilterNode>> ParseUnary(int depth) {
    if (depth > kMaxFilterDepth) return Fail("filter nested too deeply");
    SkipSpaces();
    if (Peek() == '!' && Peek(1) != '=') {
      ++pos_;
      ASSIGN_OR_RETURN(auto inner, ParseUnary(depth + 1));
      auto node = std::make_shared<FilterNode>();
      node->op = FilterNode::Op::kNot;
      node->left = std::move(inner);
      return std::shared_ptr<const FilterNode>(std::move(node));
    }
    if (Peek() == '(') {
      ++pos_;
      ASSIGN_OR_RETURN(auto inner, ParseOr(depth + 1));
      RETURN_IF_ERROR(Expect(')'));
      return inner;
    }
    auto node = std::make_shared<FilterNode>();
    RETURN_IF_ERROR(ParseOperand(&node->a, depth));
    SkipSpaces();
    static constexpr std::pair<std::string_view, FilterNode::Cmp> kOps[] = {
        {"==", FilterNode::Cmp::kEq}, {"!=", FilterNode::Cmp::kNe}, {"<=", FilterNode::Cmp::kLe},
        {">=", FilterNode::Cmp::kGe}, {"<", FilterNode::Cmp::kLt},  {">", FilterNode::Cmp::kGt}};
    for (const auto& [text, cmp] : kOps) {
      if (s_.substr(pos_, text.size()) == text) {
        pos_ += text.size();
        node->op = FilterNode::Op::kCompare;
        node->cmp = cmp;
        RETURN_IF_ERROR(ParseOperand(&node->b, depth));
        return std::shared_ptr<const FilterNode>(std::move(node));
      }
    }
    if (Peek() == '=' || (Peek() == ' ' && Peek(1) != ')')) {
      return Fail("unsupported filter operator (supported: == != < <= > >= && || !)");
    }
    node->op = FilterNode::Op::kExists;
    return std::shared_ptr<const FilterNode>(std::move(node));
  }

  Status ParseOperand(FilterNode::Operand* out, int depth) {
    SkipSpaces();
    const char c = Peek();
    if (c == '@' || c == '$') {
      ++pos_;
      out->kind = c == '@' ? FilterNode::Operand::Kind::kCurrent : FilterNode::Operand::Kind::kRoot;
      return ParseSteps(&out->steps, /*in_filter=*/true, depth + 1);
    }
    out->kind = FilterNode::Operand::Kind::kLiteral;
    if (c == '\'' || c == '"') {
      ASSIGN_OR_RETURN(std::string v, ParseQuoted());
      out->literal = std::move(v);
      return Status::Ok();
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        out->literal = json::parse(word);
        return Status::Ok();
      }
    }
    const size_t begin = pos_;
    while (!AtEnd() && (std::isdigit(static_cast<unsigned char>(Peek())) != 0 || Peek() == '-' ||
                        Peek() == '+' || Peek() == '.' || Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
    }
    if (pos_ > begin) {
      json v = json::parse(s_.substr(begin, pos_ - begin), nullptr, /*allow_exceptions=*/false);
      if (!v.is_discarded() && v.is_number()) {
        out->literal = std::move(v);
        return Status::Ok();
      }
      pos_ = begin;
    }
    // A bare word (`@.OutputKey == FooBar`) is the string it spells. Jayway quotes string
    // operands, but definitions written against jsonpath-plus (asl-validator) use bare words,
    // and their authors mean the string.
    while (!AtEnd() && (std::isalnum(static_cast<unsigned char>(Peek())) != 0 || Peek() == '_' ||
                        Peek() == '-')) {
      ++pos_;
    }
    if (pos_ > begin && std::isalpha(static_cast<unsigned char>(s_[begin])) != 0) {
      out->literal = std::string(s_.substr(begin, pos_ - begin));
      return Status::Ok();
    }
    pos_ = begin;
    return Fail(
        "expected '@', '$', a string, a number, true, false, null or a bare word in the filter");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

void Select(const std::vector<PathStep>& steps, size_t i, const json& node, const json& root,
            std::vector<const json*>* out);

bool FilterTrue(const FilterNode& f, const json& current, const json& root);

// Applies one selector (without its deep scan) to `node`, then the remaining steps.
void ApplySelector(const std::vector<PathStep>& steps, size_t i, const json& node, const json& root,
                   std::vector<const json*>* out) {
  const PathStep& s = steps[i];
  auto next = [&](const json& child) { Select(steps, i + 1, child, root, out); };
  switch (s.kind) {
    case PathStep::Kind::kName:
    case PathStep::Kind::kNames:
      if (!node.is_object()) return;
      for (const std::string& name : s.names) {
        const auto it = node.find(name);
        if (it != node.end()) next(*it);
      }
      return;
    case PathStep::Kind::kIndex:
    case PathStep::Kind::kIndices: {
      if (!node.is_array()) return;
      const auto n = static_cast<int64_t>(node.size());
      for (int64_t idx : s.indices) {
        const int64_t k = idx < 0 ? n + idx : idx;
        if (k >= 0 && k < n) next(node[static_cast<size_t>(k)]);
      }
      return;
    }
    case PathStep::Kind::kWildcard:
      if (node.is_object() || node.is_array()) {
        for (const json& child : node) next(child);
      }
      return;
    case PathStep::Kind::kSlice: {
      if (!node.is_array()) return;
      const auto n = static_cast<int64_t>(node.size());
      auto clamp = [n](int64_t v, int64_t lo, int64_t hi) {
        if (v < 0) v += n;
        return std::clamp(v, lo, hi);
      };
      if (s.step > 0) {
        const int64_t b = s.start ? clamp(*s.start, 0, n) : 0;
        const int64_t e = s.end ? clamp(*s.end, 0, n) : n;
        for (int64_t k = b; k < e; k += s.step) next(node[static_cast<size_t>(k)]);
      } else {  // Python's rules for a negative step
        const int64_t b = s.start ? clamp(*s.start, -1, n - 1) : n - 1;
        const int64_t e = s.end ? clamp(*s.end, -1, n - 1) : -1;
        for (int64_t k = b; k > e; k += s.step) next(node[static_cast<size_t>(k)]);
      }
      return;
    }
    case PathStep::Kind::kFilter:
      // Jayway: an array's elements are filtered; an object is tested itself.
      if (node.is_array()) {
        for (const json& child : node) {
          if (FilterTrue(*s.filter, child, root)) next(child);
        }
      } else if (node.is_object() && FilterTrue(*s.filter, node, root)) {
        next(node);
      }
      return;
  }
}

void Descend(const std::vector<PathStep>& steps, size_t i, const json& node, const json& root,
             std::vector<const json*>* out) {
  ApplySelector(steps, i, node, root, out);
  if (node.is_object() || node.is_array()) {
    for (const json& child : node) Descend(steps, i, child, root, out);
  }
}

void Select(const std::vector<PathStep>& steps, size_t i, const json& node, const json& root,
            std::vector<const json*>* out) {
  if (i == steps.size()) {
    out->push_back(&node);
    return;
  }
  if (steps[i].descendant) {
    Descend(steps, i, node, root, out);
  } else {
    ApplySelector(steps, i, node, root, out);
  }
}

bool Definite(const std::vector<PathStep>& steps) {
  return std::all_of(steps.begin(), steps.end(), [](const PathStep& s) {
    return !s.descendant && (s.kind == PathStep::Kind::kName || s.kind == PathStep::Kind::kIndex);
  });
}

// An operand's value: nullopt when a path operand matches nothing.
std::optional<json> OperandValue(const FilterNode::Operand& o, const json& current,
                                 const json& root) {
  if (o.kind == FilterNode::Operand::Kind::kLiteral) return o.literal;
  std::vector<const json*> found;
  Select(o.steps, 0, o.kind == FilterNode::Operand::Kind::kCurrent ? current : root, root, &found);
  if (Definite(o.steps)) {
    if (found.empty()) return std::nullopt;
    return *found.front();
  }
  json arr = json::array();
  for (const json* f : found) arr.push_back(*f);
  return arr;
}

bool FilterTrue(const FilterNode& f, const json& current, const json& root) {
  switch (f.op) {
    case FilterNode::Op::kOr:
      return FilterTrue(*f.left, current, root) || FilterTrue(*f.right, current, root);
    case FilterNode::Op::kAnd:
      return FilterTrue(*f.left, current, root) && FilterTrue(*f.right, current, root);
    case FilterNode::Op::kNot:
      return !FilterTrue(*f.left, current, root);
    case FilterNode::Op::kExists: {
      const auto v = OperandValue(f.a, current, root);
      if (f.a.kind == FilterNode::Operand::Kind::kLiteral) return v->is_boolean() && v->get<bool>();
      return v.has_value();
    }
    case FilterNode::Op::kCompare: {
      const auto a = OperandValue(f.a, current, root);
      const auto b = OperandValue(f.b, current, root);
      // A missing operand makes every comparison false (Jayway drops such items).
      if (!a || !b) return false;
      switch (f.cmp) {
        case FilterNode::Cmp::kEq:
          return *a == *b;  // nlohmann compares 1 and 1.0 as numbers
        case FilterNode::Cmp::kNe:
          return *a != *b;
        default:
          break;
      }
      int order = 0;
      if (a->is_number() && b->is_number()) {
        order = *a < *b ? -1 : (*b < *a ? 1 : 0);
      } else if (a->is_string() && b->is_string()) {
        const int c = a->get_ref<const std::string&>().compare(b->get_ref<const std::string&>());
        order = c < 0 ? -1 : (c > 0 ? 1 : 0);
      } else {
        return false;  // ordering across types is undefined: no match
      }
      switch (f.cmp) {
        case FilterNode::Cmp::kLt:
          return order < 0;
        case FilterNode::Cmp::kLe:
          return order <= 0;
        case FilterNode::Cmp::kGt:
          return order > 0;
        case FilterNode::Cmp::kGe:
          return order >= 0;
        default:
          return false;
      }
    }
  }
  return false;
}

std::string Preview(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

}  // namespace

bool JsonPath::is_definite() const { return Definite(steps_); }

std::string JsonPath::Normalized() const {
  std::string out = context_ ? "$$" : "$";
  for (const PathStep& s : steps_) {
    if (s.kind == PathStep::Kind::kName) {
      out += "['" + s.names.front() + "']";
    } else if (s.kind == PathStep::Kind::kIndex) {
      out += fmt::format("[{}]", s.indices.front());
    } else {
      return text_;  // only definite paths have a normalized form; keep the text otherwise
    }
  }
  return out;
}

StatusOr<JsonPath> ParseJsonPath(std::string_view text) {
  Parser p(text);
  if (text.empty() || text[0] != '$') return p.Fail("a path must start with '$'");
  JsonPath path;
  path.text_ = std::string(text);
  size_t skip = 1;
  if (text.size() > 1 && text[1] == '$') {
    path.context_ = true;
    skip = 2;
  }
  p.Skip(skip);
  RETURN_IF_ERROR(p.ParseSteps(&path.steps_, /*in_filter=*/false, 0));
  return path;
}

StatusOr<JsonPath> ParseReferencePath(std::string_view text) {
  ASSIGN_OR_RETURN(JsonPath path, ParseJsonPath(text));
  for (const PathStep& s : path.steps()) {
    std::string_view bad;
    if (s.descendant)
      bad = "'..'";
    else if (s.kind == PathStep::Kind::kWildcard)
      bad = "'*'";
    else if (s.kind == PathStep::Kind::kSlice)
      bad = "':' (slice)";
    else if (s.kind == PathStep::Kind::kNames || s.kind == PathStep::Kind::kIndices)
      bad = "',' (union)";
    else if (s.kind == PathStep::Kind::kFilter)
      bad = "'?' (filter)";
    if (!bad.empty()) {
      return BadInput(
          fmt::format("'{}' is not a reference path: the operator {} is not allowed (only .name, "
                      "['name'] and [index] select a single node)",
                      text, bad));
    }
  }
  return path;
}

std::vector<const json*> SelectNodes(const JsonPath& path, const json& input, const json& context) {
  std::vector<const json*> out;
  const json& root = path.is_context() ? context : input;
  Select(path.steps(), 0, root, root, &out);
  return out;
}

AslOr<json> EvaluatePath(const JsonPath& path, const json& input, const json& context) {
  const std::vector<const json*> found = SelectNodes(path, input, context);
  if (path.is_definite()) {
    if (found.empty()) {
      return RuntimeError(fmt::format("Invalid path '{}' : No results for path: {}", path.text(),
                                      path.Normalized()));
    }
    return *found.front();
  }
  json arr = json::array();
  for (const json* f : found) arr.push_back(*f);
  return arr;
}

AslOr<json> ApplyInputPath(const std::optional<JsonPath>& path, const json& input,
                           const json& context) {
  if (!path) return json::object();
  return EvaluatePath(*path, input, context);
}

AslOr<json> ApplyResultPath(const std::optional<JsonPath>& path, json input, json result) {
  if (!path) return input;
  if (path->is_context()) {
    return RuntimeError(
        fmt::format("ResultPath '{}' cannot write into the context object", path->text()));
  }
  if (!path->is_definite()) {
    return RuntimeError(fmt::format("ResultPath '{}' is not a reference path", path->text()));
  }
  if (path->steps().empty()) return result;
  json* node = &input;
  const auto& steps = path->steps();
  for (size_t i = 0; i < steps.size(); ++i) {
    const PathStep& s = steps[i];
    const bool last = i + 1 == steps.size();
    if (s.kind == PathStep::Kind::kName) {
      const std::string& name = s.names.front();
      if (!node->is_object()) {
        return RuntimeError(fmt::format(
            "Unable to apply step \"{}\" of ResultPath '{}' to input {}: expected an object "
            "but found {}",
            name, path->text(), Preview(input), JsonTypeName(*node)));
      }
      if (last) {
        (*node)[name] = std::move(result);
        return input;
      }
      auto it = node->find(name);
      if (it == node->end()) it = node->emplace(name, json::object()).first;
      node = &*it;
    } else {
      const int64_t n = node->is_array() ? static_cast<int64_t>(node->size()) : 0;
      const int64_t idx = s.indices.front() < 0 ? n + s.indices.front() : s.indices.front();
      if (!node->is_array() || idx < 0 || idx >= n) {
        return RuntimeError(fmt::format(
            "Unable to apply step \"[{}]\" of ResultPath '{}' to input {}: expected an array "
            "with that index but found {}",
            s.indices.front(), path->text(), Preview(input), JsonTypeName(*node)));
      }
      json& slot = (*node)[static_cast<size_t>(idx)];
      if (last) {
        slot = std::move(result);
        return input;
      }
      node = &slot;
    }
  }
  return input;
}

}  // namespace sagebox::pipeline::asl
