#include "catalog/catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "core/strings.h"
#include "core/time.h"

namespace sagebox::catalog {
namespace {

using nlohmann::json;

constexpr std::string_view kDefaultRegion = "us-east-1";

// "line:col" (1-based) of byte offset `at` in `text`.
std::string LineCol(std::string_view text, size_t at) {
  at = std::min(at, text.size());
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

// A SAX consumer that only remembers where parsing failed: the non-throwing
// DOM parse says *that* the text is malformed, this says *where*.
class ErrorLocator : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool /*val*/) override { return true; }
  bool number_integer(number_integer_t /*val*/) override { return true; }
  bool number_unsigned(number_unsigned_t /*val*/) override { return true; }
  bool number_float(number_float_t /*val*/, const string_t& /*s*/) override { return true; }
  bool string(string_t& /*val*/) override { return true; }
  bool binary(binary_t& /*val*/) override { return true; }
  bool start_object(std::size_t /*elements*/) override { return true; }
  bool key(string_t& /*val*/) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t /*elements*/) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    position_ = position;
    message_ = ex.what();
    return false;
  }

  size_t position() const { return position_; }
  // nlohmann's text without its "[json.exception...] parse error at line
  // L, column C: " prefix (we print our own location).
  std::string message() const {
    size_t col = message_.find("column ");
    size_t colon = col == std::string::npos ? col : message_.find(": ", col);
    return colon == std::string::npos ? message_ : message_.substr(colon + 2);
  }

 private:
  size_t position_ = 0;
  std::string message_ = "malformed JSON";
};

// Where each element of the top-level "instances" array starts and ends in
// the (already validated) text, so shape errors can name a line and column
// even though the DOM keeps no positions.
struct Span {
  size_t begin = 0, end = 0;
};

std::vector<Span> InstanceSpans(std::string_view t) {
  std::vector<Span> out;
  int depth = 0;
  int array_depth = -1;  // depth inside the instances array, once found
  bool instances_next = false;
  std::string_view last_string;
  size_t i = 0;
  while (i < t.size()) {
    char c = t[i];
    if (c == '"') {
      size_t start = ++i;
      while (i < t.size() && t[i] != '"') i += t[i] == '\\' ? 2 : 1;
      if (depth == array_depth) out.push_back({start - 1, std::min(i + 1, t.size())});
      last_string = t.substr(start, std::min(i, t.size()) - start);
      ++i;
      continue;
    }
    if (c == ':' && depth == 1 && array_depth == -1) {
      instances_next = last_string == "instances";
    } else if (c == '{' || c == '[') {
      if (depth == array_depth) out.push_back({i, 0});
      ++depth;
      if (c == '[' && instances_next && depth == 2) array_depth = depth;
      instances_next = false;
    } else if (c == '}' || c == ']') {
      --depth;
      if (depth == array_depth && !out.empty() && out.back().end == 0) out.back().end = i + 1;
      if (array_depth >= 0 && depth < array_depth) array_depth = -2;  // past the array
    } else if (depth == array_depth && c != ',' && c != ' ' && c != '\n' && c != '\r' &&
               c != '\t') {
      // a number, true/false/null directly in the array
      size_t start = i;
      while (i < t.size() && t[i] != ',' && t[i] != ']' && t[i] != ' ' && t[i] != '\n') ++i;
      out.push_back({start, i});
      continue;
    }
    ++i;
  }
  return out;
}

// Offset of the key `"field"` inside `span`, else the span's start.
size_t FieldOffset(std::string_view text, Span span, std::string_view field) {
  std::string needle = "\"" + std::string(field) + "\"";
  size_t end = span.end > span.begin ? span.end : text.size();
  size_t at = text.substr(0, end).find(needle, span.begin);
  return at == std::string_view::npos ? span.begin : at;
}

// "ml.m5.4xlarge" from "ml.m5.4xlarge", "m5.4xlarge", " ML.M5.4XLARGE ";
// nullopt unless it is ml.<family>.<size> of [a-z0-9-].
std::optional<std::string> NormalizeType(std::string_view raw) {
  while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) raw.remove_prefix(1);
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
  std::string t = AsciiLower(raw);
  if (t.rfind("ml.", 0) != 0) t = "ml." + t;
  size_t dot1 = 2;
  size_t dot2 = t.find('.', dot1 + 1);
  if (dot2 == std::string::npos || dot2 == dot1 + 1 || dot2 + 1 >= t.size()) return std::nullopt;
  if (t.find('.', dot2 + 1) != std::string::npos) return std::nullopt;
  for (size_t i = 3; i < t.size(); ++i) {
    char c = t[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || i == dot2;
    if (!ok) return std::nullopt;
  }
  return t;
}

