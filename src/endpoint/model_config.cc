#include "endpoint/model_config.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <set>
#include <system_error>
#include <utility>

namespace sagebox::endpoint {
namespace {

// ---- Data types -------------------------------------------------------------

struct DataTypeInfo {
  DataType type;
  std::string_view triton;
  std::string_view kserve;
  size_t size;
};

constexpr std::array<DataTypeInfo, 14> kDataTypes = {{
    {DataType::kBool, "TYPE_BOOL", "BOOL", 1},
    {DataType::kUint8, "TYPE_UINT8", "UINT8", 1},
    {DataType::kUint16, "TYPE_UINT16", "UINT16", 2},
    {DataType::kUint32, "TYPE_UINT32", "UINT32", 4},
    {DataType::kUint64, "TYPE_UINT64", "UINT64", 8},
    {DataType::kInt8, "TYPE_INT8", "INT8", 1},
    {DataType::kInt16, "TYPE_INT16", "INT16", 2},
    {DataType::kInt32, "TYPE_INT32", "INT32", 4},
    {DataType::kInt64, "TYPE_INT64", "INT64", 8},
    {DataType::kFp16, "TYPE_FP16", "FP16", 2},
    {DataType::kFp32, "TYPE_FP32", "FP32", 4},
    {DataType::kFp64, "TYPE_FP64", "FP64", 8},
    {DataType::kString, "TYPE_STRING", "BYTES", 0},
    {DataType::kBf16, "TYPE_BF16", "BF16", 2},
}};

const DataTypeInfo* FindType(DataType type) {
  for (const auto& info : kDataTypes) {
    if (info.type == type) return &info;
  }
  return nullptr;
}

// ---- Tokens -----------------------------------------------------------------

enum class TokenKind { kEnd, kIdent, kNumber, kString, kSymbol };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view raw;  // the source text (with quotes for strings)
  std::string text;      // decoded value for strings, else the raw text
  int line = 1;
  int col = 1;
};

std::string Describe(const Token& t) {
  if (t.kind == TokenKind::kEnd) return "end of input";
  constexpr size_t kMax = 40;
  if (t.raw.size() > kMax) return fmt::format("'{}...'", t.raw.substr(0, kMax));
  return fmt::format("'{}'", t.raw);
}

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

// ---- The generic tree: what the text says, before any schema is applied ------

struct Field;

struct Node {
  bool is_message = false;
  Token scalar;  // when !is_message; its line/col are the value's position
  int line = 1;
  int col = 1;
  std::vector<Field> fields;  // when is_message
};

struct Field {
  std::string name;
  int line = 1;  // of the name
  int col = 1;
  int index = 0;  // occurrence among the fields of this name in the parent message
  Node value;
};

// The repeated fields of the messages accepted below; paths index them ("input[0]").
bool IsRepeated(std::string_view name) {
  static const std::set<std::string_view> kRepeated = {
      "input",          "output",  "instance_group", "parameters",
      "dims",           "shape",   "gpus",           "preferred_batch_size",
      "control_input",  "control", "versions",       "int32_false_true",
      "fp32_false_true"};
  return kRepeated.count(name) != 0;
}

std::string Segment(std::string_view name, int index) {
  if (IsRepeated(name)) return fmt::format("{}[{}]", name, index);
  return std::string(name);
}

std::string FieldPath(const std::string& parent, std::string_view segment) {
  if (parent.empty()) return std::string(segment);
  return fmt::format("{}.{}", parent, segment);
}

Status ErrorAt(const std::string& file, int line, int col, const std::string& path,
               const std::string& what) {
  if (path.empty()) return BadInput(fmt::format("{}:{}:{}: {}", file, line, col, what));
  return BadInput(fmt::format("{}:{}:{}: {}: {}", file, line, col, path, what));
}

// ---- Parser: text format -> Node tree ------------------------------------------

// Deep enough for any real config (they nest 4 levels); bounded so hostile input
// cannot exhaust the stack through recursion.
constexpr int kMaxDepth = 64;

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  StatusOr<Node> Parse() {
    RETURN_IF_ERROR(Advance());
    Node root;
    root.is_message = true;
    RETURN_IF_ERROR(ParseBody(&root, nullptr, 0, ""));
    return root;
  }

 private:
  Status Error(const Token& at, const std::string& what) const {
    return ErrorAt(file_, at.line, at.col, path_, what);
  }
  Status ErrorHere(int line, int col, const std::string& what) const {
    return ErrorAt(file_, line, col, path_, what);
  }

