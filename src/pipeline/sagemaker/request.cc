// request.cc: CreateProcessingJob / CreateTrainingJob validation (request.h).
#include "pipeline/sagemaker/request.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <regex>

namespace sagebox::pipeline::sagemaker {

namespace {

using nlohmann::json;

// AWS names members in lowerCamel in its messages: "ProcessingJobName" → "processingJobName".
std::string Camel(std::string_view key) {
  std::string s(key);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? Camel(key) : path + "." + Camel(key);
}

// Collects every violation, the way AWS lists them all in one ValidationException.
class Checker {
 public:
  void Add(const std::string& value, const std::string& path, const std::string& constraint) {
    errors_.push_back("Value " + value + " at '" + path +
                      "' failed to satisfy constraint: " + constraint);
  }
  void Null(const std::string& path) { Add("null", path, "Member must not be null"); }

  // The object member `key` of `parent`; nullptr when absent (recorded if required).
  const json* Object(const json& parent, std::string_view key, const std::string& path,
                     bool required) {
    const json* v = Member(parent, key, path, required);
    if (v != nullptr && !v->is_object()) {
      Add(Show(*v), Join(path, key), "Member must be a structure");
      return nullptr;
    }
    return v;
  }
  const json* Array(const json& parent, std::string_view key, const std::string& path,
                    bool required, size_t min, size_t max) {
    const json* v = Member(parent, key, path, required);
    if (v == nullptr) return nullptr;
    if (!v->is_array()) {
      Add(Show(*v), Join(path, key), "Member must be a list");
      return nullptr;
    }
    if (v->size() < min || v->size() > max) {
      Add(Show(*v), Join(path, key),
          "Member must have length between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
  }
  std::optional<std::string> String(const json& parent, std::string_view key,
                                    const std::string& path, bool required, size_t min = 0,
                                    size_t max = 1 << 20) {
    const json* v = Member(parent, key, path, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      Add(Show(*v), Join(path, key), "Member must be a string");
      return std::nullopt;
    }
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() < min) {
      Add(Show(*v), Join(path, key),
          "Member must have length greater than or equal to " + std::to_string(min));
    } else if (s.size() > max) {
      Add(Show(*v), Join(path, key),
          "Member must have length less than or equal to " + std::to_string(max));
    }
    return s;
  }
  std::optional<int64_t> Int(const json& parent, std::string_view key, const std::string& path,
                             bool required, int64_t min, int64_t max) {
    const json* v = Member(parent, key, path, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer()) {
      Add(Show(*v), Join(path, key), "Member must be an integer");
      return std::nullopt;
    }
    const auto n = v->get<int64_t>();
    if (n < min) {
      Add(Show(*v), Join(path, key),
          "Member must have value greater than or equal to " + std::to_string(min));
    } else if (n > max) {
      Add(Show(*v), Join(path, key),
          "Member must have value less than or equal to " + std::to_string(max));
    }
    return n;
  }
  std::optional<std::string> Enum(const json& parent, std::string_view key, const std::string& path,
                                  bool required, std::initializer_list<std::string_view> values) {
    auto s = String(parent, key, path, required);
    if (!s) return std::nullopt;
    if (std::find(values.begin(), values.end(), *s) == values.end()) {
      std::string set;
      for (auto v : values) set += (set.empty() ? "" : ", ") + std::string(v);
      Add("'" + *s + "'", Join(path, key), "Member must satisfy enum value set: [" + set + "]");
      return std::nullopt;
    }
    return s;
  }
  void Pattern(const std::optional<std::string>& s, const std::string& member_path,
               const std::string& pattern) {
    if (!s) return;
    if (!std::regex_search(*s, std::regex(pattern))) {
      Add("'" + *s + "'", member_path,
          "Member must satisfy regular expression pattern: " + pattern);
    }
  }
  // A list of strings, each within [min, max] characters.
  std::vector<std::string> Strings(const json& parent, std::string_view key,
                                   const std::string& path, size_t min_items, size_t max_items,
                                   size_t max_len) {
    std::vector<std::string> out;
    const json* a = Array(parent, key, path, false, min_items, max_items);
    if (a == nullptr) return out;
    for (const auto& e : *a) {
      if (!e.is_string() || e.get_ref<const std::string&>().size() > max_len) {
        Add(Show(e), Join(path, key),
            "Member must be a list of strings of at most " + std::to_string(max_len) +
                " characters");
        continue;
      }
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  // A map of string to string (Environment, HyperParameters).
  std::map<std::string, std::string> StringMap(const json& parent, std::string_view key,
                                               const std::string& path, size_t max_items,
                                               size_t max_key, size_t max_value,
                                               const char* key_pattern) {
    std::map<std::string, std::string> out;
    const json* m = Member(parent, key, path, false);
    if (m == nullptr) return out;
    if (!m->is_object()) {
      Add(Show(*m), Join(path, key), "Member must be a map");
      return out;
    }
    if (m->size() > max_items) {
      Add("of " + std::to_string(m->size()) + " entries", Join(path, key),
          "Map must have at most " + std::to_string(max_items) + " entries");
    }
    for (const auto& [k, v] : m->items()) {
      if (k.size() > max_key ||
          (key_pattern != nullptr && !std::regex_match(k, std::regex(key_pattern)))) {
        Add("'" + k + "'", Join(path, key) + ".key",
            "Map keys must be at most " + std::to_string(max_key) + " characters" +
                (key_pattern != nullptr ? std::string(" and match ") + key_pattern : ""));
      }
      if (!v.is_string()) {
        Add(Show(v), Join(path, key) + "." + k, "Map values must be strings");
        continue;
      }
      if (v.get_ref<const std::string&>().size() > max_value) {
        Add("of length " + std::to_string(v.get_ref<const std::string&>().size()),
            Join(path, key) + "." + k,
            "Member must have length less than or equal to " + std::to_string(max_value));
      }
      out[k] = v.get<std::string>();
    }
    return out;
  }

  Status Result() const {
    if (errors_.empty()) return Status::Ok();
    std::string msg = std::to_string(errors_.size()) + " validation error" +
                      (errors_.size() == 1 ? "" : "s") + " detected: ";
    for (size_t i = 0; i < errors_.size(); ++i) msg += (i > 0 ? "; " : "") + errors_[i];
    return InvalidArgument(msg);
  }
  bool ok() const { return errors_.empty(); }

 private:
  const json* Member(const json& parent, std::string_view key, const std::string& path,
                     bool required) {
    auto it = parent.find(std::string(key));
    if (it == parent.end() || it->is_null()) {
      if (required) Null(Join(path, key));
      return nullptr;
    }
    return &*it;
  }
  static std::string Show(const json& v) {
    std::string s = v.is_string() ? "'" + v.get<std::string>() + "'" : v.dump();
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return s;
  }

  std::vector<std::string> errors_;
};

constexpr const char* kNamePattern = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}";
constexpr const char* kRolePattern =
    "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$";
constexpr const char* kS3UriPattern = "^(https|s3)://([^/]+)/?(.*)$|^file:///|^/";
constexpr const char* kEnvKeyPattern = "[a-zA-Z_][a-zA-Z0-9_]*";
constexpr const char* kProcessingRoot = "/opt/ml/processing/";

// LocalPath must sit under /opt/ml/processing/ (AWS refuses others); returns it relative to
// /opt/ml/ or nullopt after recording the error.
std::optional<std::string> ProcessingLocalPath(Checker& c, const std::optional<std::string>& p,
                                               const std::string& path) {
  if (!p) return std::nullopt;
  std::string rel = *p;
  while (rel.size() > 1 && rel.back() == '/') rel.pop_back();
  if (rel.rfind(kProcessingRoot, 0) != 0 || rel.size() <= std::string(kProcessingRoot).size() ||
      rel.find("/../") != std::string::npos || rel.ends_with("/..")) {
    c.Add("'" + *p + "'", path, "Member must be a path under /opt/ml/processing/");
    return std::nullopt;
  }
  return rel.substr(std::string("/opt/ml/").size());
}

void CommonTop(Checker& c, const json& r, const char* name_key, JobRequest* out) {
  auto name = c.String(r, name_key, "", true, 1, 63);
  // AWS matches the whole name against the pattern (Java's matches()).
  if (name && !name->empty() && name->size() <= 63 && !ValidJobName(*name)) {
    c.Add("'" + *name + "'", Camel(name_key),
          std::string("Member must satisfy regular expression pattern: ") + kNamePattern);
  }
  if (name) out->name = *name;
  auto role = c.String(r, "RoleArn", "", true, 20, 2048);
  c.Pattern(role, "roleArn", kRolePattern);
  auto env = c.StringMap(r, "Environment", "", 100, 256, 256, kEnvKeyPattern);
  out->environment.assign(env.begin(), env.end());
  if (const json* tags = c.Array(r, "Tags", "", false, 0, 50); tags != nullptr) {
    for (size_t i = 0; i < tags->size(); ++i) {
      const std::string p = "tags." + std::to_string(i + 1) + ".member";
      if (!(*tags)[i].is_object()) {
        c.Add((*tags)[i].dump(), p, "Member must be a structure");
        continue;
      }
      (void)c.String((*tags)[i], "Key", p, true, 1, 128);
      (void)c.String((*tags)[i], "Value", p, true, 0, 256);
    }
  }
}

void Processing(Checker& c, const json& r, JobRequest* out) {
  CommonTop(c, r, "ProcessingJobName", out);
  if (const json* res = c.Object(r, "ProcessingResources", "", true); res != nullptr) {
    const std::string p = "processingResources";
    if (const json* cc = c.Object(*res, "ClusterConfig", p, true); cc != nullptr) {
      const std::string q = p + ".clusterConfig";
      if (auto n = c.Int(*cc, "InstanceCount", q, true, 1, 100)) out->instance_count = int(*n);
      auto type = c.String(*cc, "InstanceType", q, true, 1, 64);
      c.Pattern(type, q + ".instanceType", "^ml\\.");
      if (type) out->instance_type = *type;
      (void)c.Int(*cc, "VolumeSizeInGB", q, true, 1, 16384);
    }
  }
  if (const json* app = c.Object(r, "AppSpecification", "", true); app != nullptr) {
    const std::string p = "appSpecification";
    if (auto img = c.String(*app, "ImageUri", p, true, 0, 255)) out->image = *img;
    out->entrypoint = c.Strings(*app, "ContainerEntrypoint", p, 1, 100, 256);
    out->arguments = c.Strings(*app, "ContainerArguments", p, 1, 256, 256);
    if (c.ok() && out->entrypoint.empty()) {
      c.Add("null", p + ".containerEntrypoint",
            "sagebox runs processing jobs as local processes, not containers: "
            "AppSpecification.ContainerEntrypoint is required (the command to run)");
    }
  }
  if (const json* sc = c.Object(r, "StoppingCondition", "", false); sc != nullptr) {
    out->max_runtime_s = c.Int(*sc, "MaxRuntimeInSeconds", "stoppingCondition", true, 1, 777600);
  }
  if (const json* ins = c.Array(r, "ProcessingInputs", "", false, 0, 10); ins != nullptr) {
    for (size_t i = 0; i < ins->size(); ++i) {
      const std::string p = "processingInputs." + std::to_string(i + 1) + ".member";
      const json& in = (*ins)[i];
      if (!in.is_object()) {
        c.Add(in.dump(), p, "Member must be a structure");
        continue;
      }
      InputSpec spec;
      if (auto n = c.String(in, "InputName", p, true, 1, 256)) spec.name = *n;
      const json* s3 = c.Object(in, "S3Input", p, false);
      if (s3 == nullptr) {
        if (in.contains("DatasetDefinition")) {
          c.Add("'DatasetDefinition'", p + ".datasetDefinition",
                "sagebox runs S3Input inputs only (Athena and Redshift datasets are not "
                "supported)");
        } else {
          c.Null(p + ".s3Input");
        }
        continue;
      }
      const std::string q = p + ".s3Input";
      auto uri = c.String(*s3, "S3Uri", q, true, 0, 1024);
      c.Pattern(uri, q + ".s3Uri", kS3UriPattern);
      if (uri) spec.s3_uri = *uri;
      auto local = c.String(*s3, "LocalPath", q, true, 0, 256);
      if (auto rel = ProcessingLocalPath(c, local, q + ".localPath")) spec.local_dir = *rel;
      auto type = c.Enum(*s3, "S3DataType", q, true, {"ManifestFile", "S3Prefix"});
      if (type && *type == "ManifestFile") {
        c.Add("'ManifestFile'", q + ".s3DataType", "sagebox supports S3Prefix inputs only");
      }
      auto mode = c.Enum(*s3, "S3InputMode", q, false, {"Pipe", "File"});
      if (mode && *mode == "Pipe") {
        c.Add("'Pipe'", q + ".s3InputMode", "sagebox supports File mode only");
      }
      auto dist =
          c.Enum(*s3, "S3DataDistributionType", q, false, {"FullyReplicated", "ShardedByS3Key"});
      if (dist) spec.distribution = *dist;
      spec.sharded = dist && *dist == "ShardedByS3Key";
      auto comp = c.Enum(*s3, "S3CompressionType", q, false, {"None", "Gzip"});
      if (comp && *comp == "Gzip") {
        c.Add("'Gzip'", q + ".s3CompressionType", "Gzip applies to Pipe mode only");
      }
      out->inputs.push_back(std::move(spec));
    }
  }
  if (const json* oc = c.Object(r, "ProcessingOutputConfig", "", false); oc != nullptr) {
    const json* outs = c.Array(*oc, "Outputs", "processingOutputConfig", true, 0, 10);
    for (size_t i = 0; outs != nullptr && i < outs->size(); ++i) {
      const std::string p = "processingOutputConfig.outputs." + std::to_string(i + 1) + ".member";
      const json& o = (*outs)[i];
      if (!o.is_object()) {
        c.Add(o.dump(), p, "Member must be a structure");
        continue;
      }
      OutputSpec spec;
      if (auto n = c.String(o, "OutputName", p, true, 1, 256)) spec.name = *n;
      const json* s3 = c.Object(o, "S3Output", p, false);
      if (s3 == nullptr) {
        c.Null(p + ".s3Output");
        continue;
      }
      const std::string q = p + ".s3Output";
      auto uri = c.String(*s3, "S3Uri", q, true, 0, 1024);
      c.Pattern(uri, q + ".s3Uri", kS3UriPattern);
      if (uri) spec.s3_uri = *uri;
      auto local = c.String(*s3, "LocalPath", q, true, 0, 256);
      if (auto rel = ProcessingLocalPath(c, local, q + ".localPath")) spec.local_dir = *rel;
      auto mode = c.Enum(*s3, "S3UploadMode", q, true, {"Continuous", "EndOfJob"});
      spec.continuous = mode && *mode == "Continuous";
      out->outputs.push_back(std::move(spec));
    }
  }
}

void Training(Checker& c, const json& r, JobRequest* out) {
  CommonTop(c, r, "TrainingJobName", out);
  if (const json* alg = c.Object(r, "AlgorithmSpecification", "", true); alg != nullptr) {
    const std::string p = "algorithmSpecification";
    if (auto img = c.String(*alg, "TrainingImage", p, false, 0, 255)) out->image = *img;
    auto mode = c.Enum(*alg, "TrainingInputMode", p, true, {"Pipe", "File", "FastFile"});
    if (mode && *mode != "File") {
      c.Add("'" + *mode + "'", p + ".trainingInputMode", "sagebox supports File mode only");
    }
    out->entrypoint = c.Strings(*alg, "ContainerEntrypoint", p, 1, 10, 256);
    out->arguments = c.Strings(*alg, "ContainerArguments", p, 1, 100, 256);
    if (const json* md = c.Array(*alg, "MetricDefinitions", p, false, 0, 40); md != nullptr) {
      for (size_t i = 0; i < md->size(); ++i) {
        const std::string q = p + ".metricDefinitions." + std::to_string(i + 1) + ".member";
        if (!(*md)[i].is_object()) {
          c.Add((*md)[i].dump(), q, "Member must be a structure");
          continue;
        }
        auto name = c.String((*md)[i], "Name", q, true, 1, 255);
        auto regex = c.String((*md)[i], "Regex", q, true, 1, 500);
        if (regex) {
          try {
            std::regex check(*regex);
            if (check.mark_count() < 1) {
              c.Add("'" + *regex + "'", q + ".regex",
                    "Member must have a capture group: its first group is the value");
            }
          } catch (const std::regex_error& e) {
            c.Add("'" + *regex + "'", q + ".regex",
                  std::string("Member must be a valid regular expression (") + e.what() + ")");
          }
        }
        if (name && regex) out->metrics.push_back({*name, *regex});
      }
    }
    if (c.ok() && out->entrypoint.empty()) {
      c.Add("null", p + ".containerEntrypoint",
            "sagebox runs training jobs as local processes, not containers: "
            "AlgorithmSpecification.ContainerEntrypoint is required (the command to run)");
    }
  }
  out->hyperparameters = c.StringMap(r, "HyperParameters", "", 100, 256, 2500, nullptr);
  if (const json* oc = c.Object(r, "OutputDataConfig", "", true); oc != nullptr) {
    auto path = c.String(*oc, "S3OutputPath", "outputDataConfig", true, 0, 1024);
    c.Pattern(path, "outputDataConfig.s3OutputPath", kS3UriPattern);
    if (path) out->output_path = *path;
    (void)c.Enum(*oc, "CompressionType", "outputDataConfig", false, {"GZIP", "NONE"});
  }
  if (const json* rc = c.Object(r, "ResourceConfig", "", true); rc != nullptr) {
    const std::string p = "resourceConfig";
    if (auto n = c.Int(*rc, "InstanceCount", p, false, 0, 100)) out->instance_count = int(*n);
    auto type = c.String(*rc, "InstanceType", p, false, 1, 64);
    c.Pattern(type, p + ".instanceType", "^ml\\.");
    if (type) out->instance_type = *type;
    (void)c.Int(*rc, "VolumeSizeInGB", p, true, 0, 16384);
    if (!type && c.ok()) c.Null(p + ".instanceType");
    if (out->instance_count < 1 && c.ok()) {
      c.Add(std::to_string(out->instance_count), p + ".instanceCount",
            "Member must have value greater than or equal to 1");
    }
  }
  if (const json* sc = c.Object(r, "StoppingCondition", "", true); sc != nullptr) {
    out->max_runtime_s =
        c.Int(*sc, "MaxRuntimeInSeconds", "stoppingCondition", false, 1, int64_t{28} * 24 * 3600);
    (void)c.Int(*sc, "MaxWaitTimeInSeconds", "stoppingCondition", false, 1, 2419200);
  }
  if (const json* ch = c.Array(r, "InputDataConfig", "", false, 1, 20); ch != nullptr) {
    for (size_t i = 0; i < ch->size(); ++i) {
      const std::string p = "inputDataConfig." + std::to_string(i + 1) + ".member";
      const json& in = (*ch)[i];
      if (!in.is_object()) {
        c.Add(in.dump(), p, "Member must be a structure");
        continue;
      }
      InputSpec spec;
      auto name = c.String(in, "ChannelName", p, true, 1, 64);
      c.Pattern(name, p + ".channelName", "^[A-Za-z0-9\\.\\-_]+$");
      if (name) {
        spec.name = *name;
        spec.local_dir = "input/data/" + *name;
      }
      if (auto ct = c.String(in, "ContentType", p, false, 0, 256)) spec.content_type = *ct;
      auto mode = c.Enum(in, "InputMode", p, false, {"Pipe", "File", "FastFile"});
      if (mode && *mode != "File") {
        c.Add("'" + *mode + "'", p + ".inputMode", "sagebox supports File mode only");
      }
      const json* ds = c.Object(in, "DataSource", p, true);
      if (ds == nullptr) continue;
      const json* s3 = c.Object(*ds, "S3DataSource", p + ".dataSource", false);
      if (s3 == nullptr) {
        c.Null(p + ".dataSource.s3DataSource");
        continue;
      }
      const std::string q = p + ".dataSource.s3DataSource";
      auto type = c.Enum(*s3, "S3DataType", q, true,
                         {"ManifestFile", "S3Prefix", "AugmentedManifestFile", "Converse"});
      if (type && *type != "S3Prefix") {
        c.Add("'" + *type + "'", q + ".s3DataType", "sagebox supports S3Prefix inputs only");
      }
      auto uri = c.String(*s3, "S3Uri", q, true, 0, 1024);
      c.Pattern(uri, q + ".s3Uri", kS3UriPattern);
      if (uri) spec.s3_uri = *uri;
      auto dist =
          c.Enum(*s3, "S3DataDistributionType", q, false, {"FullyReplicated", "ShardedByS3Key"});
      if (dist) spec.distribution = *dist;
      spec.sharded = dist && *dist == "ShardedByS3Key";
      out->inputs.push_back(std::move(spec));
    }
    std::vector<std::string> names;
    for (const auto& in : out->inputs) names.push_back(in.name);
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
      c.Add("of channel names", "inputDataConfig", "Channel names must be unique");
    }
  }
}

}  // namespace

std::string_view KindName(JobKind k) {
  return k == JobKind::kProcessing ? "processing" : "training";
}

std::optional<JobKind> ParseKind(std::string_view name) {
  if (name == "processing") return JobKind::kProcessing;
  if (name == "training") return JobKind::kTraining;
  return std::nullopt;
}

bool ValidJobName(std::string_view name) {
  static const std::regex kName("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  return !name.empty() && name.size() <= 63 && std::regex_match(name.begin(), name.end(), kName);
}

StatusOr<JobRequest> ParseCreateRequest(JobKind kind, const nlohmann::json& request) {
  if (!request.is_object()) return InvalidArgument("the request body is not a JSON object");
  JobRequest out;
  out.kind = kind;
  out.raw = request;
  Checker c;
  if (kind == JobKind::kProcessing) {
    Processing(c, request, &out);
  } else {
    Training(c, request, &out);
  }
  RETURN_IF_ERROR(c.Result());
  return out;
}

}  // namespace sagebox::pipeline::sagemaker