std::string_view FamilyOf(std::string_view type) {
  size_t dot = type.find('.', 3);
  return type.substr(3, dot - 3);
}

std::string_view SizeOf(std::string_view type) { return type.substr(type.find('.', 3) + 1); }

std::string StripMl(std::string_view family) {
  std::string f = AsciiLower(family);
  if (f.rfind("ml.", 0) == 0) f.erase(0, 3);
  return f;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The category a family's letter implies, for override entries that omit it.
std::string DefaultCategory(std::string_view family) {
  if (StartsWith(family, "inf") || StartsWith(family, "trn") || StartsWith(family, "dl"))
    return "accelerated";
  switch (family.empty() ? '\0' : family[0]) {
    case 't':
      return "burstable";
    case 'c':
      return "compute";
    case 'r':
    case 'x':
    case 'z':
      return "memory";
    case 'g':
    case 'p':
      return "accelerated";
    default:
      return "general";
  }
}

bool ValidCategory(std::string_view c) {
  return c == "burstable" || c == "general" || c == "compute" || c == "memory" ||
         c == "accelerated";
}

bool ValidRegion(std::string_view r) {
  if (r.empty() || r.size() > 64) return false;
  return std::all_of(r.begin(), r.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// One "instances" element as written: only the fields it gives.
struct Patch {
  std::string type;
  size_t offset = 0;  // where it starts in the text, for later errors
  std::optional<std::string> category, gpu_model, accelerator_model, spec_source;
  std::optional<int> vcpu, gpus, accelerators;
  std::optional<double> memory_gib, gpu_memory_gib;
  std::vector<std::tuple<std::string, Decimal, std::string>> prices;  // region, price, source
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view label) : text_(text), label_(label) {}

  Status Error(size_t offset, const std::string& what) const {
    return BadInput(std::string(label_) + ":" + LineCol(text_, offset) + ": " + what);
  }

  // Parses the whole document into patches; no semantic merging yet.
  Status Parse(bool complete) {
    json doc = json::parse(text_, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      ErrorLocator loc;
      // Cannot throw: the locator's parse_error returns false instead.
      json::sax_parse(text_, &loc);
      return Error(loc.position() > 0 ? loc.position() - 1 : 0, loc.message());
    }
    if (!doc.is_object()) return Error(0, "expected a JSON object with an \"instances\" array");
    for (const auto& [k, v] : doc.items()) {
      if (k != "source" && k != "as_of" && k != "instances" && k != "spec_sources" &&
          k != "price_sources") {
        return Error(TopOffset(k), "unknown field \"" + k +
                                       "\" (expected source, as_of, spec_sources, "
                                       "price_sources, instances)");
      }
    }
    if (doc.contains("source")) {
      if (!doc["source"].is_string()) return Error(TopOffset("source"), "source must be a string");
      source_ = doc["source"].get<std::string>();
    }
    if (doc.contains("as_of")) {
      const json& a = doc["as_of"];
      if (!a.is_string() || !ParseDate(a.get<std::string>()))
        return Error(TopOffset("as_of"), "as_of must be a date \"YYYY-MM-DD\"");
      as_of_ = a.get<std::string>();
    }
    for (const char* k : {"spec_sources", "price_sources"}) {
      if (!doc.contains(k)) continue;
      const json& m = doc[k];
      bool ok = m.is_object() &&
                std::all_of(m.begin(), m.end(), [](const json& v) { return v.is_string(); });
      if (!ok)
        return Error(TopOffset(k), std::string(k) + " must be an object of name: description");
    }
    if (!doc.contains("instances") || !doc["instances"].is_array())
      return Error(doc.contains("instances") ? TopOffset("instances") : 0,
                   "expected an \"instances\" array");
    const json& arr = doc["instances"];
    spans_ = InstanceSpans(text_);
    for (size_t i = 0; i < arr.size(); ++i) {
      Span span = i < spans_.size() ? spans_[i] : Span{TopOffset("instances"), 0};
      Patch p;
      RETURN_IF_ERROR(ParseEntry(arr[i], i, span, complete, &p));
      patches_.push_back(std::move(p));
    }
    return Status::Ok();
  }

  const std::string& source() const { return source_; }
  const std::string& as_of() const { return as_of_; }
  std::vector<Patch>& patches() { return patches_; }

 private:
  size_t TopOffset(std::string_view key) const {
    return FieldOffset(text_, Span{0, text_.size()}, key);
  }

  Status ParseEntry(const json& e, size_t index, Span span, bool complete, Patch* p) {
    std::string where = "instances[" + std::to_string(index) + "]";
    if (!e.is_object()) return Error(span.begin, where + " must be an object");
    auto at = [&](std::string_view field) { return FieldOffset(text_, span, field); };
    if (!e.contains("type") || !e["type"].is_string())
      return Error(span.begin, where + " needs \"type\": \"ml.<family>.<size>\"");
    auto type = NormalizeType(e["type"].get<std::string>());
    if (!type) {
      return Error(at("type"), where + ": type \"" + e["type"].get<std::string>() +
                                   "\" is not ml.<family>.<size>");
    }
    p->type = *type;
    p->offset = span.begin;
    where += " (" + p->type + ")";
    for (const auto& [k, v] : e.items()) {
      static constexpr std::string_view kKnown[] = {"type",
                                                    "family",
                                                    "size",
                                                    "category",
                                                    "vcpu",
                                                    "memory_gib",
                                                    "gpus",
                                                    "gpu_memory_gib",
                                                    "gpu_model",
                                                    "accelerators",
                                                    "accelerator_model",
                                                    "spec_source",
                                                    "prices",
                                                    "price_source"};
      if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown))
        return Error(at(k), fmt::format("{}: unknown field \"{}\"", where, k));
    }
    for (const char* k : {"family", "size"}) {
      if (!e.contains(k)) continue;
      std::string_view want = std::string_view(k) == "family" ? FamilyOf(p->type) : SizeOf(p->type);
      if (!e[k].is_string() || AsciiLower(e[k].get<std::string>()) != want)
        return Error(at(k), where + ": " + k + " must be \"" + std::string(want) + "\"");
    }
    RETURN_IF_ERROR(Str(e, "category", where, at, &p->category));
    if (p->category && !ValidCategory(*p->category)) {
      return Error(at("category"), where +
                                       ": category must be one of burstable, general, "
                                       "compute, memory, accelerated");
    }
    RETURN_IF_ERROR(Str(e, "gpu_model", where, at, &p->gpu_model));
    RETURN_IF_ERROR(Str(e, "accelerator_model", where, at, &p->accelerator_model));
    RETURN_IF_ERROR(Str(e, "spec_source", where, at, &p->spec_source));
    RETURN_IF_ERROR(Int(e, "vcpu", 1, where, at, &p->vcpu));
    RETURN_IF_ERROR(Int(e, "gpus", 0, where, at, &p->gpus));
    RETURN_IF_ERROR(Int(e, "accelerators", 0, where, at, &p->accelerators));
    RETURN_IF_ERROR(Num(e, "memory_gib", /*positive=*/true, where, at, &p->memory_gib));
    RETURN_IF_ERROR(Num(e, "gpu_memory_gib", /*positive=*/false, where, at, &p->gpu_memory_gib));
    if (complete && (!p->vcpu || !p->memory_gib))
      return Error(span.begin, where + " needs \"vcpu\" and \"memory_gib\"");
    return ParsePrices(e, where, at, p);
  }

  template <typename At>
  Status ParsePrices(const json& e, const std::string& where, At at, Patch* p) {
    if (e.contains("price_source") && !e["price_source"].is_string() &&
        !e["price_source"].is_object()) {
      return Error(at("price_source"),
                   where + ": price_source must be a string or an object by region");
    }
    if (!e.contains("prices")) {
      if (e.contains("price_source"))
        return Error(at("price_source"), where + ": price_source without prices");
      return Status::Ok();
    }
    const json& prices = e["prices"];
    if (!prices.is_object())
      return Error(at("prices"), where + ": prices must be an object {\"region\": \"0.922\"}");
    std::string fallback = source_.empty() ? std::string(label_) : source_;
    for (const auto& item : prices.items()) {
      const std::string& region = item.key();
      const json& v = item.value();
      if (!ValidRegion(region))
        return Error(at("prices"), fmt::format("{}: \"{}\" is not a region name", where, region));
      Decimal d;
      if (!v.is_string() || !Decimal::Parse(v.get<std::string>(), &d) || d < Decimal()) {
        return Error(at(region),
                     fmt::format("{}: price for {} must be a non-negative decimal string such as "
                                 "\"0.922\"",
                                 where, region));
      }
      std::string src = fallback;
      if (e.contains("price_source")) {
        const json& ps = e["price_source"];
        if (ps.is_string()) {
          src = ps.get<std::string>();
        } else if (ps.contains(region)) {
          if (!ps[region].is_string())
            return Error(at("price_source"),
                         fmt::format("{}: price_source.{} must be a string", where, region));
          src = ps[region].get<std::string>();
        }
      }
      p->prices.emplace_back(region, d, std::move(src));
    }
    return Status::Ok();
  }

  template <typename At>
  Status Str(const json& e, const char* k, const std::string& where, At at,
             std::optional<std::string>* out) const {
    if (!e.contains(k)) return Status::Ok();
    if (!e[k].is_string()) return Error(at(k), where + ": " + k + " must be a string");
    *out = e[k].get<std::string>();
    return Status::Ok();
  }

  template <typename At>
  Status Int(const json& e, const char* k, int64_t min, const std::string& where, At at,
             std::optional<int>* out) const {
    if (!e.contains(k)) return Status::Ok();
    const json& v = e[k];
    constexpr int64_t kMax = 1'000'000;
    bool ok = v.is_number_integer() &&
              (v.is_number_unsigned() ? v.get<uint64_t>() <= static_cast<uint64_t>(kMax)
                                      : v.get<int64_t>() >= min && v.get<int64_t>() <= kMax);
    if (ok && v.is_number_unsigned()) ok = static_cast<int64_t>(v.get<uint64_t>()) >= min;
    if (!ok) {
      return Error(at(k), where + ": " + k + " must be an integer from " + std::to_string(min) +
                              " to " + std::to_string(kMax));
    }
    *out = static_cast<int>(v.get<int64_t>());
    return Status::Ok();
  }

  template <typename At>
  Status Num(const json& e, const char* k, bool positive, const std::string& where, At at,
             std::optional<double>* out) const {
    if (!e.contains(k)) return Status::Ok();
    const json& v = e[k];
    double d = v.is_number() ? v.get<double>() : -1;
    bool ok = v.is_number() && std::isfinite(d) && d <= 1e9 && (positive ? d > 0 : d >= 0);
    if (!ok) {
      return Error(at(k), where + ": " + k + " must be a number " +
                              (positive ? "above 0" : "from 0") + " (GiB)");
    }
    *out = d;
    return Status::Ok();
  }

  std::string_view text_;
  std::string_view label_;
  std::string source_;
  std::string as_of_;
  std::vector<Span> spans_;
  std::vector<Patch> patches_;
};

