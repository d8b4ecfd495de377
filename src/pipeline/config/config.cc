// The YAML schema of docs/pipeline.md ("Config"), checked by hand over yaml-cpp's node
// tree so that every error carries the node's Mark() and its key path. yaml-cpp throws
// (syntax errors, bad conversions); everything here works on Scalar() text instead, and
// the one parse call is wrapped, so no exception leaves this file.
#include "pipeline/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <tuple>
#include <utility>

#include "core/utf8.h"

namespace sagebox::pipeline::config {

namespace {

struct Error {
  int line;
  int column;
  std::string text;
};

// Collects errors; each names the file, the node's position and the key path.
class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}

  void Fail(const YAML::Node& at, const std::string& path, const std::string& what) {
    const YAML::Mark m = at.Mark();
    Add(m.line, m.column, path, what);
  }
  void Add(int line0, int col0, const std::string& path, const std::string& what) {
    // yaml-cpp counts from 0; editors from 1. A node built without a position has -1.
    const int line = line0 < 0 ? 1 : line0 + 1;
    const int col = col0 < 0 ? 1 : col0 + 1;
    errors_.push_back({line, col,
                       file_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                           path + ": " + what});
  }
  bool ok() const { return errors_.empty(); }
  std::string Joined() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const Error& a, const Error& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    std::string out;
    for (const Error& e : errors_) {
      if (!out.empty()) out += "\n";
      out += e.text;
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<Error> errors_;
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string Child(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}
std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// A map's entries by key, after reporting unknown and repeated keys. yaml-cpp keeps
// repeated keys (a lookup finds the first), so they are refused here.
using Entries = std::map<std::string, YAML::Node>;

std::optional<Entries> MapEntries(Checker& c, const YAML::Node& n, const std::string& path,
                                  const std::vector<std::string>& allowed) {
  if (!n.IsMap()) {
    c.Fail(n, path.empty() ? "(top)" : path, "expected a map of keys (" + Join(allowed) + ")");
    return std::nullopt;
  }
  Entries out;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) {
      c.Fail(kv.first, path, "expected a plain key");
      continue;
    }
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      c.Fail(kv.first, Child(path, key), "unknown key (expected one of: " + Join(allowed) + ")");
      continue;
    }
    if (!out.emplace(key, kv.second).second) {
      c.Fail(kv.first, Child(path, key), "repeated key");
    }
  }
  return out;
}

const YAML::Node* Find(const Entries& e, const std::string& key) {
  auto it = e.find(key);
  return it == e.end() ? nullptr : &it->second;
}

std::optional<std::string> Scalar(Checker& c, const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) {
    c.Fail(n, path, "expected a single value");
    return std::nullopt;
  }
  return n.Scalar();
}

// A required string: missing is reported at the enclosing map.
std::string RequiredString(Checker& c, const YAML::Node& map, const Entries& e,
                           const std::string& path, const std::string& key) {
  const YAML::Node* n = Find(e, key);
  if (n == nullptr) {
    c.Fail(map, Child(path, key), "missing (required)");
    return "";
  }
  return Scalar(c, *n, Child(path, key)).value_or("");
}

void OptionalString(Checker& c, const Entries& e, const std::string& path, const std::string& key,
                    std::string* out) {
  if (const YAML::Node* n = Find(e, key)) {
    if (auto s = Scalar(c, *n, Child(path, key))) *out = *s;
  }
}

void OptionalInt(Checker& c, const Entries& e, const std::string& path, const std::string& key,
                 int lo, int hi, int* out) {
  const YAML::Node* n = Find(e, key);
  if (n == nullptr) return;
  const std::optional<std::string> s = Scalar(c, *n, Child(path, key));
  if (!s) return;
  const std::string& text = *s;
  const char* last = text.data() + text.size();
  int v = 0;
  const std::from_chars_result r = std::from_chars(text.data(), last, v);
  const bool good = r.ec == std::errc() && r.ptr == last && v >= lo && v <= hi;
  if (!good) {
    c.Fail(*n, Child(path, key),
           "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
               ", got '" + text + "'");
    return;
  }
  *out = v;
}

void OptionalBool(Checker& c, const Entries& e, const std::string& path, const std::string& key,
                  bool* out) {
  const YAML::Node* n = Find(e, key);
  if (n == nullptr) return;
  auto s = Scalar(c, *n, Child(path, key));
  if (!s) return;
  if (*s == "true") {
    *out = true;
  } else if (*s == "false") {
    *out = false;
  } else {
    c.Fail(*n, Child(path, key), "expected true or false, got '" + *s + "'");
  }
}

