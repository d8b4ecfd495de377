// config.h: the `sagebox pipeline` YAML config (docs/pipeline.md, "Config"): its typed
// form, the loader that checks it against the schema, and the expansion of each stage's
// algorithms × hyperparameter grids into candidates. compiler.h turns a Config into
// Amazon States Language.
//
// A config is data a user wrote, so every problem is reported, not only the first, each
// as `file:line:col: key.path: what was expected` (positions from yaml-cpp's Mark()).
//
// Thread-safety: plain values and pure functions; safe to use from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/decimal.h"
#include "core/env.h"
#include "core/status.h"

namespace sagebox::pipeline::config {

// An ordered list of name → value pairs (YAML order is kept: it decides the order of
// channels and job inputs in the compiled ASL).
using Pairs = std::vector<std::pair<std::string, std::string>>;

// A Task's retry policy, in ASL terms: `max_attempts` retries after the first attempt.
struct RetryPolicy {
  int max_attempts = 2;
  int interval_seconds = 10;
  std::string backoff_rate = "2.0";  // as written (a JSON number in the ASL)
  int max_delay_seconds = 0;         // 0: not set
  bool jitter = false;               // JitterStrategy FULL when true
};

// Compute for one job; the config's `defaults` fill what a job leaves out.
struct Resources {
  std::string instance_type = "ml.m5.large";
  int instance_count = 1;
  int volume_size_gb = 30;
  int max_runtime_seconds = 3600;
};

// A SageMaker Processing job run as a local command (features, predict, analytics).
struct ProcessingJob {
  bool present = false;
  std::vector<std::string> command;    // ContainerEntrypoint
  std::vector<std::string> arguments;  // ContainerArguments
  Resources resources;
  Pairs inputs;   // name → S3 URI (per-stage jobs read <uri>/<stage>/)
  Pairs outputs;  // name → S3 URI (per-stage jobs write <uri>/<stage>/)
  Pairs environment;
};

// One hyperparameter combination; values are strings exactly as written in the YAML.
using Combination = Pairs;

struct Algorithm {
  std::string name;
  std::vector<std::string> command;
  std::vector<std::string> arguments;
  Resources resources;
  // Either a grid (name → values; the cartesian product, first key varying slowest) or an
  // explicit list of combinations. Neither: one candidate without grid values.
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;
  std::vector<Combination> combinations;
};

struct Stage {
  std::string name;
  Pairs inputs;  // channel → S3 root overriding training.channels for this stage
  Pairs values;  // extra hyperparameters of every candidate of this stage
  std::vector<std::string> algorithms;  // names; empty: every algorithm
  std::string model_name;               // registry.model_name with {stage} substituted
};

struct Config {
  std::string file;  // as given to LoadConfig/ParseConfig, for messages
  std::string pipeline;
  std::string region = "us-east-1";
  std::string role_arn = "arn:aws:iam::000000000000:role/sagebox-pipeline";
  std::string image = "sagebox.local/job:latest";
  std::string data_root;  // s3://bucket/prefix, no trailing slash
  Pairs data_inputs;      // given to the features job
  Resources defaults;
  RetryPolicy retry;
  ProcessingJob features;
  Pairs channels;  // training channel → S3 root (default {train: <root>/features})
  std::vector<Stage> stages;
  std::vector<Algorithm> algorithms;
  std::string metric_name;
  std::string metric_regex;
  bool maximize = true;
  bool has_cross_validation = false;
  int cv_folds = 5;
  int cv_seed = 0;
  std::string cv_scoring;  // scikit-learn scorer name; empty: not passed
  std::string registry_alias = "champion";
  ProcessingJob predict;
  ProcessingJob analytics;
  int stage_max_concurrency = 0;  // 0: no limit (ASL MaxConcurrency 0)
  int candidate_max_concurrency = 0;
  int tolerated_failure_percentage = 0;
  bool has_max_cost = false;
  Decimal max_cost_usd;
  int pipeline_timeout_seconds = 0;  // 0: none
};

// One training job of a stage: an algorithm with one hyperparameter combination.
struct Candidate {
  std::string id;         // <algorithm>-<index in the expansion>, stable for a given config
  size_t algorithm = 0;   // index into Config::algorithms
  Pairs hyperparameters;  // stage values, grid point, then the injected keys (sorted)
};

// Longest job-name pieces: a training job is named <stage>-<candidate>-<token>-<retry>
// (token 8 characters, retry up to 2 digits), and SageMaker allows 63 characters.
inline constexpr size_t kMaxNameLength = 40;
inline constexpr size_t kMaxStagePlusCandidate = 50;
inline constexpr size_t kMaxCandidatesPerStage = 1000;

// Parses and checks `yaml` (named `file` in messages). BadInput listing every error, one
// per line, in file order.
StatusOr<Config> ParseConfig(std::string_view yaml, const std::string& file);

// Reads `path` through `env`, then ParseConfig. The Env's error (NotFound, IoError) when
// the file cannot be read.
StatusOr<Config> LoadConfig(const std::string& path, Env* env = Env::Default());

// The candidates of `stage`, in a fixed order: algorithms in config order (restricted to
// the stage's list), each one's grid expanded or combinations listed. Never fails on a
// Config that ParseConfig returned (which checked sizes and name lengths).
std::vector<Candidate> ExpandCandidates(const Config& config, const Stage& stage);

}  // namespace sagebox::pipeline::config
