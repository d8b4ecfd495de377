// work_area.h: the folders, files and environment a SageMaker job's container would see,
// laid out on the local disk so a plain process can run it.
//
// Each job has a work area <data>/pipeline/jobs/<kind>/<name>/. A single-host job's
// container root is <work>/opt/ml/; with InstanceCount N > 1 each host has its own,
// <work>/algo-K/opt/ml/ (K = 1..N). Under it, as in the container:
//   processing: processing/<LocalPath below /opt/ml/processing/> for every input and
//               output, config/processingjobconfig.json (the request), config/
//               resourceconfig.json {"current_host": "algo-K", "hosts": [...]}
//   training:   input/config/hyperparameters.json (string values, as SageMaker writes
//               them), input/config/inputdataconfig.json, input/config/resourceconfig.json,
//               input/data/<channel>/, model/, output/data/, output/failure (the job's)
// The process gets SAGEBOX_ML_ROOT = that opt/ml folder, and every argv element starting
// with /opt/ml/ is rewritten to it. Training also gets the sagemaker-training toolkit's
// variables (aws/sagemaker-training-toolkit, ENVIRONMENT_VARIABLES.md and
// src/sagemaker_training/environment.py): SM_MODEL_DIR, SM_CHANNELS (JSON list),
// SM_CHANNEL_<NAME> (upper case), SM_HPS (JSON object, values JSON-decoded when they parse,
// as the toolkit's read_hyperparameters does), SM_HP_<NAME> (upper case; strings as they
// are, other values JSON-encoded), SM_OUTPUT_DATA_DIR, SM_INPUT_DIR, SM_INPUT_CONFIG_DIR,
// SM_OUTPUT_DIR, SM_CURRENT_HOST, SM_HOSTS (JSON list), SM_NUM_CPUS, SM_NUM_GPUS (0),
// SM_RESOURCE_CONFIG, SM_INPUT_DATA_CONFIG, all pointing into the work area.
//
// The local S3 stand-in: s3://bucket/key is <data>/s3/bucket/key. file:///abs/path and
// /abs/path are accepted too. An input URI naming a folder gives every file below it (keys
// relative to it); naming a file gives that file. Inputs are copied (never hard-linked: a job
// that edits its input in place must not change the "bucket"). ShardedByS3Key gives host K
// of N the objects whose index in key order is K-1 modulo N (deterministic, ~1/N each);
// FullyReplicated gives every host all of them.
//
// Outputs go back to their S3Uri: processing outputs from every host (same names
// overwrite, as in S3); training's model/ of algo-1 as <S3OutputPath>/<name>/output/
// model.tar.gz and output/data/ as output.tar.gz, as SageMaker names them.
//
// Thread-safety: free functions are safe to call concurrently on different work areas; an
// OutputSync belongs to one thread.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "pipeline/sagemaker/request.h"

namespace sagebox::pipeline::sagemaker {

// One object of the local S3 stand-in.
struct S3Object {
  std::string key;   // relative to the URI's prefix: "part-3.csv", "sub/a.csv"
  std::string path;  // the file
};

// The local path of `uri` under `data_dir`. InvalidArgument for another scheme, a
// relative path or a ".." component.
StatusOr<std::string> ResolveUri(const std::string& data_dir, const std::string& uri);

// The objects at `path` (a folder: every regular file below it, sorted by key; a file: that
// one). NotFound when nothing is there (the job fails, as SageMaker's does with "No S3
// objects found"); IoError when a folder cannot be read.
StatusOr<std::vector<S3Object>> ListObjects(const std::string& path);

// The objects host `host_index` (0-based) of `host_count` gets under ShardedByS3Key.
std::vector<S3Object> Shard(const std::vector<S3Object>& objects, int host_index, int host_count);

// <data>/pipeline/jobs/<kind>/<name>.
std::string WorkAreaDir(const std::string& data_dir, JobKind kind, const std::string& name);

// "algo-1" ... "algo-N".
std::vector<std::string> HostNames(int count);

// One host's container root and what its process gets.
struct HostSetup {
  std::string host;     // "algo-K"
  std::string ml_root;  // .../opt/ml
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
};

// The JSON files the job sees (pure, for tests): resourceconfig.json of `host`,
// inputdataconfig.json, hyperparameters.json.
nlohmann::json ResourceConfig(const JobRequest& req, const std::string& host);
nlohmann::json InputDataConfig(const JobRequest& req);
nlohmann::json Hyperparameters(const JobRequest& req);

// `argv` with every element starting with /opt/ml/ (or equal to /opt/ml) rewritten to
// `ml_root`.
std::vector<std::string> RewriteArgv(const std::vector<std::string>& argv,
                                     const std::string& ml_root);

// Builds the work area of `req` under `data_dir`: folders, config files, inputs copied
// (sharded where asked). Returns one HostSetup per host. NotFound naming the input and its
// URI when an input has no objects; InvalidArgument for a bad URI; IoError when the disk
// refuses. A work area left by an earlier job of the same name is removed first.
StatusOr<std::vector<HostSetup>> PrepareWorkArea(const JobRequest& req, const std::string& data_dir,
                                                 int num_cpus);

// Copies outputs back to their S3Uri; Sync(false) copies files that changed since the last
// sync (Continuous outputs, while the job runs), Sync(true) every output at the end. Files
// are copied to a temporary name and renamed, so a reader never sees half a file.
class OutputSync {
 public:
  OutputSync(const JobRequest& req, std::string data_dir, std::vector<HostSetup> hosts);
  // IoError / InvalidArgument naming the output on failure (files copied before stay).
  Status Sync(bool final);
  // Files copied so far (for tests and progress).
  int64_t files_copied() const { return files_copied_; }

 private:
  Status CopyTree(const std::string& from, const std::string& to, bool only_changed);

  JobRequest req_;
  std::string data_dir_;
  std::vector<HostSetup> hosts_;
  // source path → (size, mtime ns) at the last copy
  std::map<std::string, std::pair<uintmax_t, int64_t>> seen_;
  int64_t files_copied_ = 0;
};

// Writes the files below `dir` as a gzip tar at `out_path`, paths relative to `dir` (as
// model.tar.gz holds them), sorted, mtime 0. IoError naming the file on failure.
Status WriteTarGz(const std::string& dir, const std::string& out_path);

}  // namespace sagebox::pipeline::sagemaker