  bool IsSymbol(char c) const {
    return cur_.kind == TokenKind::kSymbol && cur_.raw.size() == 1 && cur_.raw[0] == c;
  }

  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void Bump() {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') Bump();
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
        Bump();
      } else {
        return;
      }
    }
  }

  // Reads the next token into cur_.
  Status Advance() {
    SkipSpaceAndComments();
    cur_ = Token{};
    cur_.line = line_;
    cur_.col = col_;
    const size_t start = pos_;
    if (pos_ >= text_.size()) return Status::Ok();
    const char c = text_[pos_];
    if (IsIdentStart(c)) {
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) Bump();
      cur_.kind = TokenKind::kIdent;
    } else if (IsDigit(c) || ((c == '-' || c == '.') && (IsIdentChar(Peek(1)) || Peek(1) == '.'))) {
      LexNumber();
      cur_.kind = TokenKind::kNumber;
    } else if (c == '"' || c == '\'') {
      RETURN_IF_ERROR(LexString(c));
      cur_.kind = TokenKind::kString;
      cur_.raw = text_.substr(start, pos_ - start);
      return Status::Ok();
    } else if (std::string_view("{}[]<>:,;").find(c) != std::string_view::npos) {
      Bump();
      cur_.kind = TokenKind::kSymbol;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x20 && byte < 0x7f) {
        return ErrorHere(line_, col_, fmt::format("unexpected character '{}'", c));
      }
      return ErrorHere(line_, col_, fmt::format("unexpected byte 0x{:02x}", byte));
    }
    cur_.raw = text_.substr(start, pos_ - start);
    cur_.text = std::string(cur_.raw);
    return Status::Ok();
  }

  // A number is taken whole ("16abc", "1e-5", "-1") so that the field it belongs to
  // can say precisely what it expected instead of seeing two tokens.
  void LexNumber() {
    Bump();  // a digit, '-' or '.'
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      const char prev = text_[pos_ - 1];
      if (IsIdentChar(c) || c == '.' || ((c == '-' || c == '+') && (prev == 'e' || prev == 'E'))) {
        Bump();
      } else {
        break;
      }
    }
  }

  Status LexString(char quote) {
    const int line = line_, col = col_;
    Bump();
    std::string out;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        return ErrorHere(line, col, "unterminated string");
      }
      const char c = text_[pos_];
      if (c == quote) {
        Bump();
        break;
      }
      if (c != '\\') {
        out.push_back(c);
        Bump();
        continue;
      }
      const int esc_line = line_, esc_col = col_;
      Bump();
      if (pos_ >= text_.size()) return ErrorHere(line, col, "unterminated string");
      RETURN_IF_ERROR(LexEscape(esc_line, esc_col, &out));
    }
    cur_.text = std::move(out);
    return Status::Ok();
  }

  // After a backslash: C escapes as protobuf's text format has them.
  Status LexEscape(int line, int col, std::string* out) {
    const char e = text_[pos_];
    static constexpr std::string_view kFrom = "ntr\\'\"?abfv";
    static constexpr std::string_view kTo = "\n\t\r\\'\"?\a\b\f\v";
    if (const size_t i = kFrom.find(e); i != std::string_view::npos) {
      out->push_back(kTo[i]);
      Bump();
      return Status::Ok();
    }
    if (e >= '0' && e <= '7') {
      int value = 0;
      for (int n = 0; n < 3 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7';
           ++n) {
        value = value * 8 + (text_[pos_] - '0');
        Bump();
      }
      if (value > 0xff) return ErrorHere(line, col, "octal escape above \\377");
      out->push_back(static_cast<char>(value));
      return Status::Ok();
    }
    if (e == 'x') {
      Bump();
      int value = 0, digits = 0;
      for (; digits < 2 && pos_ < text_.size() &&
             std::isxdigit(static_cast<unsigned char>(text_[pos_])) != 0;
           ++digits) {
        const char h = text_[pos_];
        value = value * 16 + (IsDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
        Bump();
      }
      if (digits == 0) return ErrorHere(line, col, "expected hex digits after '\\x'");
      out->push_back(static_cast<char>(value));
      return Status::Ok();
    }
    if (e == '\n') return ErrorHere(line, col, "unterminated string");
    return ErrorHere(line, col, fmt::format("unknown escape '\\{}'", e));
  }

  // Fields until `close` (0 = end of input); `open` is the opening token, for errors.
  // `after` is the path of what follows the closing brace (see ParseValue).
  Status ParseBody(Node* msg, const Token* open, char close, const std::string& after) {
    while (true) {
      if (cur_.kind == TokenKind::kEnd) {
        if (close == 0) return Status::Ok();
        return Error(cur_, fmt::format("expected '{}' to close the message opened at {}:{}, found "
                                       "end of input",
                                       close, open->line, open->col));
      }
      if (close != 0 && IsSymbol(close)) {
        path_ = after;
        return Advance();
      }
      if (cur_.kind != TokenKind::kIdent) {
        return Error(cur_, fmt::format("expected a field name, found {}", Describe(cur_)));
      }
      RETURN_IF_ERROR(ParseField(msg));
      if (IsSymbol(',') || IsSymbol(';')) RETURN_IF_ERROR(Advance());
    }
  }

  int NextIndex(const Node& msg, const std::string& name) const {
    int n = 0;
    for (const auto& f : msg.fields) n += f.name == name ? 1 : 0;
    return n;
  }

  Status ParseField(Node* msg) {
    Field field;
    field.name = cur_.text;
    field.line = cur_.line;
    field.col = cur_.col;
    const std::string saved = path_;
    path_ = FieldPath(saved, Segment(field.name, NextIndex(*msg, field.name)));
    RETURN_IF_ERROR(Advance());
    bool colon = false;
    if (IsSymbol(':')) {
      colon = true;
      RETURN_IF_ERROR(Advance());
    }
    if (IsSymbol('[')) {
      RETURN_IF_ERROR(ParseList(msg, field, colon, saved));
    } else if (IsSymbol('{') || IsSymbol('<') || colon) {
      RETURN_IF_ERROR(ParseValue(&field.value, !colon, saved));
      field.index = NextIndex(*msg, field.name);
      msg->fields.push_back(std::move(field));
    } else {
      return Error(
          cur_, fmt::format("expected ':' or '{{' after the field name, found {}", Describe(cur_)));
    }
    path_ = saved;
    return Status::Ok();
  }

  // `name: [a, b]` or `name [ {...}, {...} ]`: one field per element.
  Status ParseList(Node* msg, const Field& proto, bool colon, const std::string& parent) {
    RETURN_IF_ERROR(Advance());  // '['
    if (IsSymbol(']')) {
      path_ = parent;
      return Advance();
    }
    while (true) {
      Field field;
      field.name = proto.name;
      field.line = proto.line;
      field.col = proto.col;
      field.index = NextIndex(*msg, field.name);
      path_ = FieldPath(parent, Segment(field.name, field.index));
      RETURN_IF_ERROR(ParseValue(&field.value, !colon, path_));
      msg->fields.push_back(std::move(field));
      if (IsSymbol(']')) {
        path_ = parent;
        return Advance();
      }
      if (!IsSymbol(',')) {
        return Error(cur_,
                     fmt::format("expected ',' or ']' in the list, found {}", Describe(cur_)));
      }
      RETURN_IF_ERROR(Advance());
    }
  }

  // A scalar or a message; `message_only` when no ':' preceded it (the text format
  // allows leaving out the colon only before a message). The token after the value
  // is read ahead, so a lexical error in it is reported under `after`, the path it
  // belongs to, not under this value's.
  Status ParseValue(Node* node, bool message_only, const std::string& after) {
    node->line = cur_.line;
    node->col = cur_.col;
    if (IsSymbol('{') || IsSymbol('<')) {
      if (++depth_ > kMaxDepth) {
        return Error(cur_, fmt::format("messages nested deeper than {} levels", kMaxDepth));
      }
      const Token open = cur_;
      RETURN_IF_ERROR(Advance());
      node->is_message = true;
      RETURN_IF_ERROR(ParseBody(node, &open, open.raw[0] == '{' ? '}' : '>', after));
      --depth_;
      return Status::Ok();
    }
    if (message_only) {
      return Error(cur_, fmt::format("expected '{{' (a value needs ':' before it), found {}",
                                     Describe(cur_)));
    }
    if (cur_.kind != TokenKind::kIdent && cur_.kind != TokenKind::kNumber &&
        cur_.kind != TokenKind::kString) {
      return Error(cur_, fmt::format("expected a value, found {}", Describe(cur_)));
    }
    node->scalar = cur_;
    path_ = after;
    RETURN_IF_ERROR(Advance());
    // Adjacent strings concatenate, as in C and protobuf's text format.
    while (node->scalar.kind == TokenKind::kString && cur_.kind == TokenKind::kString) {
      node->scalar.text += cur_.text;
      RETURN_IF_ERROR(Advance());
    }
    return Status::Ok();
  }

  std::string_view text_;
  const std::string& file_;
  size_t pos_ = 0;
  int line_ = 1;
  int col_ = 1;
  int depth_ = 0;
  Token cur_;
  std::string path_;  // field path of what is being parsed, for errors
};

