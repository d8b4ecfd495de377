#include "pipeline/asl/intrinsics.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>
#include <utility>

#include "core/base64.h"
#include "core/json_type.h"
#include "core/utf8.h"
#include "fmt/format.h"

namespace sagebox::pipeline::asl {

using nlohmann::json;

namespace {

// "You can nest up to 10 intrinsic functions within a field" (intrinsic-functions page).
constexpr int kMaxNesting = 10;
// Base64Encode/Base64Decode/Hash: "input string can't exceed 10,000 characters".
constexpr size_t kMaxStringInput = 10000;
// ArrayRange: "The newly generated array can't contain more than 1000 items".
constexpr int64_t kMaxRangeItems = 1000;

struct Arity {
  std::string_view name;
  size_t min, max;
};
constexpr size_t kMany = std::numeric_limits<size_t>::max();
constexpr std::array<Arity, 18> kFunctions = {{
    {"States.Array", 0, kMany},
    {"States.ArrayContains", 2, 2},
    {"States.ArrayGetItem", 2, 2},
    {"States.ArrayLength", 1, 1},
    {"States.ArrayPartition", 2, 2},
    {"States.ArrayRange", 3, 3},
    {"States.ArrayUnique", 1, 1},
    {"States.Base64Decode", 1, 1},
    {"States.Base64Encode", 1, 1},
    {"States.Format", 1, kMany},
    {"States.Hash", 2, 2},
    {"States.JsonMerge", 3, 3},
    {"States.JsonToString", 1, 1},
    {"States.MathAdd", 2, 2},
    {"States.MathRandom", 2, 3},
    {"States.StringSplit", 2, 2},
    {"States.StringToJson", 1, 1},
    {"States.UUID", 0, 0},
}};

const Arity* FindFunction(std::string_view name) {
  for (const Arity& a : kFunctions) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Status Fail(const std::string& what) const {
    return BadInput(fmt::format("intrinsic '{}': at offset {}: {}", s_, pos_, what));
  }

  StatusOr<IntrinsicCall> ParseCall(int depth) {
    if (depth > kMaxNesting) {
      return Fail(fmt::format("more than {} nested intrinsic functions", kMaxNesting));
    }
    const size_t begin = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) != 0 ||
                                s_[pos_] == '.' || s_[pos_] == '_')) {
      ++pos_;
    }
    IntrinsicCall call;
    call.name = std::string(s_.substr(begin, pos_ - begin));
    const Arity* arity = FindFunction(call.name);
    if (arity == nullptr) {
      pos_ = begin;
      return Fail(fmt::format("unknown intrinsic function '{}'", call.name));
    }
    SkipSpaces();
    if (Peek() != '(') return Fail(fmt::format("expected '(' after {}", call.name));
    ++pos_;
    SkipSpaces();
    if (Peek() == ')') {
      ++pos_;
    } else {
      for (;;) {
        ASSIGN_OR_RETURN(IntrinsicArg arg, ParseArg(depth));
        call.args.push_back(std::move(arg));
        SkipSpaces();
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        if (Peek() == ')') {
          ++pos_;
          break;
        }
        return Fail("expected ',' or ')' after an argument");
      }
    }
    if (call.args.size() < arity->min || call.args.size() > arity->max) {
      const std::string want =
          arity->max == kMany
              ? fmt::format("at least {}", arity->min)
              : (arity->min == arity->max ? fmt::format("{}", arity->min)
                                          : fmt::format("{} to {}", arity->min, arity->max));
      return Fail(
          fmt::format("{} takes {} argument(s), got {}", call.name, want, call.args.size()));
    }
    return call;
  }

  bool AtEnd() {
    SkipSpaces();
    return pos_ >= s_.size();
  }

 private:
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  StatusOr<IntrinsicArg> ParseArg(int depth) {
    SkipSpaces();
    IntrinsicArg arg;
    const char c = Peek();
    if (c == '\'') {
      ++pos_;
      std::string value;
      const size_t raw_begin = pos_;
      for (;;) {
        if (pos_ >= s_.size()) return Fail("unterminated string literal, expected '");
        const char d = s_[pos_];
        if (d == '\'') break;
        if (d == '\\') {
          const char e = pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0';
          if (e != '\'' && e != '{' && e != '}' && e != '\\') {
            // "If an open escape backslash \ is found in the intrinsic invocation string, the
            // interpreter will throw a runtime error" (intrinsic-functions page).
            return Fail("a backslash must escape one of ' { } \\");
          }
          value.push_back(e);
          pos_ += 2;
          continue;
        }
        value.push_back(d);
        ++pos_;
      }
      arg.raw = std::string(s_.substr(raw_begin, pos_ - raw_begin));
      ++pos_;
      arg.literal = std::move(value);
      return arg;
    }
    if (c == '$') {
      const size_t begin = pos_;
      int brackets = 0;
      int parens = 0;
      char quote = '\0';
      while (pos_ < s_.size()) {
        const char d = s_[pos_];
        if (quote != '\0') {
          if (d == quote) quote = '\0';
        } else if (d == '\'' || d == '"') {
          if (brackets > 0) quote = d;
        } else if (d == '[') {
          ++brackets;
        } else if (d == ']') {
          --brackets;
        } else if (d == '(') {
          ++parens;
        } else if (d == ')') {
          if (parens == 0 && brackets == 0) break;
          --parens;
        } else if (d == ',' && brackets == 0 && parens == 0) {
          break;
        }
        ++pos_;
      }
      std::string_view text = s_.substr(begin, pos_ - begin);
      while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
      auto path = ParseJsonPath(text);
      if (!path.ok()) {
        pos_ = begin;
        return Fail("bad path argument: " + path.status().message());
      }
      arg.kind = IntrinsicArg::Kind::kPath;
      arg.path = std::move(path).value();
      return arg;
    }
    if (s_.substr(pos_, 7) == "States.") {
      ASSIGN_OR_RETURN(IntrinsicCall inner, ParseCall(depth + 1));
      arg.kind = IntrinsicArg::Kind::kCall;
      arg.call = std::make_shared<IntrinsicCall>(std::move(inner));
      return arg;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        arg.literal = json::parse(word);
        return arg;
      }
    }
    const size_t begin = pos_;
    while (pos_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[pos_])) != 0 || s_[pos_] == '-' ||
            s_[pos_] == '+' || s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
    }
    if (pos_ > begin) {
      json v = json::parse(s_.substr(begin, pos_ - begin), nullptr, /*allow_exceptions=*/false);
      if (!v.is_discarded() && v.is_number()) {
        arg.literal = std::move(v);
        return arg;
      }
      pos_ = begin;
    }
    return Fail(
        "expected an argument: a 'string', a number, true, false, null, a path or an "
        "intrinsic function");
  }

  std::string_view s_;
  size_t pos_ = 0;
};

