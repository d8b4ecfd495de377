#include "cost/findings/sagemaker_meta.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "cost/findings/aux_json.h"

namespace sagebox::findings {

using nlohmann::json;

std::string_view JobKindName(JobKind k) {
  switch (k) {
    case JobKind::kProcessing:
      return "processing";
    case JobKind::kTraining:
      return "training";
    case JobKind::kTransform:
      return "transform";
  }
  return "processing";
}

bool SplitArn(std::string_view arn, std::string* account, std::string* region,
              std::string* resource_name) {
  // arn:partition:service:region:account:resource
  if (arn.substr(0, 4) != "arn:") return false;
  std::string_view parts[6];
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return false;
    parts[i] = arn.substr(start, colon - start);
    start = colon + 1;
  }
  parts[5] = arn.substr(start);
  if (account != nullptr) *account = std::string(parts[4]);
  if (region != nullptr) *region = std::string(parts[3]);
  if (resource_name != nullptr) {
    size_t slash = parts[5].rfind('/');
    *resource_name =
        std::string(slash == std::string_view::npos ? parts[5] : parts[5].substr(slash + 1));
  }
  return true;
}

namespace {

constexpr int64_t kMaxCount = 100'000;
constexpr int64_t kMaxVolumeGb = 1'000'000;
constexpr int64_t kMaxSeconds = 100LL * 366 * 86400;

bool Compatible(std::string_view a, std::string_view b) { return a.empty() || b.empty() || a == b; }

template <typename A, typename B>
bool SameAccount(const A& a, const B& b) {
  return Compatible(a.account_id, b.account_id) && Compatible(a.region, b.region);
}

// Field-wise merge: a value the incoming record has replaces the existing
// one when the incoming record ranks at least as high (describe > list),
// and fills it when it is empty in any case.
class Merger {
 public:
  explicit Merger(bool overwrite) : overwrite_(overwrite) {}
  void Str(std::string* dst, const std::string& src) const {
    if (!src.empty() && (overwrite_ || dst->empty())) *dst = src;
  }
  template <typename N>
  void Num(N* dst, N src) const {
    if (src != 0 && (overwrite_ || *dst == 0)) *dst = src;
  }
  template <typename C>
  void Seq(C* dst, const C& src) const {
    if (!src.empty() && (overwrite_ || dst->empty())) *dst = src;
  }

 private:
  bool overwrite_;
};

bool IsDataWranglerImage(std::string_view image) {
  return image.find("sagemaker-data-wrangler-container") != std::string_view::npos;
}

void ArnParts(const std::string& arn, std::string* account, std::string* region) {
  if (!SplitArn(arn, account, region, nullptr)) {
    account->clear();
    region->clear();
  }
}

}  // namespace

// Turns parsed JSON into records and merges them into a SageMakerMeta.
class SageMakerMetaBuilder {
 public:
  SageMakerMetaBuilder(SageMakerMeta* meta, FieldReader* r) : m_(meta), r_(r) {}

  void Value(const json& v, int depth) {
    if (v.is_array() && depth < 4) {
      for (const auto& e : v) {
        Value(e, depth + 1);
        if (!r_->ok()) return;
      }
      return;
    }
    if (!v.is_object()) {
      ++m_->skipped_objects;
      return;
    }
    Object(v);
  }

  static void AddToIndex(SageMakerMeta::Index* idx, const std::string& key, size_t pos) {
    if (!key.empty()) idx->emplace(AsciiLower(key), pos);
  }

