// command_runner.h: how the Slurm client runs Slurm's commands (sbatch, squeue, sacct,
// scancel): argv, extra environment and optional stdin in; exit code, stdout and stderr out.
// An interface so unit tests replay recorded outputs (testing/fake_runner.h) instead of
// needing a cluster.
//
// Thread-safety: SpawnCommandRunner is safe for concurrent use (each Run owns its pipes and
// child); it reads the process environment (`environ`), so do not call setenv() while a Run
// is under way.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sagebox::pipeline::slurm {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// One command to run.
struct CommandRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  EnvList env;                    // added to (or overriding) this process's environment
  std::string stdin_text;         // written to the child's stdin, then closed
};

// How it ended. A command that ran and failed is a result (exit_code != 0), not an error:
// the client decides what Slurm's message means.
struct CommandResult {
  int exit_code = 0;  // 128 + N when killed by signal N, as a shell reports it
  std::string stdout_text;
  std::string stderr_text;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs `request` to completion. NotFound when the program does not exist; IoError when
  // the system refuses to start it or the pipes fail; ResourceExhausted when it outlives
  // the runner's time limit (it is then killed).
  virtual StatusOr<CommandResult> Run(const CommandRequest& request) = 0;
};

// The real runner: posix_spawnp with stdin/stdout/stderr on pipes read with poll() (so
// neither a large stdin nor chatty output can deadlock), a time limit per command after
// which the child is SIGKILLed (Slurm's clients retry a lost controller for minutes; the
// executor must not hang on them).
class SpawnCommandRunner : public CommandRunner {
 public:
  // `env` is added to every command (e.g. SLURM_CONF); `time_limit` bounds each command.
  explicit SpawnCommandRunner(EnvList env = {},
                              std::chrono::milliseconds time_limit = std::chrono::minutes(2))
      : env_(std::move(env)), time_limit_(time_limit) {}
  StatusOr<CommandResult> Run(const CommandRequest& request) override;

 private:
  EnvList env_;
  std::chrono::milliseconds time_limit_;
};

}  // namespace sagebox::pipeline::slurm