AslError Fail(const IntrinsicCall& call, const std::string& what) {
  return IntrinsicFailure(fmt::format("{}: {}", call.name, what));
}

const char* Ordinal(size_t i) {
  static constexpr const char* kNames[] = {"first", "second", "third"};
  return i < 3 ? kNames[i] : "later";
}

// AWS rounds non-integer numeric arguments of ArrayPartition, ArrayRange, MathRandom and
// MathAdd to the nearest integer ("Step Functions rounds it off to the nearest integer").
AslOr<int64_t> IntegerArg(const IntrinsicCall& call, const std::vector<json>& args, size_t i) {
  const json& v = args[i];
  if (!v.is_number()) {
    return Fail(call, fmt::format("the {} argument must be an integer, got {}", Ordinal(i),
                                  JsonTypeName(v)));
  }
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{1} << 53) {
      return Fail(call, fmt::format("the {} argument is out of range", Ordinal(i)));
    }
    return v.get<int64_t>();
  }
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 9007199254740992.0) {
    return Fail(call, fmt::format("the {} argument is out of range", Ordinal(i)));
  }
  return static_cast<int64_t>(std::llround(d));
}

AslOr<const json*> TypedArg(const IntrinsicCall& call, const std::vector<json>& args, size_t i,
                            json::value_t type, const char* want) {
  const json& v = args[i];
  if (v.type() != type) {
    return Fail(
        call, fmt::format("the {} argument must be {}, got {}", Ordinal(i), want, JsonTypeName(v)));
  }
  return &v;
}