 private:
  void Object(const json& o) {
    struct ListKey {
      const char* key;
      int what;  // 0..2 job kinds, 3 endpoints, 4 notebooks
    };
    static const ListKey kLists[] = {{"ProcessingJobSummaries", 0},
                                     {"TrainingJobSummaries", 1},
                                     {"TransformJobSummaries", 2},
                                     {"Endpoints", 3},
                                     {"NotebookInstances", 4}};
    bool any_list = false;
    for (const auto& l : kLists) {
      const json* arr = r_->Array(o, l.key);
      if (arr == nullptr) continue;
      any_list = true;
      for (const auto& e : *arr) {
        if (!e.is_object()) {
          r_->Fail(l.key, l.key, "an array of objects");
          return;
        }
        if (l.what <= 2) {
          Job(static_cast<JobKind>(l.what), e, /*described=*/false);
        } else if (l.what == 3) {
          Endpoint(e, false);
        } else {
          Notebook(e, false);
        }
        if (!r_->ok()) return;
      }
    }
    if (any_list || !r_->ok()) return;
    if (o.contains("ProcessingJobName")) {
      Job(JobKind::kProcessing, o,
          o.contains("ProcessingResources") || o.contains("AppSpecification") ||
              o.contains("ProcessingInputs"));
    } else if (o.contains("TrainingJobName")) {
      Job(JobKind::kTraining, o,
          o.contains("ResourceConfig") || o.contains("AlgorithmSpecification"));
    } else if (o.contains("TransformJobName")) {
      Job(JobKind::kTransform, o, o.contains("TransformResources") || o.contains("TransformInput"));
    } else if (o.contains("EndpointName")) {
      Endpoint(o, o.contains("ProductionVariants") || o.contains("EndpointConfigName"));
    } else if (o.contains("EndpointConfigName") &&
               (o.contains("ProductionVariants") || o.contains("ShadowProductionVariants"))) {
      EndpointConfig(o);
    } else if (o.contains("NotebookInstanceName")) {
      Notebook(o, o.contains("VolumeSizeInGB") || o.contains("RoleArn") ||
                      o.contains("DirectInternetAccess") || o.contains("RootAccess"));
    } else {
      ++m_->skipped_objects;
    }
  }

  // Sets *dst only when the count is given, so a job's default of 1 stays.
  void Count(const json& o, const char* key, const std::string& path, int* dst) {
    if (auto n = r_->Int(o, key, 0, kMaxCount, path)) *dst = static_cast<int>(*n);
  }

  void Environment(const json& o, std::map<std::string, std::string>* env) {
    const json* e = r_->Object(o, "Environment");
    if (e == nullptr) return;
    for (const auto& [k, v] : e->items()) {
      if (v.is_string()) {
        (*env)[k] = v.get<std::string>();
      } else if (!v.is_null()) {
        r_->Fail("Environment", "Environment." + k, "a string", &v);
        return;
      }
    }
  }