std::vector<std::string> StringList(Checker& c, const YAML::Node& n, const std::string& path,
                                    bool non_empty) {
  std::vector<std::string> out;
  if (!n.IsSequence()) {
    c.Fail(n, path, "expected a list");
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    if (auto s = Scalar(c, n[i], Index(path, i))) out.push_back(*s);
  }
  if (non_empty && n.size() == 0) c.Fail(n, path, "expected a non-empty list");
  return out;
}

// A map of names to single values, in YAML order; `check` validates each value.
template <typename Check>
Pairs StringMap(Checker& c, const YAML::Node& n, const std::string& path, Check check) {
  Pairs out;
  if (!n.IsMap()) {
    c.Fail(n, path, "expected a map of names to values");
    return out;
  }
  std::set<std::string> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) {
      c.Fail(kv.first, path, "expected a plain key");
      continue;
    }
    const std::string key = kv.first.Scalar();
    const std::string p = Child(path, key);
    if (!seen.insert(key).second) {
      c.Fail(kv.first, p, "repeated key");
      continue;
    }
    auto v = Scalar(c, kv.second, p);
    if (!v) continue;
    if (std::string why = check(key, *v); !why.empty()) {
      c.Fail(kv.second, p, why);
      continue;
    }
    out.emplace_back(key, *v);
  }
  return out;
}

// SageMaker's job-name pattern, ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$ (CreateTrainingJob,
// TrainingJobName), which names built from these pieces must match.
bool IsJobNamePiece(const std::string& s) {
  static const std::regex re("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$");
  return std::regex_match(s, re);
}

std::string CheckName(const std::string& s, size_t max_length) {
  if (!IsJobNamePiece(s)) {
    return "'" + s +
           "' is not a valid name (letters, digits and inner hyphens, as in "
           "SageMaker job names)";
  }
  if (s.size() > max_length) {
    return "'" + s + "' is " + std::to_string(s.size()) + " characters; at most " +
           std::to_string(max_length) + " fit in a job name";
  }
  return "";
}