// ---- Mapper: Node tree -> ModelConfig -------------------------------------------

// One message being mapped: its path, and which non-repeated fields were seen.
struct Scope {
  const Node& node;
  std::string path;
  std::map<std::string, const Field*> seen;
};

class Mapper {
 public:
  explicit Mapper(const std::string& file) : file_(file) {}

  StatusOr<ModelConfig> Map(const Node& root, const std::string& expected_name);

 private:
  Status Err(int line, int col, const std::string& path, const std::string& what) const {
    return ErrorAt(file_, line, col, path, what);
  }
  Status ErrValue(const Field& f, const std::string& path, const std::string& what) const {
    return Err(f.value.line, f.value.col, path, what);
  }

  static std::string PathOf(const Scope& s, const Field& f) {
    return FieldPath(s.path, Segment(f.name, f.index));
  }

  // A non-repeated field given twice is an error, as in protobuf's own parser.
  Status Once(Scope* s, const Field& f) const {
    auto [it, fresh] = s->seen.emplace(f.name, &f);
    if (fresh) return Status::Ok();
    return Err(f.line, f.col, PathOf(*s, f),
               fmt::format("given more than once (first at {}:{}); it is not a repeated field",
                           it->second->line, it->second->col));
  }

  Status Unknown(const Scope& s, const Field& f, std::string_view message,
                 std::string_view known) const {
    return Err(f.line, f.col, PathOf(s, f),
               fmt::format("unknown field '{}' in {} (supported: {})", f.name, message, known));
  }