  void ProcessingFields(const json& o, JobInfo* j) {
    j->name = r_->String(o, "ProcessingJobName");
    j->arn = r_->String(o, "ProcessingJobArn");
    j->status = r_->String(o, "ProcessingJobStatus");
    j->start = r_->Time(o, "ProcessingStartTime");
    j->end = r_->Time(o, "ProcessingEndTime");
    if (const json* res = r_->Object(o, "ProcessingResources")) {
      if (const json* cc = r_->Object(*res, "ClusterConfig", "ProcessingResources.ClusterConfig")) {
        const std::string p = "ProcessingResources.ClusterConfig.";
        j->instance_type = r_->String(*cc, "InstanceType", p + "InstanceType");
        Count(*cc, "InstanceCount", p + "InstanceCount", &j->instance_count);
        j->volume_size_gb = static_cast<int>(
            r_->Int(*cc, "VolumeSizeInGB", 0, kMaxVolumeGb, p + "VolumeSizeInGB").value_or(0));
      }
    }
    if (const json* app = r_->Object(o, "AppSpecification")) {
      j->image_uri = r_->String(*app, "ImageUri", "AppSpecification.ImageUri");
    }
    if (const json* ins = r_->Array(o, "ProcessingInputs")) {
      for (const auto& in : *ins) {
        if (!in.is_object()) {
          r_->Fail("ProcessingInputs", "ProcessingInputs", "an array of objects");
          return;
        }
        JobInput x;
        x.name = r_->String(in, "InputName", "ProcessingInputs[].InputName");
        if (const json* s3 = r_->Object(in, "S3Input", "ProcessingInputs[].S3Input")) {
          x.s3_uri = r_->String(*s3, "S3Uri", "ProcessingInputs[].S3Input.S3Uri");
          x.s3_input_mode =
              r_->String(*s3, "S3InputMode", "ProcessingInputs[].S3Input.S3InputMode");
        }
        if (const json* dd =
                r_->Object(in, "DatasetDefinition", "ProcessingInputs[].DatasetDefinition")) {
          const std::string p = "ProcessingInputs[].DatasetDefinition.";
          if (x.s3_input_mode.empty())
            x.s3_input_mode = r_->String(*dd, "InputMode", p + "InputMode");
          if (const json* a =
                  r_->Object(*dd, "AthenaDatasetDefinition", p + "AthenaDatasetDefinition")) {
            x.dataset_kind = "athena";
            x.dataset_output_s3_uri =
                r_->String(*a, "OutputS3Uri", p + "AthenaDatasetDefinition.OutputS3Uri");
          } else if (const json* rs = r_->Object(*dd, "RedshiftDatasetDefinition",
                                                 p + "RedshiftDatasetDefinition")) {
            x.dataset_kind = "redshift";
            x.dataset_output_s3_uri =
                r_->String(*rs, "OutputS3Uri", p + "RedshiftDatasetDefinition.OutputS3Uri");
          }
        }
        j->inputs.push_back(std::move(x));
      }
    }
    if (const json* oc = r_->Object(o, "ProcessingOutputConfig")) {
      if (const json* outs = r_->Array(*oc, "Outputs", "ProcessingOutputConfig.Outputs")) {
        for (const auto& out : *outs) {
          if (!out.is_object()) {
            r_->Fail("Outputs", "ProcessingOutputConfig.Outputs", "an array of objects");
            return;
          }
          JobOutput y;
          const std::string p = "ProcessingOutputConfig.Outputs[].";
          y.name = r_->String(out, "OutputName", p + "OutputName");
          if (const json* s3 = r_->Object(out, "S3Output", p + "S3Output")) {
            y.s3_uri = r_->String(*s3, "S3Uri", p + "S3Output.S3Uri");
            y.s3_upload_mode = r_->String(*s3, "S3UploadMode", p + "S3Output.S3UploadMode");
          }
          j->outputs.push_back(std::move(y));
        }
      }
    }
  }