// Java's StringTokenizer semantics, which AWS's example ("This.is+a,test=string" split on
// ".+,=") matches: every character of the splitter separates, and empty tokens are dropped.
json SplitOnAny(const std::string& s, const std::string& splitter) {
  json out = json::array();
  std::string token;
  for (char c : s) {
    if (splitter.find(c) != std::string::npos) {
      if (!token.empty()) out.push_back(std::move(token));
      token.clear();
    } else {
      token.push_back(c);
    }
  }
  if (!token.empty()) out.push_back(std::move(token));
  return out;
}

std::string Render(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

struct FnUrbg {
  using result_type = uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<uint64_t>::max(); }
  result_type operator()() { return (*fn)(); }
  const std::function<uint64_t()>* fn;
};

uint64_t DeviceRandom() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen();
}

std::string RandomUuid(const IntrinsicEnv& env) {
  if (env.uuid) return env.uuid();
  std::array<unsigned char, 16> b{};
  for (size_t i = 0; i < b.size(); i += 8) {
    const uint64_t r = DeviceRandom();
    for (size_t k = 0; k < 8; ++k) b[i + k] = static_cast<unsigned char>(r >> (8 * k));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4 (RFC 4122 §4.4)
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // variant 10
  std::string out;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out += fmt::format("{:02x}", b[i]);
  }
  return out;
}

AslOr<json> Hash(const IntrinsicCall& call, const std::vector<json>& args) {
  ASL_ASSIGN_OR_RETURN(const json* data,
                       TypedArg(call, args, 0, json::value_t::string, "a string"));
  ASL_ASSIGN_OR_RETURN(const json* algo,
                       TypedArg(call, args, 1, json::value_t::string, "a string"));
  const std::string& text = data->get_ref<const std::string&>();
  if (text.size() > kMaxStringInput) {
    return Fail(call, fmt::format("the input data exceeds {} characters", kMaxStringInput));
  }
  const std::string& name = algo->get_ref<const std::string&>();
  const EVP_MD* md = nullptr;
  if (name == "MD5")
    md = EVP_md5();
  else if (name == "SHA-1")
    md = EVP_sha1();
  else if (name == "SHA-256")
    md = EVP_sha256();
  else if (name == "SHA-384")
    md = EVP_sha384();
  else if (name == "SHA-512")
    md = EVP_sha512();
  if (md == nullptr) {
    return Fail(call, fmt::format("unknown algorithm '{}', expected MD5, SHA-1, SHA-256, SHA-384 "
                                  "or SHA-512",
                                  name));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &len, md, nullptr) != 1) {
    return Fail(call, "the digest failed (OpenSSL)");
  }
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return json(hex);
}

AslOr<json> Format(const IntrinsicCall& call, const std::vector<json>& args) {
  ASL_ASSIGN_OR_RETURN(const json* tmpl,
                       TypedArg(call, args, 0, json::value_t::string, "a string"));
  // A literal template keeps its escapes so that \{\} is text, not a placeholder; a template
  // read from a path has no escapes.
  const IntrinsicArg& first = call.args[0];
  const bool literal = first.kind == IntrinsicArg::Kind::kLiteral;
  const std::string& t = literal ? first.raw : tmpl->get_ref<const std::string&>();
  std::string out;
  size_t next = 1;
  for (size_t i = 0; i < t.size(); ++i) {
    if (literal && t[i] == '\\' && i + 1 < t.size()) {
      out.push_back(t[++i]);
    } else if (t[i] == '{' && i + 1 < t.size() && t[i + 1] == '}') {
      if (next >= args.size()) {
        return Fail(call, fmt::format("the template has more {{}} placeholders than the {} "
                                      "value argument(s)",
                                      args.size() - 1));
      }
      out += Render(args[next++]);
      ++i;
    } else {
      out.push_back(t[i]);
    }
  }
  if (next != args.size()) {
    return Fail(call, fmt::format("the template has {} {{}} placeholder(s) but {} value "
                                  "argument(s) were given",
                                  next - 1, args.size() - 1));
  }
  return json(out);
}

