// `sagebox pipeline`: declarative ML pipelines (docs/pipeline.md). This file creates the
// `pipeline` command and its `compile` subcommand: YAML config in, Amazon States Language
// out (pipeline/config/compiler.h). The other subcommands (validate, run, status,
// resume, runs, models) register themselves on the same `pipeline` command from their
// own files.
#include <array>
#include <cstdio>
#include <memory>

#include "cli/cli.h"
#include "core/env.h"
#include "pipeline/config/compiler.h"

namespace sagebox::cli {

namespace {

int Compile(const std::string& file, const std::string& out) {
  auto text = pipeline::config::CompileFile(file);
  if (!text.ok()) {
    // Every config error on its own line, each already naming file:line:col and key.
    (void)std::fprintf(stderr, "sagebox pipeline compile: %s has errors:\n%s\n", file.c_str(),
                       text.status().message().c_str());
    return ExitCode(text.status().code());
  }
  if (out.empty() || out == "-") {
    (void)std::fwrite(text->data(), 1, text->size(), stdout);
    return 0;
  }
  if (Status s = Env::Default()->WriteFileAtomic(out, *text); !s.ok()) return Fail(s);
  return 0;
}

}  // namespace

CLI::App* AddPipelineCommands(CLI::App& app, Globals& g, int* exit_code) {
  (void)g;
  auto* pipeline = app.add_subcommand(
      "pipeline",
      "Declarative ML pipelines: a YAML config per customer or project, compiled to Amazon "
      "States Language\nand run here: SageMaker-shaped jobs, runs, the best model per stage "
      "registered\n"
      "Examples:\n"
      "  sagebox pipeline compile examples/pipeline/ocx.yaml -o ocx.asl.json\n"
      "  cd examples/pipeline && sagebox pipeline run ocx.yaml\n"
      "  sagebox pipeline runs --stage iris\n"
      "docs/pipeline.md describes the config (every key) and the compiled state machine.");
  pipeline->require_subcommand(1);

  auto* compile = pipeline->add_subcommand(
      "compile",
      "Check a pipeline config and write its state machine (standard ASL JSON)\n"
      "The config names stages, algorithms with hyperparameter grids, the metric and its\n"
      "direction, the registry, and the feature, prediction and analytics jobs, e.g.:\n"
      "  pipeline: ocx-demo\n"
      "  data: {root: s3://my-bucket/ocx}\n"
      "  stages: [{name: iris, values: {dataset: iris}}]\n"
      "  algorithms:\n"
      "    - name: random-forest\n"
      "      command: [/usr/bin/python3, jobs/train.py]\n"
      "      grid: {n_estimators: [50, 100], max_depth: [3, 5]}\n"
      "  metric: {name: cv_accuracy, regex: 'cv_accuracy=([0-9.]+)', direction: maximize}\n"
      "Errors name file:line:col and the key (all of them); the exit code is then 2.\n"
      "Example:\n"
      "  sagebox pipeline compile examples/pipeline/ocx.yaml -o ocx.asl.json");
  auto args = std::make_shared<std::array<std::string, 2>>();  // file, out
  compile->add_option("FILE", (*args)[0], "The pipeline config (YAML)")->required();
  compile->add_option("-o,--output", (*args)[1], "Write the ASL here (default: standard output)");
  compile->callback([args, exit_code] { *exit_code = Compile((*args)[0], (*args)[1]); });
  return pipeline;
}

}  // namespace sagebox::cli