  void TrainingFields(const json& o, JobInfo* j) {
    j->name = r_->String(o, "TrainingJobName");
    j->arn = r_->String(o, "TrainingJobArn");
    j->status = r_->String(o, "TrainingJobStatus");
    j->start = r_->Time(o, "TrainingStartTime");
    j->end = r_->Time(o, "TrainingEndTime");
    j->billable_seconds = r_->Int(o, "BillableTimeInSeconds", 0, kMaxSeconds).value_or(0);
    j->training_seconds = r_->Int(o, "TrainingTimeInSeconds", 0, kMaxSeconds).value_or(0);
    j->managed_spot = r_->Bool(o, "EnableManagedSpotTraining").value_or(false);
    if (const json* rc = r_->Object(o, "ResourceConfig")) {
      const std::string p = "ResourceConfig.";
      j->instance_type = r_->String(*rc, "InstanceType", p + "InstanceType");
      Count(*rc, "InstanceCount", p + "InstanceCount", &j->instance_count);
      j->volume_size_gb = static_cast<int>(
          r_->Int(*rc, "VolumeSizeInGB", 0, kMaxVolumeGb, p + "VolumeSizeInGB").value_or(0));
      if (const json* groups = r_->Array(*rc, "InstanceGroups", p + "InstanceGroups")) {
        for (const auto& g : *groups) {
          if (!g.is_object()) {
            r_->Fail("InstanceGroups", p + "InstanceGroups", "an array of objects");
            return;
          }
          InstanceGroup ig;
          ig.name = r_->String(g, "InstanceGroupName", p + "InstanceGroups[].InstanceGroupName");
          ig.instance_type = r_->String(g, "InstanceType", p + "InstanceGroups[].InstanceType");
          Count(g, "InstanceCount", p + "InstanceGroups[].InstanceCount", &ig.instance_count);
          j->instance_groups.push_back(std::move(ig));
        }
        // A heterogeneous cluster names its types per group only.
        if (j->instance_type.empty() && !j->instance_groups.empty()) {
          j->instance_type = j->instance_groups[0].instance_type;
          int total = 0;
          for (const auto& g : j->instance_groups) total += g.instance_count;
          j->instance_count = total;
        }
      }
    }
    std::string default_mode;
    if (const json* alg = r_->Object(o, "AlgorithmSpecification")) {
      j->image_uri = r_->String(*alg, "TrainingImage", "AlgorithmSpecification.TrainingImage");
      default_mode =
          r_->String(*alg, "TrainingInputMode", "AlgorithmSpecification.TrainingInputMode");
    }
    if (const json* chans = r_->Array(o, "InputDataConfig")) {
      for (const auto& c : *chans) {
        if (!c.is_object()) {
          r_->Fail("InputDataConfig", "InputDataConfig", "an array of objects");
          return;
        }
        JobInput x;
        const std::string p = "InputDataConfig[].";
        x.name = r_->String(c, "ChannelName", p + "ChannelName");
        x.s3_input_mode = r_->String(c, "InputMode", p + "InputMode");
        if (x.s3_input_mode.empty()) x.s3_input_mode = default_mode;
        if (const json* ds = r_->Object(c, "DataSource", p + "DataSource")) {
          if (const json* s3 = r_->Object(*ds, "S3DataSource", p + "DataSource.S3DataSource")) {
            x.s3_uri = r_->String(*s3, "S3Uri", p + "DataSource.S3DataSource.S3Uri");
          }
        }
        j->inputs.push_back(std::move(x));
      }
    }
    if (const json* odc = r_->Object(o, "OutputDataConfig")) {
      JobOutput y;
      y.name = "model";
      y.s3_uri = r_->String(*odc, "S3OutputPath", "OutputDataConfig.S3OutputPath");
      if (!y.s3_uri.empty()) j->outputs.push_back(std::move(y));
    }
  }

  void TransformFields(const json& o, JobInfo* j) {
    j->name = r_->String(o, "TransformJobName");
    j->arn = r_->String(o, "TransformJobArn");
    j->status = r_->String(o, "TransformJobStatus");
    j->start = r_->Time(o, "TransformStartTime");
    j->end = r_->Time(o, "TransformEndTime");
    if (const json* tr = r_->Object(o, "TransformResources")) {
      j->instance_type = r_->String(*tr, "InstanceType", "TransformResources.InstanceType");
      Count(*tr, "InstanceCount", "TransformResources.InstanceCount", &j->instance_count);
    }
    if (const json* ti = r_->Object(o, "TransformInput")) {
      if (const json* ds = r_->Object(*ti, "DataSource", "TransformInput.DataSource")) {
        if (const json* s3 =
                r_->Object(*ds, "S3DataSource", "TransformInput.DataSource.S3DataSource")) {
          JobInput x;
          x.name = "input";
          x.s3_uri = r_->String(*s3, "S3Uri", "TransformInput.DataSource.S3DataSource.S3Uri");
          j->inputs.push_back(std::move(x));
        }
      }
    }
    if (const json* to = r_->Object(o, "TransformOutput")) {
      JobOutput y;
      y.name = "output";
      y.s3_uri = r_->String(*to, "S3OutputPath", "TransformOutput.S3OutputPath");
      if (!y.s3_uri.empty()) j->outputs.push_back(std::move(y));
    }
  }