// s3://bucket/key; the characters ' { } \ are refused because URIs are spliced into
// States.Format templates.
std::string CheckS3(const std::string& s) {
  static const std::regex re("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^'{}\\\\]*)?$");
  if (!std::regex_match(s, re)) {
    return "expected an S3 URI s3://bucket/prefix without ' { } \\, got '" + s + "'";
  }
  return "";
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string CheckInstanceType(const std::string& s) {
  static const std::regex re("^ml\\.[a-z0-9]+\\.[a-z0-9]+$");
  if (!std::regex_match(s, re)) {
    return "expected a SageMaker instance type like ml.m5.large, got '" + s + "'";
  }
  return "";
}

// Channel and input names become directory names and SM_CHANNEL_<NAME> variables.
std::string CheckChannelName(const std::string& s) {
  static const std::regex re("^[A-Za-z][A-Za-z0-9_]{0,63}$");
  if (!std::regex_match(s, re)) {
    return "'" + s + "' is not a valid channel name (a letter, then letters, digits, _)";
  }
  return "";
}

// Hyperparameter names: no `$` (a key ending in `.$` means a path in ASL Parameters).
std::string CheckHyperparameterName(const std::string& s) {
  static const std::regex re("^[A-Za-z_][A-Za-z0-9_.-]{0,255}$");
  if (!std::regex_match(s, re)) {
    return "'" + s + "' is not a valid hyperparameter name (letters, digits, _ . -)";
  }
  return "";
}

const std::vector<std::string>& Reserved() {
  static const std::vector<std::string> keys = {"algorithm", "cv_folds", "cv_scoring", "cv_seed",
                                                "metric_name"};
  return keys;
}
bool IsReserved(const std::string& k) {
  return std::find(Reserved().begin(), Reserved().end(), k) != Reserved().end();
}

void ParseResources(Checker& c, const YAML::Node& map, const Entries& e, const std::string& path,
                    Resources* r) {
  if (const YAML::Node* n = Find(e, "instance_type")) {
    if (auto s = Scalar(c, *n, Child(path, "instance_type"))) {
      if (std::string why = CheckInstanceType(*s); !why.empty()) {
        c.Fail(*n, Child(path, "instance_type"), why);
      } else {
        r->instance_type = *s;
      }
    }
  }
  OptionalInt(c, e, path, "instance_count", 1, 100, &r->instance_count);
  OptionalInt(c, e, path, "volume_size_gb", 1, 16384, &r->volume_size_gb);
  // SageMaker's MaxRuntimeInSeconds upper bound for training is 28 days.
  OptionalInt(c, e, path, "max_runtime_seconds", 1, 2419200, &r->max_runtime_seconds);
  (void)map;
}

const std::vector<std::string>& ResourceKeys() {
  static const std::vector<std::string> keys = {"instance_type", "instance_count", "volume_size_gb",
                                                "max_runtime_seconds"};
  return keys;
}

std::vector<std::string> With(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void ParseRetry(Checker& c, const YAML::Node& n, const std::string& path, RetryPolicy* r) {
  auto e = MapEntries(
      c, n, path,
      {"max_attempts", "interval_seconds", "backoff_rate", "max_delay_seconds", "jitter"});
  if (!e) return;
  // Two digits at most: the retry count is part of every job name.
  OptionalInt(c, *e, path, "max_attempts", 0, 99, &r->max_attempts);
  OptionalInt(c, *e, path, "interval_seconds", 1, 99999999, &r->interval_seconds);
  OptionalInt(c, *e, path, "max_delay_seconds", 1, 31622400, &r->max_delay_seconds);
  OptionalBool(c, *e, path, "jitter", &r->jitter);
  if (const YAML::Node* b = Find(*e, "backoff_rate")) {
    if (auto s = Scalar(c, *b, Child(path, "backoff_rate"))) {
      Decimal d;
      // ASL: BackoffRate is a number >= 1.0.
      if (!Decimal::Parse(*s, &d) || d < Decimal::FromInt(1) || d > Decimal::FromInt(1000)) {
        c.Fail(*b, Child(path, "backoff_rate"),
               "expected a number from 1.0 to 1000, got '" + *s + "'");
      } else {
        r->backoff_rate = d.ToString();  // canonical, a valid JSON number
      }
    }
  }
}

void ParseProcessing(Checker& c, const YAML::Node& n, const std::string& path,
                     const Resources& defaults, ProcessingJob* job) {
  job->present = true;
  job->resources = defaults;
  auto e = MapEntries(
      c, n, path,
      With({"command", "arguments", "inputs", "outputs", "environment"}, ResourceKeys()));
  if (!e) return;
  if (const YAML::Node* cmd = Find(*e, "command")) {
    job->command = StringList(c, *cmd, Child(path, "command"), true);
  } else {
    c.Fail(n, Child(path, "command"), "missing (required)");
  }
  if (const YAML::Node* a = Find(*e, "arguments")) {
    job->arguments = StringList(c, *a, Child(path, "arguments"), false);
  }
  ParseResources(c, n, *e, path, &job->resources);
  auto name_and_s3 = [](const std::string& k, const std::string& v) {
    std::string why = CheckChannelName(k);
    return why.empty() ? CheckS3(v) : why;
  };
  if (const YAML::Node* i = Find(*e, "inputs")) {
    job->inputs = StringMap(c, *i, Child(path, "inputs"), name_and_s3);
    if (job->inputs.size() > 9) c.Fail(*i, Child(path, "inputs"), "at most 9 inputs");
  }
  if (const YAML::Node* o = Find(*e, "outputs")) {
    job->outputs = StringMap(c, *o, Child(path, "outputs"), name_and_s3);
    if (job->outputs.size() > 10) c.Fail(*o, Child(path, "outputs"), "at most 10 outputs");
  }
  if (const YAML::Node* env = Find(*e, "environment")) {
    job->environment = StringMap(c, *env, Child(path, "environment"),
                                 [](const std::string& k, const std::string&) -> std::string {
                                   static const std::regex re("^[a-zA-Z_][a-zA-Z0-9_]{0,255}$");
                                   if (!std::regex_match(k, re)) {
                                     return "'" + k + "' is not an environment variable name";
                                   }
                                   if (k.rfind("SAGEBOX_", 0) == 0) {
                                     return "SAGEBOX_ variables are set by the compiler";
                                   }
                                   return "";
                                 });
  }
  for (auto& p : job->inputs) p.second = TrimSlash(p.second);
  for (auto& p : job->outputs) p.second = TrimSlash(p.second);
}

void ParseAlgorithm(Checker& c, const YAML::Node& n, const std::string& path,
                    const Resources& defaults, Algorithm* a) {
  a->resources = defaults;
  auto e = MapEntries(
      c, n, path, With({"name", "command", "arguments", "grid", "combinations"}, ResourceKeys()));
  if (!e) return;
  a->name = RequiredString(c, n, *e, path, "name");
  if (!a->name.empty()) {
    if (std::string why = CheckName(a->name, kMaxNameLength); !why.empty()) {
      c.Fail(*Find(*e, "name"), Child(path, "name"), why);
    }
  }
  if (const YAML::Node* cmd = Find(*e, "command")) {
    a->command = StringList(c, *cmd, Child(path, "command"), true);
  } else {
    c.Fail(n, Child(path, "command"), "missing (required)");
  }
  if (const YAML::Node* args = Find(*e, "arguments")) {
    a->arguments = StringList(c, *args, Child(path, "arguments"), false);
  }
  ParseResources(c, n, *e, path, &a->resources);
  const YAML::Node* grid = Find(*e, "grid");
  const YAML::Node* combos = Find(*e, "combinations");
  if (grid != nullptr && combos != nullptr) {
    c.Fail(*combos, Child(path, "combinations"), "give either grid or combinations, not both");
    return;
  }
  auto check_key = [&](const YAML::Node& key_node, const std::string& p, const std::string& k) {
    if (std::string why = CheckHyperparameterName(k); !why.empty()) {
      c.Fail(key_node, p, why);
      return false;
    }
    if (IsReserved(k)) {
      c.Fail(key_node, p, "'" + k + "' is set by sagebox (reserved: " + Join(Reserved()) + ")");
      return false;
    }
    return true;
  };
  if (grid != nullptr) {
    const std::string gp = Child(path, "grid");
    if (!grid->IsMap()) {
      c.Fail(*grid, gp, "expected a map of hyperparameter names to lists of values");
      return;
    }
    std::set<std::string> seen;
    for (const auto& kv : *grid) {
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
      const std::string p = Child(gp, k);
      if (!check_key(kv.first, p, k)) continue;
      if (!seen.insert(k).second) {
        c.Fail(kv.first, p, "repeated key");
        continue;
      }
      std::vector<std::string> values;
      if (kv.second.IsScalar()) {
        values.push_back(kv.second.Scalar());  // a fixed value: a list of one
      } else {
        values = StringList(c, kv.second, p, true);
        std::set<std::string> distinct(values.begin(), values.end());
        if (distinct.size() != values.size()) {
          c.Fail(kv.second, p, "repeated value (each candidate must differ)");
        }
      }
      if (!values.empty()) a->grid.emplace_back(k, std::move(values));
    }
  }
  if (combos != nullptr) {
    const std::string cp = Child(path, "combinations");
    if (!combos->IsSequence() || combos->size() == 0) {
      c.Fail(*combos, cp, "expected a non-empty list of maps of hyperparameters");
      return;
    }
    std::set<Combination> seen;
    for (size_t i = 0; i < combos->size(); ++i) {
      const YAML::Node item = (*combos)[i];
      const std::string ip = Index(cp, i);
      if (!item.IsMap()) {
        c.Fail(item, ip, "expected a map of hyperparameter names to values");
        continue;
      }
      Combination combo;
      bool good = true;
      std::set<std::string> keys;
      for (const auto& kv : item) {
        const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
        const std::string p = Child(ip, k);
        if (!check_key(kv.first, p, k)) {
          good = false;
          continue;
        }
        if (!keys.insert(k).second) {
          c.Fail(kv.first, p, "repeated key");
          good = false;
          continue;
        }
        auto v = Scalar(c, kv.second, p);
        if (!v) {
          good = false;
          continue;
        }
        combo.emplace_back(k, *v);
      }
      if (!good) continue;
      Combination sorted = combo;
      std::sort(sorted.begin(), sorted.end());
      if (!seen.insert(sorted).second) {
        c.Fail(item, ip, "the same combination is listed twice");
        continue;
      }
      a->combinations.push_back(std::move(combo));
    }
  }
}

size_t GridSize(const Algorithm& a) {
  if (!a.combinations.empty()) return a.combinations.size();
  size_t n = 1;
  for (const auto& g : a.grid) {
    n *= g.second.size();
    if (n > kMaxCandidatesPerStage) return n;  // stop before it can overflow
  }
  return n;
}

std::string Substitute(std::string text, const std::string& pipeline, const std::string& stage) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"{pipeline}", pipeline},
                                 std::pair<std::string, std::string>{"{stage}", stage}}) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
      text.replace(at, from.size(), to);
      at += to.size();
    }
  }
  return text;
}