  static std::string Found(const Node& n) {
    if (n.is_message) return "a message";
    return Describe(n.scalar);
  }

  Status String(const Scope& s, const Field& f, std::string* out) const {
    if (f.value.is_message || f.value.scalar.kind != TokenKind::kString) {
      return ErrValue(f, PathOf(s, f), fmt::format("expected a string, found {}", Found(f.value)));
    }
    *out = f.value.scalar.text;
    return Status::Ok();
  }

  // An integer in [min, max].
  template <typename T>
  Status Int(const Scope& s, const Field& f, T* out, T min = std::numeric_limits<T>::min(),
             T max = std::numeric_limits<T>::max()) const {
    const std::string path = PathOf(s, f);
    const bool number = !f.value.is_message && f.value.scalar.kind == TokenKind::kNumber;
    int64_t v = 0;
    bool parsed = false;
    if (number) {
      const std::string& t = f.value.scalar.text;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      parsed = ec == std::errc() && end == t.data() + t.size();
      if (ec == std::errc::result_out_of_range) {
        return ErrValue(f, path, fmt::format("integer out of range, found {}", Found(f.value)));
      }
    }
    if (!parsed) {
      return ErrValue(f, path, fmt::format("expected an integer, found {}", Found(f.value)));
    }
    const auto lo = static_cast<int64_t>(min);
    const bool unsigned_max = static_cast<uint64_t>(max) > uint64_t{INT64_MAX};
    const int64_t hi = unsigned_max ? INT64_MAX : static_cast<int64_t>(max);
    if (v < lo || v > hi) {
      if (hi == static_cast<int64_t>(std::numeric_limits<T>::max()) || unsigned_max) {
        return ErrValue(f, path, fmt::format("expected an integer >= {}, found {}", lo, v));
      }
      return ErrValue(f, path,
                      fmt::format("expected an integer from {} to {}, found {}", lo, hi, v));
    }
    *out = static_cast<T>(v);
    return Status::Ok();
  }

  Status Float(const Scope& s, const Field& f, float* out) const {
    const bool number = !f.value.is_message && f.value.scalar.kind == TokenKind::kNumber;
    if (number) {
      const std::string& t = f.value.scalar.text;
      double v = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec == std::errc() && end == t.data() + t.size()) {
        *out = static_cast<float>(v);
        return Status::Ok();
      }
    }
    return ErrValue(f, PathOf(s, f), fmt::format("expected a number, found {}", Found(f.value)));
  }

  Status Bool(const Scope& s, const Field& f, bool* out) const {
    if (!f.value.is_message) {
      const std::string& t = f.value.scalar.text;
      if (f.value.scalar.kind == TokenKind::kIdent && (t == "true" || t == "True" || t == "t")) {
        *out = true;
        return Status::Ok();
      }
      if (f.value.scalar.kind == TokenKind::kIdent && (t == "false" || t == "False" || t == "f")) {
        *out = false;
        return Status::Ok();
      }
      if (f.value.scalar.kind == TokenKind::kNumber && (t == "0" || t == "1")) {
        *out = t == "1";
        return Status::Ok();
      }
    }
    return ErrValue(f, PathOf(s, f),
                    fmt::format("expected true or false, found {}", Found(f.value)));
  }

  // An enum value: one of `names` (index = position); `what` describes them in errors.
  template <typename E, size_t N>
  Status Enum(const Scope& s, const Field& f,
              const std::array<std::pair<std::string_view, E>, N>& names, std::string_view what,
              E* out) const {
    if (!f.value.is_message && f.value.scalar.kind == TokenKind::kIdent) {
      for (const auto& [name, value] : names) {
        if (f.value.scalar.text == name) {
          *out = value;
          return Status::Ok();
        }
      }
    }
    return ErrValue(f, PathOf(s, f), fmt::format("expected {}, found {}", what, Found(f.value)));
  }

  Status Message(const Scope& s, const Field& f) const {
    if (f.value.is_message) return Status::Ok();
    return ErrValue(f, PathOf(s, f),
                    fmt::format("expected a message '{{ ... }}', found {}", Found(f.value)));
  }

  Status DataTypeValue(const Scope& s, const Field& f, DataType* out) const {
    if (!f.value.is_message && f.value.scalar.kind == TokenKind::kIdent) {
      if (auto t = DataTypeFromTritonName(f.value.scalar.text)) {
        *out = *t;
        return Status::Ok();
      }
    }
    return ErrValue(f, PathOf(s, f),
                    fmt::format("expected a TYPE_* value, found {}", Found(f.value)));
  }

  // A dimension: >= 1, or -1 for "any size" (Triton rejects 0 and other negatives).
  Status Dim(const Scope& s, const Field& f, std::vector<int64_t>* out) const {
    int64_t d = 0;
    RETURN_IF_ERROR(Int(s, f, &d));
    if (d < 1 && d != -1) {
      return ErrValue(f, PathOf(s, f),
                      fmt::format("expected a dimension >= 1, or -1 for any size, found {}", d));
    }
    out->push_back(d);
    return Status::Ok();
  }

  Status MapTensor(const Field& f, const std::string& path, bool is_input, TensorConfig* t) const;
  Status MapInstanceGroup(const Field& f, const std::string& path, InstanceGroup* g) const;
  Status MapDynamicBatching(const Field& f, const std::string& path, DynamicBatching* d) const;
  Status MapSequenceBatching(const Field& f, const std::string& path, SequenceBatching* b) const;
  Status MapControlInput(const Field& f, const std::string& path, SequenceControlInput* c) const;
  Status MapControl(const Field& f, const std::string& path, SequenceControl* c) const;
  Status MapParameter(const Field& f, const std::string& path, ModelConfig* config) const;
  Status MapVersionPolicy(const Field& f, const std::string& path, VersionPolicy* v) const;
  Status CheckTensors(const std::vector<const Field*>& fields, const std::vector<TensorConfig>& ts,
                      std::string_view what) const;

  const std::string& file_;
};