  void Job(JobKind kind, const json& o, bool described) {
    JobInfo j;
    j.kind = kind;
    j.described = described;
    j.failure_reason = r_->String(o, "FailureReason");
    j.created = r_->Time(o, "CreationTime");
    j.last_modified = r_->Time(o, "LastModifiedTime");
    switch (kind) {
      case JobKind::kProcessing:
        ProcessingFields(o, &j);
        break;
      case JobKind::kTraining:
        TrainingFields(o, &j);
        break;
      case JobKind::kTransform:
        TransformFields(o, &j);
        break;
    }
    Environment(o, &j.environment);
    if (!r_->ok()) return;
    if (j.name.empty()) {
      ++m_->skipped_objects;
      return;
    }
    ArnParts(j.arn, &j.account_id, &j.region);
    j.data_wrangler = IsDataWranglerImage(j.image_uri);
    MergeJob(std::move(j));
  }

  void MergeJob(JobInfo j) {
    auto range = m_->job_names_.equal_range(AsciiLower(j.name));
    JobInfo* into = nullptr;
    size_t best = std::numeric_limits<size_t>::max();
    for (auto it = range.first; it != range.second; ++it) {
      JobInfo& c = m_->jobs[it->second];
      if (c.kind == j.kind && SameAccount(c, j) && it->second < best) {
        best = it->second;
        into = &c;
      }
    }
    if (into == nullptr) {
      const size_t pos = m_->jobs.size();
      AddToIndex(&m_->job_names_, j.name, pos);
      AddToIndex(&m_->job_arns_, j.arn, pos);
      m_->jobs.push_back(std::move(j));
      return;
    }
    const Merger mg(j.described || !into->described);
    const std::string old_arn = into->arn;
    mg.Str(&into->name, j.name);
    mg.Str(&into->arn, j.arn);
    mg.Str(&into->status, j.status);
    mg.Str(&into->failure_reason, j.failure_reason);
    mg.Str(&into->account_id, j.account_id);
    mg.Str(&into->region, j.region);
    mg.Str(&into->instance_type, j.instance_type);
    if (j.described || !into->described) into->instance_count = j.instance_count;
    mg.Num(&into->volume_size_gb, j.volume_size_gb);
    mg.Num(&into->created, j.created);
    mg.Num(&into->start, j.start);
    mg.Num(&into->end, j.end);
    mg.Num(&into->last_modified, j.last_modified);
    mg.Num(&into->billable_seconds, j.billable_seconds);
    mg.Num(&into->training_seconds, j.training_seconds);
    if (j.described) into->managed_spot = j.managed_spot;
    mg.Str(&into->image_uri, j.image_uri);
    into->data_wrangler = IsDataWranglerImage(into->image_uri);
    mg.Seq(&into->inputs, j.inputs);
    mg.Seq(&into->outputs, j.outputs);
    mg.Seq(&into->instance_groups, j.instance_groups);
    mg.Seq(&into->environment, j.environment);
    into->described = into->described || j.described;
    if (into->arn != old_arn) AddToIndex(&m_->job_arns_, into->arn, best);
  }

