// work_area.cc: the container's /opt/ml on the local disk (work_area.h).
#include "pipeline/sagemaker/work_area.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>

namespace sagebox::pipeline::sagemaker {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return IoError("cannot write " + tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) return IoError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

// Copies `from` to `to` through a temporary file in the same folder and a rename.
Status CopyFileAtomic(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  if (ec)
    return IoError("cannot create " + fs::path(to).parent_path().string() + ": " + ec.message());
  const std::string tmp = to + ".sagebox-tmp";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return IoError("cannot copy " + from + " to " + to + ": " + ec.message());
  fs::rename(tmp, to, ec);
  if (ec) return IoError("cannot rename " + tmp + " to " + to + ": " + ec.message());
  return Status::Ok();
}

std::string MlRoot(const std::string& work, int count, int k) {
  return count == 1 ? work + "/opt/ml" : work + "/algo-" + std::to_string(k) + "/opt/ml";
}

}  // namespace

StatusOr<std::string> ResolveUri(const std::string& data_dir, const std::string& uri) {
  std::string path;
  if (uri.rfind("s3://", 0) == 0) {
    const std::string rest = uri.substr(5);
    if (rest.empty() || rest[0] == '/') return InvalidArgument("no bucket in " + uri);
    path = data_dir + "/s3/" + rest;
  } else if (uri.rfind("file://", 0) == 0) {
    path = uri.substr(7);
  } else {
    path = uri;
  }
  if (path.empty() || path[0] != '/') {
    return InvalidArgument(uri +
                           " is neither s3://bucket/key, file:///abs/path nor an absolute path");
  }
  for (const auto& part : fs::path(path)) {
    if (part == "..") return InvalidArgument(uri + ": '..' is not allowed in a URI");
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

StatusOr<std::vector<S3Object>> ListObjects(const std::string& path) {
  std::error_code ec;
  std::vector<S3Object> out;
  if (fs::is_regular_file(path, ec)) {
    out.push_back({fs::path(path).filename().string(), path});
    return out;
  }
  if (!fs::is_directory(path, ec)) return NotFound("no objects at " + path);
  fs::recursive_directory_iterator it(path, ec), end;
  if (ec) return IoError("cannot list " + path + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return IoError("cannot list " + path + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    out.push_back({fs::relative(it->path(), path, ec).string(), it->path().string()});
  }
  if (out.empty()) return NotFound("no objects at " + path);
  std::sort(out.begin(), out.end(),
            [](const S3Object& a, const S3Object& b) { return a.key < b.key; });
  return out;
}

std::vector<S3Object> Shard(const std::vector<S3Object>& objects, int host_index, int host_count) {
  std::vector<S3Object> out;
  if (host_count <= 0) return out;
  for (size_t i = 0; i < objects.size(); ++i) {
    if (static_cast<int>(i % static_cast<size_t>(host_count)) == host_index) {
      out.push_back(objects[i]);
    }
  }
  return out;
}

std::string WorkAreaDir(const std::string& data_dir, JobKind kind, const std::string& name) {
  return data_dir + "/pipeline/jobs/" + std::string(KindName(kind)) + "/" + name;
}

std::vector<std::string> HostNames(int count) {
  std::vector<std::string> out;
  for (int k = 1; k <= count; ++k) out.push_back("algo-" + std::to_string(k));
  return out;
}

json ResourceConfig(const JobRequest& req, const std::string& host) {
  const auto hosts = HostNames(req.instance_count);
  json rc = {{"current_host", host}, {"hosts", hosts}};
  if (req.kind == JobKind::kTraining) {
    // The training shape (AWS "How Amazon SageMaker Provides Training Information":
    // distributed training configuration) adds the instance group members.
    rc["current_instance_type"] = req.instance_type;
    rc["current_group_name"] = "homogeneousCluster";
    rc["instance_groups"] = json::array({{{"instance_group_name", "homogeneousCluster"},
                                          {"instance_type", req.instance_type},
                                          {"hosts", hosts}}});
    rc["network_interface_name"] = "eth0";
  }
  return rc;
}

json InputDataConfig(const JobRequest& req) {
  json out = json::object();
  for (const auto& in : req.inputs) {
    json ch = {{"TrainingInputMode", req.training_input_mode},
               {"S3DistributionType", in.distribution},
               {"RecordWrapperType", "None"}};
    if (!in.content_type.empty()) ch["ContentType"] = in.content_type;
    out[in.name] = ch;
  }
  return out;
}

json Hyperparameters(const JobRequest& req) {
  json out = json::object();
  for (const auto& [k, v] : req.hyperparameters) out[k] = v;
  return out;
}

std::vector<std::string> RewriteArgv(const std::vector<std::string>& argv,
                                     const std::string& ml_root) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const auto& a : argv) {
    if (a == "/opt/ml" || a.rfind("/opt/ml/", 0) == 0) {
      out.push_back(ml_root + a.substr(7));
    } else {
      out.push_back(a);
    }
  }
  return out;
}

StatusOr<std::vector<HostSetup>> PrepareWorkArea(const JobRequest& req, const std::string& data_dir,
                                                 int num_cpus) {
  const std::string work = WorkAreaDir(data_dir, req.kind, req.name);
  std::error_code ec;
  fs::remove_all(work, ec);
  if (ec) return IoError("cannot clear the work area " + work + ": " + ec.message());
  // The objects of every input, listed once.
  std::vector<std::vector<S3Object>> objects;
  for (const auto& in : req.inputs) {
    ASSIGN_OR_RETURN(std::string src, ResolveUri(data_dir, in.s3_uri));
    auto listed = ListObjects(src);
    if (!listed.ok()) {
      return Status(listed.status().code(),
                    "input " + in.name + " (" + in.s3_uri + "): " + listed.status().message());
    }
    objects.push_back(std::move(*listed));
  }
  const auto hosts = HostNames(req.instance_count);
  std::vector<HostSetup> out;
  for (int k = 1; k <= req.instance_count; ++k) {
    HostSetup h;
    h.host = hosts[static_cast<size_t>(k - 1)];
    h.ml_root = MlRoot(work, req.instance_count, k);
    for (size_t i = 0; i < req.inputs.size(); ++i) {
      const auto& in = req.inputs[i];
      const std::string dest = h.ml_root + "/" + in.local_dir;
      fs::create_directories(dest, ec);
      if (ec) return IoError("cannot create " + dest + ": " + ec.message());
      const auto mine = in.sharded ? Shard(objects[i], k - 1, req.instance_count) : objects[i];
      for (const auto& o : mine) RETURN_IF_ERROR(CopyFileAtomic(o.path, dest + "/" + o.key));
    }
    for (const auto& o : req.outputs) {
      fs::create_directories(h.ml_root + "/" + o.local_dir, ec);
      if (ec)
        return IoError("cannot create " + h.ml_root + "/" + o.local_dir + ": " + ec.message());
    }
    const json rc = ResourceConfig(req, h.host);
    h.argv = req.entrypoint;
    h.argv.insert(h.argv.end(), req.arguments.begin(), req.arguments.end());
    h.argv = RewriteArgv(h.argv, h.ml_root);
    h.env = req.environment;
    h.env.emplace_back("SAGEBOX_ML_ROOT", h.ml_root);
    if (req.kind == JobKind::kProcessing) {
      RETURN_IF_ERROR(WriteFile(h.ml_root + "/config/processingjobconfig.json", req.raw.dump()));
      RETURN_IF_ERROR(WriteFile(h.ml_root + "/config/resourceconfig.json", rc.dump()));
    } else {
      const std::string cfg = h.ml_root + "/input/config";
      const json hps = Hyperparameters(req);
      const json idc = InputDataConfig(req);
      RETURN_IF_ERROR(WriteFile(cfg + "/hyperparameters.json", hps.dump()));
      RETURN_IF_ERROR(WriteFile(cfg + "/inputdataconfig.json", idc.dump()));
      RETURN_IF_ERROR(WriteFile(cfg + "/resourceconfig.json", rc.dump()));
      for (const char* d : {"/model", "/output/data", "/input/data"}) {
        fs::create_directories(h.ml_root + d, ec);
        if (ec) return IoError("cannot create " + h.ml_root + d + ": " + ec.message());
      }
      // The toolkit's variables (environment.py): hyperparameters decoded as JSON when they
      // parse, strings kept as they are.
      json decoded = json::object();
      json channels = json::array();
      for (const auto& [name, value] : req.hyperparameters) {
        json v = json::parse(value, nullptr, /*allow_exceptions=*/false);
        decoded[name] = v.is_discarded() ? json(value) : v;
        h.env.emplace_back("SM_HP_" + Upper(name),
                           decoded[name].is_string() ? value : decoded[name].dump());
      }
      for (const auto& in : req.inputs) {
        channels.push_back(in.name);
        h.env.emplace_back("SM_CHANNEL_" + Upper(in.name), h.ml_root + "/input/data/" + in.name);
      }
      h.env.emplace_back("SM_MODEL_DIR", h.ml_root + "/model");
      h.env.emplace_back("SM_CHANNELS", channels.dump());
      h.env.emplace_back("SM_HPS", decoded.dump());
      h.env.emplace_back("SM_OUTPUT_DATA_DIR", h.ml_root + "/output/data");
      h.env.emplace_back("SM_OUTPUT_DIR", h.ml_root + "/output");
      h.env.emplace_back("SM_INPUT_DIR", h.ml_root + "/input");
      h.env.emplace_back("SM_INPUT_CONFIG_DIR", h.ml_root + "/input/config");
      h.env.emplace_back("SM_CURRENT_HOST", h.host);
      h.env.emplace_back("SM_HOSTS", json(hosts).dump());
      h.env.emplace_back("SM_NUM_CPUS", std::to_string(num_cpus));
      h.env.emplace_back("SM_NUM_GPUS", "0");
      h.env.emplace_back("SM_RESOURCE_CONFIG", rc.dump());
      h.env.emplace_back("SM_INPUT_DATA_CONFIG", idc.dump());
    }
    fs::create_directories(h.ml_root + "/output", ec);
    if (ec) return IoError("cannot create " + h.ml_root + "/output: " + ec.message());
    out.push_back(std::move(h));
  }
  return out;
}

OutputSync::OutputSync(const JobRequest& req, std::string data_dir, std::vector<HostSetup> hosts)
    : req_(req), data_dir_(std::move(data_dir)), hosts_(std::move(hosts)) {}

Status OutputSync::CopyTree(const std::string& from, const std::string& to, bool only_changed) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) return Status::Ok();
  fs::recursive_directory_iterator it(from, ec), end;
  if (ec) return IoError("cannot list " + from + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return IoError("cannot list " + from + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    const std::string src = it->path().string();
    if (src.ends_with(".tmp") || src.ends_with(".sagebox-tmp")) continue;
    const auto size = it->file_size(ec);
    const auto mtime = static_cast<int64_t>(it->last_write_time(ec).time_since_epoch().count());
    auto& last = seen_[src];
    if (only_changed && last == std::make_pair(size, mtime)) continue;
    const std::string rel = fs::relative(it->path(), from, ec).string();
    RETURN_IF_ERROR(CopyFileAtomic(src, std::string(to).append("/").append(rel)));
    last = {size, mtime};
    ++files_copied_;
  }
  return Status::Ok();
}