const std::vector<std::string>& TopKeys() {
  static const std::vector<std::string> keys = {
      "pipeline", "region",   "role_arn",  "image",      "data",   "defaults",
      "features", "training", "stages",    "algorithms", "metric", "cross_validation",
      "registry", "predict",  "analytics", "limits"};
  return keys;
}

Config Parse(Checker& c, const YAML::Node& root) {
  Config cfg;
  auto top = MapEntries(c, root, "", TopKeys());
  if (!top) return cfg;

  cfg.pipeline = RequiredString(c, root, *top, "", "pipeline");
  if (!cfg.pipeline.empty()) {
    if (std::string why = CheckName(cfg.pipeline, kMaxNameLength); !why.empty()) {
      c.Fail(*Find(*top, "pipeline"), "pipeline", why);
    }
  }
  OptionalString(c, *top, "", "region", &cfg.region);
  if (const YAML::Node* r = Find(*top, "region")) {
    static const std::regex re("^[a-z]{2}(-[a-z]+)+-[0-9]+$");
    if (r->IsScalar() && !std::regex_match(cfg.region, re)) {
      c.Fail(*r, "region", "expected an AWS region like us-east-1, got '" + cfg.region + "'");
    }
  }
  OptionalString(c, *top, "", "role_arn", &cfg.role_arn);
  if (const YAML::Node* r = Find(*top, "role_arn")) {
    static const std::regex re("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$");
    if (r->IsScalar() && !std::regex_match(cfg.role_arn, re)) {
      c.Fail(*r, "role_arn", "expected an IAM role ARN arn:aws:iam::<12 digits>:role/<name>");
    }
  }
  OptionalString(c, *top, "", "image", &cfg.image);

  // data
  if (const YAML::Node* d = Find(*top, "data")) {
    if (auto e = MapEntries(c, *d, "data", {"root", "inputs"})) {
      std::string data_root = RequiredString(c, *d, *e, "data", "root");
      if (!data_root.empty()) {
        if (std::string why = CheckS3(data_root); !why.empty()) {
          c.Fail(*Find(*e, "root"), "data.root", why);
        }
        cfg.data_root = TrimSlash(data_root);
      }
      if (const YAML::Node* in = Find(*e, "inputs")) {
        cfg.data_inputs =
            StringMap(c, *in, "data.inputs", [](const std::string& k, const std::string& v) {
              std::string why = CheckChannelName(k);
              return why.empty() ? CheckS3(v) : why;
            });
        for (auto& p : cfg.data_inputs) p.second = TrimSlash(p.second);
      }
    }
  } else {
    c.Fail(root, "data", "missing (required)");
  }

  // defaults
  if (const YAML::Node* d = Find(*top, "defaults")) {
    if (auto e = MapEntries(c, *d, "defaults", With({"retry"}, ResourceKeys()))) {
      ParseResources(c, *d, *e, "defaults", &cfg.defaults);
      if (const YAML::Node* r = Find(*e, "retry")) ParseRetry(c, *r, "defaults.retry", &cfg.retry);
    }
  }

  if (const YAML::Node* f = Find(*top, "features")) {
    ParseProcessing(c, *f, "features", cfg.defaults, &cfg.features);
    if (cfg.features.inputs.empty()) cfg.features.inputs = cfg.data_inputs;
    if (cfg.features.outputs.empty() && !cfg.data_root.empty()) {
      cfg.features.outputs = {{"features", cfg.data_root + "/features"}};
    }
  }

  // training channels
  if (const YAML::Node* t = Find(*top, "training")) {
    if (auto e = MapEntries(c, *t, "training", {"channels"})) {
      if (const YAML::Node* ch = Find(*e, "channels")) {
        cfg.channels =
            StringMap(c, *ch, "training.channels", [](const std::string& k, const std::string& v) {
              std::string why = CheckChannelName(k);
              return why.empty() ? CheckS3(v) : why;
            });
        if (cfg.channels.empty() && ch->IsMap()) {
          c.Fail(*ch, "training.channels", "expected at least one channel");
        }
        for (auto& p : cfg.channels) p.second = TrimSlash(p.second);
      }
    }
  }
  if (cfg.channels.empty() && !cfg.data_root.empty()) {
    cfg.channels = {{"train", cfg.data_root + "/features"}};
  }

  // algorithms (before stages: stages name them)
  std::map<std::string, size_t> algorithm_index;
  if (const YAML::Node* as = Find(*top, "algorithms")) {
    if (!as->IsSequence() || as->size() == 0) {
      c.Fail(*as, "algorithms", "expected a non-empty list of algorithms");
    } else {
      for (size_t i = 0; i < as->size(); ++i) {
        Algorithm a;
        const YAML::Node item = (*as)[i];
        ParseAlgorithm(c, item, Index("algorithms", i), cfg.defaults, &a);
        if (!a.name.empty() && !algorithm_index.emplace(a.name, cfg.algorithms.size()).second) {
          c.Fail(item, Index("algorithms", i) + ".name",
                 "'" + a.name + "' is already the name of another algorithm");
        }
        cfg.algorithms.push_back(std::move(a));
      }
    }
  } else {
    c.Fail(root, "algorithms", "missing (required)");
  }

  // metric
  if (const YAML::Node* m = Find(*top, "metric")) {
    if (auto e = MapEntries(c, *m, "metric", {"name", "regex", "direction"})) {
      cfg.metric_name = RequiredString(c, *m, *e, "metric", "name");
      if (!cfg.metric_name.empty() &&
          !std::regex_match(cfg.metric_name, std::regex("^[A-Za-z_][A-Za-z0-9_.:-]{0,254}$"))) {
        c.Fail(*Find(*e, "name"), "metric.name",
               "'" + cfg.metric_name + "' is not a valid metric name (letters, digits, _ . : -)");
      }
      cfg.metric_regex = RequiredString(c, *m, *e, "metric", "regex");
      if (const YAML::Node* rn = Find(*e, "regex"); rn != nullptr && !cfg.metric_regex.empty()) {
        // SageMaker reads the first capture group as the value (MetricDefinition.Regex,
        // at most 500 characters).
        try {
          std::regex re(cfg.metric_regex);
          if (re.mark_count() < 1) {
            c.Fail(*rn, "metric.regex", "expected a capture group ( ) around the value");
          }
        } catch (const std::regex_error& err) {
          c.Fail(*rn, "metric.regex", std::string("not a valid regular expression: ") + err.what());
        }
        if (cfg.metric_regex.size() > 500) c.Fail(*rn, "metric.regex", "at most 500 characters");
      }
      std::string direction = RequiredString(c, *m, *e, "metric", "direction");
      if (direction == "maximize" || direction == "minimize") {
        cfg.maximize = direction == "maximize";
      } else if (!direction.empty()) {
        c.Fail(*Find(*e, "direction"), "metric.direction",
               "expected maximize or minimize, got '" + direction + "'");
      }
    }
  } else {
    c.Fail(root, "metric", "missing (required)");
  }

  if (const YAML::Node* cv = Find(*top, "cross_validation")) {
    if (auto e = MapEntries(c, *cv, "cross_validation", {"folds", "seed", "scoring"})) {
      cfg.has_cross_validation = true;
      OptionalInt(c, *e, "cross_validation", "folds", 2, 100, &cfg.cv_folds);
      OptionalInt(c, *e, "cross_validation", "seed", 0, 2147483647, &cfg.cv_seed);
      OptionalString(c, *e, "cross_validation", "scoring", &cfg.cv_scoring);
    }
  }

  std::string model_template = "{pipeline}-{stage}";
  if (const YAML::Node* r = Find(*top, "registry")) {
    if (auto e = MapEntries(c, *r, "registry", {"model_name", "alias"})) {
      OptionalString(c, *e, "registry", "model_name", &model_template);
      OptionalString(c, *e, "registry", "alias", &cfg.registry_alias);
      if (Find(*e, "alias") != nullptr && !IsJobNamePiece(cfg.registry_alias)) {
        c.Fail(*Find(*e, "alias"), "registry.alias",
               "'" + cfg.registry_alias + "' is not a valid alias (letters, digits, hyphens)");
      }
    }
  }

  // stages
  if (const YAML::Node* ss = Find(*top, "stages")) {
    if (!ss->IsSequence() || ss->size() == 0) {
      c.Fail(*ss, "stages", "expected a non-empty list of stages");
    } else {
      std::set<std::string> names;
      for (size_t i = 0; i < ss->size(); ++i) {
        const YAML::Node item = (*ss)[i];
        const std::string sp = Index("stages", i);
        auto e = MapEntries(c, item, sp, {"name", "inputs", "values", "algorithms"});
        if (!e) continue;
        Stage st;
        st.name = RequiredString(c, item, *e, sp, "name");
        if (!st.name.empty()) {
          if (std::string why = CheckName(st.name, kMaxNameLength); !why.empty()) {
            c.Fail(*Find(*e, "name"), sp + ".name", why);
          } else if (!names.insert(st.name).second) {
            c.Fail(*Find(*e, "name"), sp + ".name",
                   "'" + st.name + "' is already the name of another stage");
          }
        }
        if (const YAML::Node* in = Find(*e, "inputs")) {
          st.inputs =
              StringMap(c, *in, sp + ".inputs", [&cfg](const std::string& k, const std::string& v) {
                bool known = std::any_of(cfg.channels.begin(), cfg.channels.end(),
                                         [&](const auto& p) { return p.first == k; });
                if (!known) return "'" + k + "' is not a training channel";
                return CheckS3(v);
              });
          for (auto& p : st.inputs) p.second = TrimSlash(p.second);
        }
        if (const YAML::Node* vals = Find(*e, "values")) {
          st.values = StringMap(c, *vals, sp + ".values",
                                [](const std::string& k, const std::string&) -> std::string {
                                  if (std::string why = CheckHyperparameterName(k); !why.empty()) {
                                    return why;
                                  }
                                  if (IsReserved(k)) return "'" + k + "' is set by sagebox";
                                  return "";
                                });
        }
        if (const YAML::Node* al = Find(*e, "algorithms")) {
          const std::string ap = sp + ".algorithms";
          st.algorithms = StringList(c, *al, ap, true);
          for (size_t j = 0; j < st.algorithms.size(); ++j) {
            if (algorithm_index.count(st.algorithms[j]) == 0) {
              c.Fail((*al)[j], Index(ap, j),
                     "'" + st.algorithms[j] + "' is not one of the algorithms");
            }
          }
        }
        st.model_name = Substitute(model_template, cfg.pipeline, st.name);
        // Only when the names it is built from are valid (else that is the error).
        const bool names_ok = IsJobNamePiece(st.name) && IsJobNamePiece(cfg.pipeline);
        if (!names_ok) {
          // reported at the stage or pipeline name
        } else if (!IsJobNamePiece(st.model_name)) {
          c.Fail(item, sp,
                 "model name '" + st.model_name + "' (registry.model_name) is not a valid name");
        } else if (st.model_name.size() > 63) {
          c.Fail(item, sp, "model name '" + st.model_name + "' is longer than 63 characters");
        }
        // Cross-checks with the algorithms: grid keys against stage values, job-name
        // length, expansion size.
        std::vector<size_t> used;
        if (st.algorithms.empty()) {
          for (size_t a = 0; a < cfg.algorithms.size(); ++a) used.push_back(a);
        } else {
          for (const auto& n : st.algorithms) {
            if (auto it = algorithm_index.find(n); it != algorithm_index.end()) {
              used.push_back(it->second);
            }
          }
        }
        size_t total = 0;
        for (size_t a : used) {
          const Algorithm& alg = cfg.algorithms[a];
          const size_t n = GridSize(alg);
          total += n;
          const std::string longest_id = alg.name + "-" + std::to_string(n == 0 ? 0 : n - 1);
          if (!st.name.empty() && !alg.name.empty() &&
              st.name.size() + 1 + longest_id.size() > kMaxStagePlusCandidate) {
            c.Fail(item, sp + ".name",
                   "stage '" + st.name + "' with candidate '" + longest_id + "' is " +
                       std::to_string(st.name.size() + 1 + longest_id.size()) +
                       " characters; at most " + std::to_string(kMaxStagePlusCandidate) +
                       " fit in a training job name (shorten the stage or algorithm name)");
          }
          for (const auto& value : st.values) {
            const std::string& k = value.first;
            const bool clash =
                std::any_of(alg.grid.begin(), alg.grid.end(),
                            [&](const auto& g) { return g.first == k; }) ||
                std::any_of(alg.combinations.begin(), alg.combinations.end(),
                            [&](const Combination& cb) {
                              return std::any_of(cb.begin(), cb.end(),
                                                 [&](const auto& p) { return p.first == k; });
                            });
            if (clash) {
              std::string p = sp;
              p += ".values.";
              p += k;
              c.Fail((*Find(*e, "values"))[k], p,
                     "also a hyperparameter of algorithm '" + alg.name + "'");
            }
          }
        }
        if (total > kMaxCandidatesPerStage) {
          c.Fail(item, sp,
                 "expands to " + std::to_string(total) + " candidates; at most " +
                     std::to_string(kMaxCandidatesPerStage));
        }
        cfg.stages.push_back(std::move(st));
      }
    }
  } else {
    c.Fail(root, "stages", "missing (required)");
  }

  if (const YAML::Node* p = Find(*top, "predict")) {
    ParseProcessing(c, *p, "predict", cfg.defaults, &cfg.predict);
  }
  if (const YAML::Node* a = Find(*top, "analytics")) {
    ParseProcessing(c, *a, "analytics", cfg.defaults, &cfg.analytics);
  }

  if (const YAML::Node* l = Find(*top, "limits")) {
    if (auto e = MapEntries(
            c, *l, "limits",
            {"stage_max_concurrency", "candidate_max_concurrency", "tolerated_failure_percentage",
             "max_cost_usd", "pipeline_timeout_seconds"})) {
      OptionalInt(c, *e, "limits", "stage_max_concurrency", 0, 40, &cfg.stage_max_concurrency);
      OptionalInt(c, *e, "limits", "candidate_max_concurrency", 0, 10000,
                  &cfg.candidate_max_concurrency);
      OptionalInt(c, *e, "limits", "tolerated_failure_percentage", 0, 100,
                  &cfg.tolerated_failure_percentage);
      OptionalInt(c, *e, "limits", "pipeline_timeout_seconds", 1, 31536000,
                  &cfg.pipeline_timeout_seconds);
      if (const YAML::Node* m = Find(*e, "max_cost_usd")) {
        if (auto s = Scalar(c, *m, "limits.max_cost_usd")) {
          Decimal d;
          if (!Decimal::Parse(*s, &d) || d < Decimal()) {
            c.Fail(*m, "limits.max_cost_usd",
                   "expected an amount in USD like 12.50, got '" + *s + "'");
          } else {
            cfg.has_max_cost = true;
            cfg.max_cost_usd = d;
          }
        }
      }
    }
  }
  return cfg;
}

}  // namespace