  // ProductionVariants, then ShadowProductionVariants (billed the same way).
  std::vector<EndpointVariant> Variants(const json& o, bool config) {
    std::vector<EndpointVariant> out;
    for (const char* key : {"ProductionVariants", "ShadowProductionVariants"}) {
      const json* pvs = r_->Array(o, key);
      if (pvs == nullptr) continue;
      const std::string p = std::string(key) + "[].";
      for (const auto& pv : *pvs) {
        if (!pv.is_object()) {
          r_->Fail(key, key, "an array of objects");
          return out;
        }
        EndpointVariant v;
        v.shadow = key[0] == 'S';
        v.variant_name = r_->String(pv, "VariantName", p + "VariantName");
        v.instance_type = r_->String(pv, "InstanceType", p + "InstanceType");
        if (config) {
          Count(pv, "InitialInstanceCount", p + "InitialInstanceCount", &v.initial_instance_count);
          v.instance_count = v.initial_instance_count;
          v.serverless = r_->Object(pv, "ServerlessConfig", p + "ServerlessConfig") != nullptr;
        } else {
          auto cur = r_->Int(pv, "CurrentInstanceCount", 0, kMaxCount, p + "CurrentInstanceCount");
          if (cur) {
            v.instance_count = static_cast<int>(*cur);
            v.current_count_known = true;
          }
          v.serverless =
              r_->Object(pv, "CurrentServerlessConfig", p + "CurrentServerlessConfig") != nullptr ||
              r_->Object(pv, "DesiredServerlessConfig", p + "DesiredServerlessConfig") != nullptr;
        }
        out.push_back(std::move(v));
      }
    }
    return out;
  }

  void Endpoint(const json& o, bool described) {
    EndpointInfo e;
    e.described = described;
    e.name = r_->String(o, "EndpointName");
    e.arn = r_->String(o, "EndpointArn");
    e.status = r_->String(o, "EndpointStatus");
    e.config_name = r_->String(o, "EndpointConfigName");
    e.created = r_->Time(o, "CreationTime");
    e.last_modified = r_->Time(o, "LastModifiedTime");
    e.variants = Variants(o, /*config=*/false);
    if (!r_->ok()) return;
    if (e.name.empty()) {
      ++m_->skipped_objects;
      return;
    }
    ArnParts(e.arn, &e.account_id, &e.region);
    auto range = m_->endpoint_names_.equal_range(AsciiLower(e.name));
    EndpointInfo* into = nullptr;
    size_t best = std::numeric_limits<size_t>::max();
    for (auto it = range.first; it != range.second; ++it) {
      if (SameAccount(m_->endpoints[it->second], e) && it->second < best) {
        best = it->second;
        into = &m_->endpoints[it->second];
      }
    }
    if (into == nullptr) {
      const size_t pos = m_->endpoints.size();
      AddToIndex(&m_->endpoint_names_, e.name, pos);
      AddToIndex(&m_->endpoint_arns_, e.arn, pos);
      m_->endpoints.push_back(std::move(e));
      return;
    }
    const Merger mg(e.described || !into->described);
    const std::string old_arn = into->arn;
    mg.Str(&into->arn, e.arn);
    mg.Str(&into->status, e.status);
    mg.Str(&into->config_name, e.config_name);
    mg.Str(&into->account_id, e.account_id);
    mg.Str(&into->region, e.region);
    mg.Num(&into->created, e.created);
    mg.Num(&into->last_modified, e.last_modified);
    mg.Seq(&into->variants, e.variants);
    into->described = into->described || e.described;
    if (into->arn != old_arn) AddToIndex(&m_->endpoint_arns_, into->arn, best);
  }

  void EndpointConfig(const json& o) {
    EndpointConfigInfo c;
    c.name = r_->String(o, "EndpointConfigName");
    c.arn = r_->String(o, "EndpointConfigArn");
    c.created = r_->Time(o, "CreationTime");
    c.variants = Variants(o, /*config=*/true);
    if (!r_->ok()) return;
    if (c.name.empty()) {
      ++m_->skipped_objects;
      return;
    }
    ArnParts(c.arn, &c.account_id, &c.region);
    for (auto& existing : m_->endpoint_configs) {
      if (EqualsIgnoreCase(existing.name, c.name) && SameAccount(existing, c)) {
        existing = std::move(c);  // a config is immutable: the later copy is the same or newer
        return;
      }
    }
    m_->endpoint_configs.push_back(std::move(c));
  }

