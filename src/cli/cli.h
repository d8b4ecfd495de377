// cli.h: the command-line edge. Commands parse flags, call the library and
// turn Status codes into exit codes (0 ok, 1 usage, 2 bad input, 3 budget
// alert, 4 internal). Nothing below this layer knows about exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "core/status.h"
#include "core/time.h"

namespace sagebox::cli {

// Where the installation's state lives (platform.h explains each).
struct Globals {
  std::string data;      // --data, else $SAGEBOX_DATA, else ./.sagebox
  std::string store;     // --store, else $SAGEBOX_STORE, else `data`
  std::string database;  // --database, else $SAGEBOX_DATABASE, else empty (SQLite in `data`)
  // The database URL: `database`, or <data>/sagebox.db.
  std::string DatabaseUrl() const;
};

// The process's own argv, kept by main() for `endpoint serve`, which re-executes
// itself as sagebox-torch (serve_command.cc says why).
void SetCommandLine(int argc, char** argv);
char** CommandLine();

// Prints the error and returns the exit code for `s`.
int Fail(const Status& s);
int ExitCode(StatusCode c);
// A YYYY-MM-DD flag value into *out; empty text leaves *out as it is.
// InvalidArgument naming the flag otherwise.
Status ParseDateFlag(std::string_view flag, const std::string& text, Days* out);

void AddCostCommands(CLI::App& app, Globals& g, int* exit_code);
void AddDemoCommand(CLI::App& app, Globals& g, int* exit_code);
void AddServeCommand(CLI::App& app, Globals& g, int* exit_code);
void AddUsersCommand(CLI::App& app, Globals& g, int* exit_code);
void AddEndpointCommands(CLI::App& app, Globals& g, int* exit_code);
// `sagebox rag`: ingest, ask, eval, indexes, drop (rag_command.cc).
void AddRagCommands(CLI::App& app, Globals& g, int* exit_code);
// `sagebox label`: projects, members, import, convert, status, metrics, export.
void AddLabelCommands(CLI::App& app, Globals& g, int* exit_code);
// `sagebox pipeline` with `compile` (pipeline_command.cc); returns the `pipeline` command so
// its other subcommands (validate, run, status, ...) can add themselves to it.
CLI::App* AddPipelineCommands(CLI::App& app, Globals& g, int* exit_code);
// `pipeline validate|run|resume|status|runs|models` (pipeline_run_command.cc), added to the
// `pipeline` command AddPipelineCommands returned.
void AddPipelineRunCommands(CLI::App* pipeline, Globals& g, int* exit_code);
// `sagebox job run`: one SageMaker processing or training job, locally (job_command.cc).
void AddJobCommands(CLI::App& app, Globals& g, int* exit_code);
// Subcommands of `cost` (the CLI::App passed is the `cost` subcommand).
void AddFindingsCommand(CLI::App& cost, Globals& g, int* exit_code);
void AddForecastCommand(CLI::App& cost, Globals& g, int* exit_code);
void AddBudgetsCommand(CLI::App& cost, Globals& g, int* exit_code);
void AddSavingsPlansCommands(CLI::App& cost, Globals& g, int* exit_code);
// `cost sql`; call after AddCostCommands (it adds itself under `cost`).
void AddSqlCommand(CLI::App& app, Globals& g, int* exit_code);

}  // namespace sagebox::cli