StatusOr<Config> ParseConfig(std::string_view yaml, const std::string& file) {
  Checker c(file);
  // YAML is Unicode text, but yaml-cpp passes stray bytes through, and the compiled ASL
  // (JSON) cannot hold them: found by pipeline_config_fuzz.
  if (auto bad = FindInvalidUtf8(yaml)) {
    const std::string_view before = yaml.substr(0, *bad);
    const auto line = std::count(before.begin(), before.end(), '\n');
    const auto nl = before.rfind('\n');
    const size_t col = nl == std::string_view::npos ? *bad : *bad - nl - 1;
    c.Add(static_cast<int>(line), static_cast<int>(col), "(encoding)",
          "not valid UTF-8 (a YAML config is UTF-8 text)");
    return BadInput(c.Joined());
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    c.Add(e.mark.line, e.mark.column, "(syntax)", e.msg);
    return BadInput(c.Joined());
  }
  if (!root.IsDefined() || root.IsNull()) {
    return BadInput(file + ":1:1: (top): the file is empty (expected a pipeline config)");
  }
  Config cfg;
  try {
    cfg = Parse(c, root);
  } catch (const std::exception& e) {
    // yaml-cpp throws on misuse (a bad conversion or an invalid node); Parse only reads
    // Scalar() text, so this is a bug, reported with the file rather than crashing.
    return Internal(file + ": while checking the config: " + e.what());
  }
  if (!c.ok()) return BadInput(c.Joined());
  cfg.file = file;
  return cfg;
}