  void Notebook(const json& o, bool described) {
    NotebookInfo n;
    n.described = described;
    n.name = r_->String(o, "NotebookInstanceName");
    n.arn = r_->String(o, "NotebookInstanceArn");
    n.status = r_->String(o, "NotebookInstanceStatus");
    n.instance_type = r_->String(o, "InstanceType");
    n.lifecycle_config = r_->String(o, "NotebookInstanceLifecycleConfigName");
    n.volume_size_gb = static_cast<int>(r_->Int(o, "VolumeSizeInGB", 0, kMaxVolumeGb).value_or(0));
    n.created = r_->Time(o, "CreationTime");
    n.last_modified = r_->Time(o, "LastModifiedTime");
    if (!r_->ok()) return;
    if (n.name.empty()) {
      ++m_->skipped_objects;
      return;
    }
    ArnParts(n.arn, &n.account_id, &n.region);
    auto range = m_->notebook_names_.equal_range(AsciiLower(n.name));
    NotebookInfo* into = nullptr;
    size_t best = std::numeric_limits<size_t>::max();
    for (auto it = range.first; it != range.second; ++it) {
      if (SameAccount(m_->notebooks[it->second], n) && it->second < best) {
        best = it->second;
        into = &m_->notebooks[it->second];
      }
    }
    if (into == nullptr) {
      const size_t pos = m_->notebooks.size();
      AddToIndex(&m_->notebook_names_, n.name, pos);
      AddToIndex(&m_->notebook_arns_, n.arn, pos);
      m_->notebooks.push_back(std::move(n));
      return;
    }
    const Merger mg(n.described || !into->described);
    const std::string old_arn = into->arn;
    mg.Str(&into->arn, n.arn);
    mg.Str(&into->status, n.status);
    mg.Str(&into->instance_type, n.instance_type);
    mg.Str(&into->lifecycle_config, n.lifecycle_config);
    mg.Str(&into->account_id, n.account_id);
    mg.Str(&into->region, n.region);
    mg.Num(&into->volume_size_gb, n.volume_size_gb);
    mg.Num(&into->created, n.created);
    mg.Num(&into->last_modified, n.last_modified);
    into->described = into->described || n.described;
    if (into->arn != old_arn) AddToIndex(&m_->notebook_arns_, into->arn, best);
  }

  SageMakerMeta* m_;
  FieldReader* r_;
};

void SageMakerMeta::Reindex() {
  using B = SageMakerMetaBuilder;
  job_names_.clear();
  job_arns_.clear();
  endpoint_names_.clear();
  endpoint_arns_.clear();
  notebook_names_.clear();
  notebook_arns_.clear();
  for (size_t i = 0; i < jobs.size(); ++i) {
    B::AddToIndex(&job_names_, jobs[i].name, i);
    B::AddToIndex(&job_arns_, jobs[i].arn, i);
  }
  for (size_t i = 0; i < endpoints.size(); ++i) {
    B::AddToIndex(&endpoint_names_, endpoints[i].name, i);
    B::AddToIndex(&endpoint_arns_, endpoints[i].arn, i);
  }
  for (size_t i = 0; i < notebooks.size(); ++i) {
    B::AddToIndex(&notebook_names_, notebooks[i].name, i);
    B::AddToIndex(&notebook_arns_, notebooks[i].arn, i);
  }
  // Join endpoint configs: describe-endpoint names the config but not the
  // instance type, which only the config has. Idempotent, so it can run
  // after every file whichever arrives first.
  for (auto& e : endpoints) {
    if (e.config_name.empty()) continue;
    const EndpointConfigInfo* cfg = nullptr;
    for (const auto& c : endpoint_configs) {
      if (EqualsIgnoreCase(c.name, e.config_name) && SameAccount(c, e)) {
        cfg = &c;
        break;
      }
    }
    if (cfg == nullptr) continue;
    if (e.variants.empty()) {
      e.variants = cfg->variants;
      continue;
    }
    for (auto& v : e.variants) {
      for (const auto& cv : cfg->variants) {
        if (cv.variant_name != v.variant_name || cv.shadow != v.shadow) continue;
        if (v.instance_type.empty()) v.instance_type = cv.instance_type;
        v.initial_instance_count = cv.initial_instance_count;
        if (cv.serverless) v.serverless = true;
        if (!v.current_count_known) v.instance_count = cv.initial_instance_count;
      }
    }
  }
}