bool SpecLess(const InstanceSpec* a, const InstanceSpec* b) {
  return std::tie(a->vcpu, a->memory_gib, a->type) < std::tie(b->vcpu, b->memory_gib, b->type);
}

}  // namespace

StatusOr<Catalog> Catalog::Builtin() {
  auto c =
      FromJson(internal::BuiltinCatalogJson(), "builtin:data/catalog/sagemaker_instances.json");
  if (!c.ok()) return Internal("the embedded instance catalog is broken: " + c.status().message());
  return c;
}

StatusOr<Catalog> Catalog::FromJson(std::string_view text, std::string_view label) {
  Catalog c;
  RETURN_IF_ERROR(c.Apply(text, label, /*complete=*/true));
  return c;
}

Status Catalog::MergeFile(Env* env, const std::string& path) {
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  return Apply(text, path, /*complete=*/false);
}

Status Catalog::Apply(std::string_view text, std::string_view label, bool complete) {
  Parser parser(text, label);
  RETURN_IF_ERROR(parser.Parse(complete));
  std::vector<Patch>& patches = parser.patches();
  // Validate everything before changing anything, so a failed merge leaves
  // the catalog as it was.
  std::map<std::string, size_t, std::less<>> seen;
  for (size_t i = 0; i < patches.size(); ++i) {
    const Patch& p = patches[i];
    if (!seen.emplace(p.type, i).second) {
      return parser.Error(p.offset, p.type + " appears twice (first as instances[" +
                                        std::to_string(seen[p.type]) + "])");
    }
    if (!entries_.count(p.type) && (!p.vcpu || !p.memory_gib)) {
      return parser.Error(p.offset, p.type +
                                        " is not in the catalog: a new type needs \"vcpu\" and "
                                        "\"memory_gib\"");
    }
  }
  for (Patch& p : patches) {
    auto [it, added] = entries_.try_emplace(p.type);
    InstanceSpec& s = it->second.spec;
    if (added) {
      s.type = p.type;
      s.family = std::string(FamilyOf(p.type));
      s.size = std::string(SizeOf(p.type));
      s.category = DefaultCategory(s.family);
    }
    if (p.category) s.category = *p.category;
    if (p.vcpu) s.vcpu = *p.vcpu;
    if (p.memory_gib) s.memory_gib = *p.memory_gib;
    if (p.gpus) s.gpus = *p.gpus;
    if (p.gpu_memory_gib) s.gpu_memory_gib = *p.gpu_memory_gib;
    if (p.gpu_model) s.gpu_model = *p.gpu_model;
    if (p.accelerators) s.accelerators = *p.accelerators;
    if (p.accelerator_model) s.accelerator_model = *p.accelerator_model;
    if (p.spec_source) s.spec_source = *p.spec_source;
    for (auto& [region, price, src] : p.prices) {
      it->second.prices[region] = Price{price, std::move(src)};
    }
  }
  if (complete) {
    source_ = parser.source().empty() ? std::string(label) : parser.source();
    as_of_ = parser.as_of();
  } else {
    source_ += "; overridden by " + std::string(label);
  }
  return Status::Ok();
}