AslOr<json> Apply(const IntrinsicCall& call, const std::vector<json>& args,
                  const IntrinsicEnv& env) {
  const std::string& n = call.name;
  constexpr auto kArray = json::value_t::array;
  constexpr auto kString = json::value_t::string;
  constexpr auto kObject = json::value_t::object;
  if (n == "States.Format") return Format(call, args);
  if (n == "States.StringToJson") {
    ASL_ASSIGN_OR_RETURN(const json* s, TypedArg(call, args, 0, kString, "a string"));
    json v = json::parse(s->get_ref<const std::string&>(), nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded()) return Fail(call, "the argument is not JSON text");
    return v;
  }
  if (n == "States.JsonToString") {
    return json(args[0].dump(-1, ' ', false, json::error_handler_t::replace));
  }
  if (n == "States.Array") return json(args);
  if (n == "States.ArrayPartition") {
    ASL_ASSIGN_OR_RETURN(const json* arr, TypedArg(call, args, 0, kArray, "an array"));
    ASL_ASSIGN_OR_RETURN(int64_t size, IntegerArg(call, args, 1));
    if (size <= 0) return Fail(call, "the chunk size must be a positive integer");
    json out = json::array();
    for (size_t i = 0; i < arr->size(); i += static_cast<size_t>(size)) {
      const size_t stop = std::min(arr->size(), i + static_cast<size_t>(size));
      out.push_back(json(std::vector<json>(arr->begin() + static_cast<std::ptrdiff_t>(i),
                                           arr->begin() + static_cast<std::ptrdiff_t>(stop))));
    }
    return out;
  }
  if (n == "States.ArrayContains") {
    ASL_ASSIGN_OR_RETURN(const json* arr, TypedArg(call, args, 0, kArray, "an array"));
    return json(std::find(arr->begin(), arr->end(), args[1]) != arr->end());
  }
  if (n == "States.ArrayRange") {
    ASL_ASSIGN_OR_RETURN(int64_t first, IntegerArg(call, args, 0));
    ASL_ASSIGN_OR_RETURN(int64_t last, IntegerArg(call, args, 1));
    ASL_ASSIGN_OR_RETURN(int64_t step, IntegerArg(call, args, 2));
    if (step == 0) return Fail(call, "the step (third argument) must not be 0");
    // Values are within ±2^53, so the difference cannot overflow int64.
    const int64_t count = (last - first) / step < 0 ? 0 : (last - first) / step + 1;
    if (count > kMaxRangeItems) {
      return Fail(call, fmt::format("the range has {} items, more than the limit of {}", count,
                                    kMaxRangeItems));
    }
    json out = json::array();
    for (int64_t i = 0; i < count; ++i) out.push_back(first + i * step);
    return out;
  }
  if (n == "States.ArrayGetItem") {
    ASL_ASSIGN_OR_RETURN(const json* arr, TypedArg(call, args, 0, kArray, "an array"));
    ASL_ASSIGN_OR_RETURN(int64_t index, IntegerArg(call, args, 1));
    if (index < 0 || static_cast<uint64_t>(index) >= arr->size()) {
      return Fail(call,
                  fmt::format("index {} is outside the array of {} items", index, arr->size()));
    }
    return (*arr)[static_cast<size_t>(index)];
  }
  if (n == "States.ArrayLength") {
    ASL_ASSIGN_OR_RETURN(const json* arr, TypedArg(call, args, 0, kArray, "an array"));
    return json(arr->size());
  }
  if (n == "States.ArrayUnique") {
    ASL_ASSIGN_OR_RETURN(const json* arr, TypedArg(call, args, 0, kArray, "an array"));
    json out = json::array();
    for (const json& v : *arr) {
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return out;
  }
  if (n == "States.Base64Encode" || n == "States.Base64Decode") {
    ASL_ASSIGN_OR_RETURN(const json* s, TypedArg(call, args, 0, kString, "a string"));
    const std::string& text = s->get_ref<const std::string&>();
    if (text.size() > kMaxStringInput) {
      return Fail(call, fmt::format("the input exceeds {} characters", kMaxStringInput));
    }
    if (n == "States.Base64Encode") return json(Base64Encode(text));
    auto decoded = Base64Decode(text);
    if (!decoded.ok()) return Fail(call, decoded.status().message());
    if (FindInvalidUtf8(*decoded)) return Fail(call, "the decoded bytes are not UTF-8 text");
    return json(*decoded);
  }
  if (n == "States.Hash") return Hash(call, args);
  if (n == "States.JsonMerge") {
    ASL_ASSIGN_OR_RETURN(const json* a, TypedArg(call, args, 0, kObject, "an object"));
    ASL_ASSIGN_OR_RETURN(const json* b, TypedArg(call, args, 1, kObject, "an object"));
    if (!args[2].is_boolean() || args[2].get<bool>()) {
      // "Step Functions only supports the shallow merging mode; therefore, you must specify
      // the boolean value as false" (intrinsic-functions page, States.JsonMerge).
      return Fail(call, "the third argument must be false: only the shallow merge is supported");
    }
    json out = *a;
    for (const auto& [k, v] : b->items()) out[k] = v;
    return out;
  }
  if (n == "States.MathRandom") {
    ASL_ASSIGN_OR_RETURN(int64_t start, IntegerArg(call, args, 0));
    ASL_ASSIGN_OR_RETURN(int64_t end, IntegerArg(call, args, 1));
    // AWS: a random number "between the specified start (inclusive) and end (exclusive)".
    if (end <= start) return Fail(call, "the end must be greater than the start");
    std::uniform_int_distribution<int64_t> dist(start, end - 1);
    if (args.size() == 3) {
      ASL_ASSIGN_OR_RETURN(int64_t seed, IntegerArg(call, args, 2));
      std::mt19937_64 gen(static_cast<uint64_t>(seed));
      return json(dist(gen));
    }
    const std::function<uint64_t()> fallback = DeviceRandom;
    FnUrbg gen{env.random ? &env.random : &fallback};
    return json(dist(gen));
  }
  if (n == "States.MathAdd") {
    ASL_ASSIGN_OR_RETURN(int64_t a, IntegerArg(call, args, 0));
    ASL_ASSIGN_OR_RETURN(int64_t b, IntegerArg(call, args, 1));
    // AWS documents both values within the 32-bit integer range.
    constexpr int64_t kLo = std::numeric_limits<int32_t>::min();
    constexpr int64_t kHi = std::numeric_limits<int32_t>::max();
    if (a < kLo || a > kHi || b < kLo || b > kHi) {
      return Fail(call, "the arguments must be within -2147483648 and 2147483647");
    }
    return json(a + b);
  }
  if (n == "States.StringSplit") {
    ASL_ASSIGN_OR_RETURN(const json* s, TypedArg(call, args, 0, kString, "a string"));
    ASL_ASSIGN_OR_RETURN(const json* sep, TypedArg(call, args, 1, kString, "a string"));
    return SplitOnAny(s->get_ref<const std::string&>(), sep->get_ref<const std::string&>());
  }
  if (n == "States.UUID") return json(RandomUuid(env));
  return Fail(call, "not an intrinsic function");  // ParseIntrinsic admits only the above
}

}  // namespace