StatusOr<Config> LoadConfig(const std::string& path, Env* env) {
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  return ParseConfig(text, path);
}

std::vector<Candidate> ExpandCandidates(const Config& config, const Stage& stage) {
  std::vector<Candidate> out;
  auto finish = [&](size_t a, size_t index, const Combination& point) {
    const Algorithm& alg = config.algorithms[a];
    Candidate cand;
    cand.id = alg.name + "-" + std::to_string(index);
    cand.algorithm = a;
    std::map<std::string, std::string> hp(stage.values.begin(), stage.values.end());
    for (const auto& [k, v] : point) hp[k] = v;
    hp["algorithm"] = alg.name;
    hp["metric_name"] = config.metric_name;
    if (config.has_cross_validation) {
      hp["cv_folds"] = std::to_string(config.cv_folds);
      hp["cv_seed"] = std::to_string(config.cv_seed);
      if (!config.cv_scoring.empty()) hp["cv_scoring"] = config.cv_scoring;
    }
    cand.hyperparameters.assign(hp.begin(), hp.end());
    out.push_back(std::move(cand));
  };
  for (size_t a = 0; a < config.algorithms.size(); ++a) {
    const Algorithm& alg = config.algorithms[a];
    if (!stage.algorithms.empty() && std::find(stage.algorithms.begin(), stage.algorithms.end(),
                                               alg.name) == stage.algorithms.end()) {
      continue;
    }
    if (!alg.combinations.empty()) {
      for (size_t i = 0; i < alg.combinations.size(); ++i) finish(a, i, alg.combinations[i]);
      continue;
    }
    // The cartesian product in mixed radix: the last key turns fastest.
    const size_t total = GridSize(alg);
    for (size_t index = 0; index < total; ++index) {
      Combination point(alg.grid.size());
      size_t rest = index;
      for (size_t k = alg.grid.size(); k > 0; --k) {
        const auto& [name, values] = alg.grid[k - 1];
        point[k - 1] = {name, values[rest % values.size()]};
        rest /= values.size();
      }
      finish(a, index, point);
    }
  }
  return out;
}

}  // namespace sagebox::pipeline::config