const InstanceSpec* Catalog::Find(std::string_view type) const {
  auto t = NormalizeType(type);
  if (!t) return nullptr;
  auto it = entries_.find(*t);
  return it == entries_.end() ? nullptr : &it->second.spec;
}

std::vector<const InstanceSpec*> Catalog::Family(std::string_view family) const {
  std::string f = StripMl(family);
  std::vector<const InstanceSpec*> out;
  // Types sort by name, so one family is a contiguous run from "ml.<f>.".
  std::string prefix = "ml." + f + ".";
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && StartsWith(it->first, prefix); ++it) {
    out.push_back(&it->second.spec);
  }
  std::sort(out.begin(), out.end(), SpecLess);
  return out;
}

const InstanceSpec* Catalog::NextSizeDown(std::string_view type) const {
  const InstanceSpec* self = Find(type);
  if (self == nullptr) return nullptr;
  const InstanceSpec* best = nullptr;
  for (const InstanceSpec* s : Family(self->family)) {
    if (std::tie(s->vcpu, s->memory_gib) < std::tie(self->vcpu, self->memory_gib)) best = s;
  }
  return best;
}

std::optional<PriceQuote> Catalog::OnDemandPrice(std::string_view type,
                                                 std::string_view region) const {
  auto t = NormalizeType(type);
  if (!t) return std::nullopt;
  auto it = entries_.find(*t);
  if (it == entries_.end()) return std::nullopt;
  const auto& prices = it->second.prices;
  std::string r = AsciiLower(region);
  auto p = prices.find(r);
  if (p == prices.end()) p = prices.find(kDefaultRegion);
  if (p == prices.end()) return std::nullopt;
  return PriceQuote{p->second.usd_per_hour, p->first, p->second.source};
}

bool Catalog::IsGpuFamily(std::string_view family) {
  std::string f = StripMl(family);
  return f.size() >= 2 && (f[0] == 'g' || f[0] == 'p') && f[1] >= '0' && f[1] <= '9';
}

std::vector<const InstanceSpec*> Catalog::All() const {
  std::vector<const InstanceSpec*> out;
  out.reserve(entries_.size());
  for (const auto& [type, e] : entries_) out.push_back(&e.spec);
  return out;
}

}  // namespace sagebox::catalog
