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
};

// Adds the serve flags to `cmd` (for `serve` itself and `demo --open`).
void AddServeOptions(CLI::App* cmd, ServeFlags* f);
// Serves the installation `g` names (its store, database and users) until
// SIGINT/SIGTERM; returns the exit code.
int Serve(const Globals& g, const ServeFlags& f);

}  // namespace sagebox::cli