Status Mapper::MapTensor(const Field& f, const std::string& path, bool is_input,
                         TensorConfig* t) const {
  Scope s{f.value, path, {}};
  bool has_dims = false;
  for (const Field& c : f.value.fields) {
    if (c.name == "name") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &t->name));
    } else if (c.name == "data_type") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(DataTypeValue(s, c, &t->data_type));
    } else if (c.name == "dims") {
      has_dims = true;
      RETURN_IF_ERROR(Dim(s, c, &t->dims));
    } else if (c.name == "reshape") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Message(s, c));
      Scope r{c.value, PathOf(s, c), {}};
      t->reshape.emplace();
      for (const Field& rc : c.value.fields) {
        if (rc.name != "shape") return Unknown(r, rc, "ModelTensorReshape", "shape");
        RETURN_IF_ERROR(Dim(r, rc, &*t->reshape));
      }
    } else if (is_input && c.name == "format") {
      static constexpr std::array<std::pair<std::string_view, TensorFormat>, 3> kFormats = {{
          {"FORMAT_NONE", TensorFormat::kNone},
          {"FORMAT_NHWC", TensorFormat::kNhwc},
          {"FORMAT_NCHW", TensorFormat::kNchw},
      }};
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Enum(s, c, kFormats, "FORMAT_NONE, FORMAT_NHWC or FORMAT_NCHW", &t->format));
    } else if (is_input && c.name == "optional") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Bool(s, c, &t->optional));
    } else if (!is_input && c.name == "label_filename") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &t->label_filename));
    } else if (is_input) {
      return Unknown(s, c, "ModelInput", "name, data_type, format, dims, reshape, optional");
    } else {
      return Unknown(s, c, "ModelOutput", "name, data_type, dims, reshape, label_filename");
    }
  }
  if (t->name.empty()) return Err(f.value.line, f.value.col, path, "missing 'name'");
  if (t->data_type == DataType::kInvalid) {
    return Err(f.value.line, f.value.col, path, "missing 'data_type'");
  }
  // A scalar per batch item is written `dims: [1]` with `reshape { shape: [] }`; Triton
  // refuses empty dims otherwise.
  if (!has_dims && !t->reshape) {
    return Err(f.value.line, f.value.col, path,
               "missing 'dims' (needed unless 'reshape' is given)");
  }
  return Status::Ok();
}

Status Mapper::MapInstanceGroup(const Field& f, const std::string& path, InstanceGroup* g) const {
  Scope s{f.value, path, {}};
  static constexpr std::array<std::pair<std::string_view, InstanceKind>, 4> kKinds = {{
      {"KIND_AUTO", InstanceKind::kAuto},
      {"KIND_CPU", InstanceKind::kCpu},
      {"KIND_GPU", InstanceKind::kGpu},
      {"KIND_MODEL", InstanceKind::kModel},
  }};
  for (const Field& c : f.value.fields) {
    if (c.name == "name") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &g->name));
    } else if (c.name == "kind") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Enum(s, c, kKinds, "KIND_AUTO, KIND_CPU, KIND_GPU or KIND_MODEL", &g->kind));
    } else if (c.name == "count") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Int<int32_t>(s, c, &g->count, 1));
    } else if (c.name == "gpus") {
      int32_t gpu = 0;
      RETURN_IF_ERROR(Int<int32_t>(s, c, &gpu, 0));
      g->gpus.push_back(gpu);
    } else {
      return Unknown(s, c, "ModelInstanceGroup", "name, kind, count, gpus");
    }
  }
  return Status::Ok();
}