const std::vector<std::string_view>& IntrinsicFunctionNames() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> v;
    v.reserve(kFunctions.size());
    for (const Arity& a : kFunctions) v.push_back(a.name);
    return v;
  }();
  return kNames;
}

bool IsIntrinsicInvocation(std::string_view text) { return text.substr(0, 7) == "States."; }

StatusOr<IntrinsicCall> ParseIntrinsic(std::string_view text) {
  Parser p(text);
  ASSIGN_OR_RETURN(IntrinsicCall call, p.ParseCall(1));
  if (!p.AtEnd()) return p.Fail("unexpected text after the closing ')'");
  return call;
}

AslOr<json> EvaluateIntrinsic(const IntrinsicCall& call, const json& input, const json& context,
                              const IntrinsicEnv& env) {
  std::vector<json> args;
  args.reserve(call.args.size());
  for (const IntrinsicArg& a : call.args) {
    switch (a.kind) {
      case IntrinsicArg::Kind::kLiteral:
        args.push_back(a.literal);
        break;
      case IntrinsicArg::Kind::kPath: {
        ASL_ASSIGN_OR_RETURN(json v, EvaluatePath(*a.path, input, context));
        args.push_back(std::move(v));
        break;
      }
      case IntrinsicArg::Kind::kCall: {
        ASL_ASSIGN_OR_RETURN(json v, EvaluateIntrinsic(*a.call, input, context, env));
        args.push_back(std::move(v));
        break;
      }
    }
  }
  return Apply(call, args, env);
}

AslOr<json> EvaluateIntrinsic(std::string_view text, const json& input, const json& context,
                              const IntrinsicEnv& env) {
  auto call = ParseIntrinsic(text);
  if (!call.ok()) return IntrinsicFailure(call.status().message());
  return EvaluateIntrinsic(*call, input, context, env);
}

}  // namespace sagebox::pipeline::asl