namespace {

// The position of the record an index finds for `key`: the first loaded
// among those `accept` takes; npos if none.
template <typename Accept>
size_t Lookup(const std::unordered_multimap<std::string, size_t>& idx, std::string_view key,
              Accept accept) {
  size_t best = std::string::npos;
  auto range = idx.equal_range(AsciiLower(key));
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second < best && accept(it->second)) best = it->second;
  }
  return best;
}

// What an ARN's resource type says about a job kind; nullopt if not a job.
std::optional<JobKind> KindOfArn(std::string_view arn) {
  if (arn.find(":processing-job/") != std::string_view::npos) return JobKind::kProcessing;
  if (arn.find(":training-job/") != std::string_view::npos) return JobKind::kTraining;
  if (arn.find(":transform-job/") != std::string_view::npos) return JobKind::kTransform;
  return std::nullopt;
}

// Finds by ARN, then by the ARN's name within its account and region, or
// by name preferring an exact-case match.
template <typename R, typename Extra>
const R* Find(const std::vector<R>& records,
              const std::unordered_multimap<std::string, size_t>& names,
              const std::unordered_multimap<std::string, size_t>& arns, std::string_view key,
              Extra extra) {
  std::string account, region, resource;
  if (SplitArn(key, &account, &region, &resource)) {
    size_t pos = Lookup(arns, key, extra);
    if (pos == std::string::npos) {
      pos = Lookup(names, resource, [&](size_t i) {
        const R& r = records[i];
        return extra(i) && Compatible(r.account_id, account) && Compatible(r.region, region);
      });
    }
    return pos == std::string::npos ? nullptr : &records[pos];
  }
  size_t exact = Lookup(names, key, [&](size_t i) { return extra(i) && records[i].name == key; });
  if (exact != std::string::npos) return &records[exact];
  size_t pos = Lookup(names, key, extra);
  return pos == std::string::npos ? nullptr : &records[pos];
}

}  // namespace

const JobInfo* SageMakerMeta::FindJob(std::string_view name_or_arn) const {
  auto kind = KindOfArn(name_or_arn);
  return Find(jobs, job_names_, job_arns_, name_or_arn,
              [&](size_t i) { return !kind || jobs[i].kind == *kind; });
}

const JobInfo* SageMakerMeta::FindJob(JobKind kind, std::string_view name_or_arn) const {
  return Find(jobs, job_names_, job_arns_, name_or_arn,
              [&](size_t i) { return jobs[i].kind == kind; });
}

const EndpointInfo* SageMakerMeta::FindEndpoint(std::string_view name_or_arn) const {
  return Find(endpoints, endpoint_names_, endpoint_arns_, name_or_arn, [](size_t) { return true; });
}

const NotebookInfo* SageMakerMeta::FindNotebook(std::string_view name_or_arn) const {
  return Find(notebooks, notebook_names_, notebook_arns_, name_or_arn, [](size_t) { return true; });
}

Status ParseSageMakerMeta(std::string_view text, std::string_view label, SageMakerMeta* into) {
  into->Reindex();
  Status st = ForEachJsonValue(text, label, [&](const JsonValueAt& at) {
    FieldReader r(label, text, at);
    SageMakerMetaBuilder b(into, &r);
    b.Value(at.value, 0);
    return r.status();
  });
  into->Reindex();
  return st;
}

Status LoadSageMakerMeta(Env* env, const std::string& path, SageMakerMeta* into) {
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  return ParseSageMakerMeta(text, path, into);
}

}  // namespace sagebox::findings