Status Mapper::MapDynamicBatching(const Field& f, const std::string& path,
                                  DynamicBatching* d) const {
  Scope s{f.value, path, {}};
  for (const Field& c : f.value.fields) {
    if (c.name == "preferred_batch_size") {
      int32_t size = 0;
      RETURN_IF_ERROR(Int<int32_t>(s, c, &size, 1));
      d->preferred_batch_size.push_back(size);
    } else if (c.name == "max_queue_delay_microseconds") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Int(s, c, &d->max_queue_delay_microseconds));
    } else {
      return Unknown(s, c, "ModelDynamicBatching",
                     "preferred_batch_size, max_queue_delay_microseconds");
    }
  }
  return Status::Ok();
}

Status Mapper::MapControl(const Field& f, const std::string& path, SequenceControl* ctl) const {
  Scope s{f.value, path, {}};
  static constexpr std::array<std::pair<std::string_view, SequenceControlKind>, 4> kKinds = {{
      {"CONTROL_SEQUENCE_START", SequenceControlKind::kStart},
      {"CONTROL_SEQUENCE_END", SequenceControlKind::kEnd},
      {"CONTROL_SEQUENCE_READY", SequenceControlKind::kReady},
      {"CONTROL_SEQUENCE_CORRID", SequenceControlKind::kCorrid},
  }};
  for (const Field& c : f.value.fields) {
    if (c.name == "kind") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Enum(s, c, kKinds, "a CONTROL_SEQUENCE_* value", &ctl->kind));
    } else if (c.name == "int32_false_true") {
      int32_t v = 0;
      RETURN_IF_ERROR(Int(s, c, &v));
      ctl->int32_false_true.push_back(v);
    } else if (c.name == "fp32_false_true") {
      float v = 0;
      RETURN_IF_ERROR(Float(s, c, &v));
      ctl->fp32_false_true.push_back(v);
    } else if (c.name == "data_type") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(DataTypeValue(s, c, &ctl->data_type));
    } else {
      return Unknown(s, c, "ModelSequenceBatching.Control",
                     "kind, int32_false_true, fp32_false_true, data_type");
    }
  }
  return Status::Ok();
}

Status Mapper::MapControlInput(const Field& f, const std::string& path,
                               SequenceControlInput* in) const {
  Scope s{f.value, path, {}};
  for (const Field& c : f.value.fields) {
    if (c.name == "name") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &in->name));
    } else if (c.name == "control") {
      RETURN_IF_ERROR(Message(s, c));
      RETURN_IF_ERROR(MapControl(c, PathOf(s, c), &in->control.emplace_back()));
    } else {
      return Unknown(s, c, "ModelSequenceBatching.ControlInput", "name, control");
    }
  }
  if (in->name.empty()) return Err(f.value.line, f.value.col, path, "missing 'name'");
  return Status::Ok();
}

Status Mapper::MapSequenceBatching(const Field& f, const std::string& path,
                                   SequenceBatching* b) const {
  Scope s{f.value, path, {}};
  const Field* strategy = nullptr;
  for (const Field& c : f.value.fields) {
    if (c.name == "max_sequence_idle_microseconds") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Int(s, c, &b->max_sequence_idle_microseconds));
    } else if (c.name == "control_input") {
      RETURN_IF_ERROR(Message(s, c));
      RETURN_IF_ERROR(MapControlInput(c, PathOf(s, c), &b->control_input.emplace_back()));
    } else if (c.name == "direct" || c.name == "oldest") {
      // A oneof in model_config.proto: only one strategy may be given.
      if (strategy != nullptr) {
        return Err(c.line, c.col, PathOf(s, c),
                   fmt::format("only one strategy may be given; '{}' was given at {}:{}",
                               strategy->name, strategy->line, strategy->col));
      }
      strategy = &c;
      RETURN_IF_ERROR(Message(s, c));
      b->strategy = c.name == "direct" ? SequenceBatching::Strategy::kDirect
                                       : SequenceBatching::Strategy::kOldest;
      Scope st{c.value, PathOf(s, c), {}};
      for (const Field& sc : c.value.fields) {
        if (sc.name == "max_queue_delay_microseconds") {
          RETURN_IF_ERROR(Once(&st, sc));
          RETURN_IF_ERROR(Int(st, sc, &b->max_queue_delay_microseconds));
        } else if (c.name == "oldest" && sc.name == "max_candidate_sequences") {
          RETURN_IF_ERROR(Once(&st, sc));
          RETURN_IF_ERROR(Int<int32_t>(st, sc, &b->max_candidate_sequences, 1));
        } else if (c.name == "oldest" && sc.name == "preferred_batch_size") {
          int32_t size = 0;
          RETURN_IF_ERROR(Int<int32_t>(st, sc, &size, 1));
          b->preferred_batch_size.push_back(size);
        } else if (c.name == "oldest") {
          return Unknown(st, sc, "StrategyOldest",
                         "max_candidate_sequences, preferred_batch_size, "
                         "max_queue_delay_microseconds");
        } else {
          return Unknown(st, sc, "StrategyDirect", "max_queue_delay_microseconds");
        }
      }
    } else {
      return Unknown(s, c, "ModelSequenceBatching",
                     "max_sequence_idle_microseconds, control_input, direct, oldest");
    }
  }
  return Status::Ok();
}

