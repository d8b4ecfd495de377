// serve.h: `sagebox serve`, shared with `sagebox demo --open`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace sagebox::cli {

struct ServeFlags {
  std::string listen = "127.0.0.1:8080";
  std::string credentials, budgets, catalog, port_file;
  std::vector<std::string> jobs, metrics, logs;
  int threads = 0;
  int ce_page_size = 0;
};

// Adds the serve flags to `cmd` (for `serve` itself and `demo --open`).
void AddServeOptions(CLI::App* cmd, ServeFlags* f);
// Serves `store_dir` until SIGINT/SIGTERM; returns the exit code.
int Serve(const std::string& store_dir, const ServeFlags& f);

}  // namespace sagebox::cli
