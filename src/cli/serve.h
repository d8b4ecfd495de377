// serve.h: `sagebox serve`, shared with `sagebox demo --open`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace sagebox::cli {

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  std::string credentials, budgets, catalog, port_file;
  std::vector<std::string> jobs, metrics, logs;
  int threads = 0;
  int cache_mb = 64;
  int ce_page_size = 0;
  // `sagebox endpoint serve`: a model store to serve (empty: no endpoint).
  std::string endpoint_models, endpoint_name = "sagebox", memory_budget, disk_budget;
  std::string instance_type = "ml.g5.2xlarge";
  int wait_budget_ms = 60'000;
  // `sagebox endpoint route`: instances to route to (empty: not a router).
  std::vector<std::string> route_instances;
  size_t hot_replicas = 2;
  double hot_rps = 20;
  // The rag APIs (rag/api/routes.h): the workshop API's index when a request names none,
  // and the generator that writes answers (empty: extractive).
  std::string rag_index, rag_generator;
};

// Adds the serve flags to `cmd` (for `serve` itself and `demo --open`).
void AddServeOptions(CLI::App* cmd, ServeFlags* f);
// Serves the installation `g` names (its store, database and users) until
// SIGINT/SIGTERM; returns the exit code.
int Serve(const Globals& g, const ServeFlags& f);

}  // namespace sagebox::cli