// `parameters { key: "K" value { string_value: "V" } }`: protobuf's text form of a
// map<string, ModelParameter> entry.
Status Mapper::MapParameter(const Field& f, const std::string& path, ModelConfig* config) const {
  Scope s{f.value, path, {}};
  const Field* key = nullptr;
  std::string k, v;
  bool has_value = false;
  for (const Field& c : f.value.fields) {
    if (c.name == "key") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &k));
      key = &c;
    } else if (c.name == "value") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Message(s, c));
      Scope vs{c.value, PathOf(s, c), {}};
      for (const Field& vc : c.value.fields) {
        if (vc.name != "string_value") return Unknown(vs, vc, "ModelParameter", "string_value");
        RETURN_IF_ERROR(Once(&vs, vc));
        RETURN_IF_ERROR(String(vs, vc, &v));
      }
      has_value = true;
    } else {
      return Unknown(s, c, "the parameters entry", "key, value");
    }
  }
  if (key == nullptr) return Err(f.value.line, f.value.col, path, "missing 'key'");
  if (!has_value) return Err(f.value.line, f.value.col, path, "missing 'value'");
  if (!config->parameters.emplace(k, v).second) {
    return ErrValue(*key, FieldPath(path, "key"), fmt::format("duplicate parameter key '{}'", k));
  }
  return Status::Ok();
}

Status Mapper::MapVersionPolicy(const Field& f, const std::string& path, VersionPolicy* v) const {
  Scope s{f.value, path, {}};
  if (f.value.fields.size() > 1) {
    const Field& c = f.value.fields[1];
    return Err(c.line, c.col, PathOf(s, c), "a version policy is one of latest, all or specific");
  }
  for (const Field& c : f.value.fields) {
    if (c.name != "latest" && c.name != "all" && c.name != "specific") {
      return Unknown(s, c, "ModelVersionPolicy", "latest, all, specific");
    }
    RETURN_IF_ERROR(Message(s, c));
    Scope ps{c.value, PathOf(s, c), {}};
    if (c.name == "latest") {
      v->kind = VersionPolicy::Kind::kLatest;
      for (const Field& pc : c.value.fields) {
        if (pc.name != "num_versions") return Unknown(ps, pc, "Latest", "num_versions");
        RETURN_IF_ERROR(Once(&ps, pc));
        RETURN_IF_ERROR(Int<uint32_t>(ps, pc, &v->num_versions, 1));
      }
    } else if (c.name == "all") {
      v->kind = VersionPolicy::Kind::kAll;
      if (!c.value.fields.empty()) return Unknown(ps, c.value.fields[0], "All", "no fields");
    } else {  // "specific"
      v->kind = VersionPolicy::Kind::kSpecific;
      for (const Field& pc : c.value.fields) {
        if (pc.name != "versions") return Unknown(ps, pc, "Specific", "versions");
        int64_t version = 0;
        RETURN_IF_ERROR(Int<int64_t>(ps, pc, &version, 1));
        v->versions.push_back(version);
      }
    }
  }
  return Status::Ok();
}

// Triton finds tensors by name, so two with one name would make one unreachable.
Status Mapper::CheckTensors(const std::vector<const Field*>& fields,
                            const std::vector<TensorConfig>& ts, std::string_view what) const {
  std::map<std::string, size_t> first;
  for (size_t i = 0; i < ts.size(); ++i) {
    auto [it, fresh] = first.emplace(ts[i].name, i);
    if (fresh) continue;
    const Field& f = *fields[i];
    const Field& prev = *fields[it->second];
    return Err(f.value.line, f.value.col, fmt::format("{}[{}].name", what, i),
               fmt::format("duplicate {} name '{}' (first at {}:{})", what, ts[i].name,
                           prev.value.line, prev.value.col));
  }
  return Status::Ok();
}