Status OutputSync::Sync(bool final) {
  for (const auto& o : req_.outputs) {
    if (!final && !o.continuous) continue;
    auto dest = ResolveUri(data_dir_, o.s3_uri);
    if (!dest.ok()) return dest.status().WithContext("output " + o.name);
    for (const auto& h : hosts_) {
      Status s = CopyTree(h.ml_root + "/" + o.local_dir, *dest, /*only_changed=*/true);
      if (!s.ok()) return s.WithContext("output " + o.name);
    }
  }
  if (final && req_.kind == JobKind::kTraining && !hosts_.empty()) {
    auto base = ResolveUri(data_dir_, req_.output_path);
    if (!base.ok()) return base.status().WithContext("OutputDataConfig.S3OutputPath");
    const std::string out = *base + "/" + req_.name + "/output";
    RETURN_IF_ERROR(WriteTarGz(hosts_[0].ml_root + "/model", out + "/model.tar.gz"));
    RETURN_IF_ERROR(WriteTarGz(hosts_[0].ml_root + "/output/data", out + "/output.tar.gz"));
  }
  return Status::Ok();
}

namespace {
struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
}  // namespace

Status WriteTarGz(const std::string& dir, const std::string& out_path) {
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_directory(dir, ec)) {
    fs::recursive_directory_iterator it(dir, ec), end;
    if (ec) return IoError("cannot list " + dir + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return IoError("cannot list " + dir + ": " + ec.message());
      if (it->is_regular_file(ec)) files.push_back(fs::relative(it->path(), dir, ec).string());
    }
  }
  std::sort(files.begin(), files.end());
  fs::create_directories(fs::path(out_path).parent_path(), ec);
  const std::string tmp = out_path + ".sagebox-tmp";
  std::unique_ptr<archive, ArchiveFree> a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  archive_write_add_filter_gzip(a.get());
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) {
    return IoError("cannot write " + tmp + ": " + archive_error_string(a.get()));
  }
  for (const auto& rel : files) {
    const std::string src = std::string(dir).append("/").append(rel);
    std::ifstream in(src, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) return IoError("cannot read " + src);
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), rel.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK ||
        archive_write_data(a.get(), data.data(), data.size()) < 0) {
      return IoError(std::string("cannot write ")
                         .append(rel)
                         .append(" into ")
                         .append(tmp)
                         .append(": ")
                         .append(archive_error_string(a.get())));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return IoError("cannot finish " + tmp + ": " + archive_error_string(a.get()));
  }
  fs::rename(tmp, out_path, ec);
  if (ec) return IoError("cannot rename " + tmp + " to " + out_path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace sagebox::pipeline::sagemaker