StatusOr<ModelConfig> Mapper::Map(const Node& root, const std::string& expected_name) {
  ModelConfig config;
  Scope s{root, "", {}};
  const Field* name = nullptr;
  std::vector<const Field*> inputs, outputs;
  for (const Field& c : root.fields) {
    const std::string path = PathOf(s, c);
    if (c.name == "name") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &config.name));
      name = &c;
    } else if (c.name == "platform") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &config.platform));
    } else if (c.name == "backend") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &config.backend));
    } else if (c.name == "max_batch_size") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Int<int32_t>(s, c, &config.max_batch_size, 0));
    } else if (c.name == "default_model_filename") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(String(s, c, &config.default_model_filename));
    } else if (c.name == "input" || c.name == "output") {
      RETURN_IF_ERROR(Message(s, c));
      const bool is_input = c.name == "input";
      auto& list = is_input ? config.inputs : config.outputs;
      RETURN_IF_ERROR(MapTensor(c, path, is_input, &list.emplace_back()));
      (is_input ? inputs : outputs).push_back(&c);
    } else if (c.name == "instance_group") {
      RETURN_IF_ERROR(Message(s, c));
      RETURN_IF_ERROR(MapInstanceGroup(c, path, &config.instance_groups.emplace_back()));
    } else if (c.name == "dynamic_batching") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Message(s, c));
      RETURN_IF_ERROR(MapDynamicBatching(c, path, &config.dynamic_batching.emplace()));
    } else if (c.name == "sequence_batching") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Message(s, c));
      RETURN_IF_ERROR(MapSequenceBatching(c, path, &config.sequence_batching.emplace()));
    } else if (c.name == "parameters") {
      RETURN_IF_ERROR(Message(s, c));
      RETURN_IF_ERROR(MapParameter(c, path, &config));
    } else if (c.name == "version_policy") {
      RETURN_IF_ERROR(Once(&s, c));
      RETURN_IF_ERROR(Message(s, c));
      RETURN_IF_ERROR(MapVersionPolicy(c, path, &config.version_policy));
    } else {
      return Unknown(s, c, "ModelConfig",
                     "name, platform, backend, max_batch_size, input, output, instance_group, "
                     "dynamic_batching, sequence_batching, parameters, version_policy, "
                     "default_model_filename");
    }
  }
  RETURN_IF_ERROR(CheckTensors(inputs, config.inputs, "input"));
  RETURN_IF_ERROR(CheckTensors(outputs, config.outputs, "output"));
  // A oneof in model_config.proto (scheduling_choice): the later one is the error.
  if (config.dynamic_batching && config.sequence_batching) {
    const Field* d = s.seen.at("dynamic_batching");
    const Field* q = s.seen.at("sequence_batching");
    const Field* later = d->line > q->line || (d->line == q->line && d->col > q->col) ? d : q;
    return Err(later->line, later->col, later->name,
               "dynamic_batching and sequence_batching cannot both be given");
  }
  if (name != nullptr && !expected_name.empty() && config.name != expected_name) {
    return ErrValue(*name, "name",
                    fmt::format("'{}' does not match the model folder '{}'; Triton requires the "
                                "name to match the folder",
                                config.name, expected_name));
  }
  if (name == nullptr) {
    if (expected_name.empty()) return Err(1, 1, "name", "missing, and no model folder to name it");
    config.name = expected_name;
  } else if (config.name.empty()) {
    return ErrValue(*name, "name", "must not be empty");
  }
  if (config.platform.empty() && config.backend.empty()) {
    return Err(1, 1, "backend", "missing: the model needs 'backend' or 'platform'");
  }
  return config;
}

}  // namespace

std::string_view TritonTypeName(DataType type) {
  const DataTypeInfo* info = FindType(type);
  return info == nullptr ? "TYPE_INVALID" : info->triton;
}

std::optional<DataType> DataTypeFromTritonName(std::string_view name) {
  for (const auto& info : kDataTypes) {
    if (info.triton == name) return info.type;
  }
  return std::nullopt;
}

std::string ToKServeDatatype(DataType type) {
  const DataTypeInfo* info = FindType(type);
  return info == nullptr ? "" : std::string(info->kserve);
}

std::optional<DataType> DataTypeFromKServe(std::string_view name) {
  for (const auto& info : kDataTypes) {
    if (info.kserve == name) return info.type;
  }
  return std::nullopt;
}

size_t ElementSize(DataType type) {
  const DataTypeInfo* info = FindType(type);
  return info == nullptr ? 0 : info->size;
}

std::string ModelConfig::BackendName() const {
  if (!backend.empty()) return backend;
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kPlatforms = {{
      {"onnxruntime_onnx", "onnxruntime"},
      {"pytorch_libtorch", "pytorch"},
      {"tensorflow_graphdef", "tensorflow"},
      {"tensorflow_savedmodel", "tensorflow"},
      {"tensorrt_plan", "tensorrt"},
      {"openvino", "openvino"},
  }};
  for (const auto& [p, b] : kPlatforms) {
    if (p == platform) return std::string(b);
  }
  return platform;
}

StatusOr<ModelConfig> ParseModelConfig(std::string_view text, const std::string& file_for_errors,
                                       const std::string& expected_name) {
  Parser parser(text, file_for_errors);
  ASSIGN_OR_RETURN(Node root, parser.Parse());
  return Mapper(file_for_errors).Map(root, expected_name);
}

StatusOr<ModelConfig> LoadModelConfig(Env* env, const std::string& model_dir) {
  std::string dir = model_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const size_t slash = dir.rfind('/');
  const std::string folder = slash == std::string::npos ? dir : dir.substr(slash + 1);
  const std::string path = sagebox::JoinPath(dir, "config.pbtxt");
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  return ParseModelConfig(text, path, folder);
}

}  // namespace sagebox::endpoint
