// process.h: one child process run the way SageMaker runs a processing or training job
// container, but locally: in its own process group, with stdout and stderr written to files,
// an optional time limit, and a stop that is SIGTERM to the whole group followed by SIGKILL
// after a grace period.
//
// Why these choices:
//   - Own process group (posix_spawn with POSIX_SPAWN_SETPGROUP): a job is usually a shell or
//     Python script that starts helpers; stopping only the direct child would leave them
//     running. Every signal goes to the group (kill(-pgid)), and when the leader exits any
//     helper still in its group is SIGKILLed, so nothing a job started outlives it (a helper
//     that calls setsid() has left on purpose and is not followed).
//   - Output to files, no pipes: a chatty child can never block on a full pipe that nobody
//     reads, and the logs survive the server.
//   - The leader is observed with waitid(WNOWAIT) and reaped only after the last signal to
//     its group has been sent: while it is an unreaped zombie its pid (= the group id) cannot
//     be reused, so a late kill(-pgid) can never hit an unrelated process group.
//   - Deadlines (time limit, grace period) run on the monotonic clock, so a wall-clock jump
//     neither kills a job early nor lets it overrun; start and end times reported to callers
//     are wall-clock microseconds from an injectable clock.
//   - The grace period defaults to 10 s. SageMaker's StopTrainingJob / StopProcessingJob give
//     the container 120 s between SIGTERM and SIGKILL; callers that promise that contract
//     (pipeline) set `stop_grace` to 120 s.
//
// No zombies: every Process reaps its child, at the latest in its destructor, which SIGKILLs
// the group of a child still running and waits for it (blocking, but only for as long as the
// kernel takes to deliver SIGKILL).
//
// Thread-safety: ProcessLauncher implementations are safe for concurrent use. A Process may
// be shared between threads: Cancel() may be called from any thread at any time, while
// Wait() drives the time limit and the escalation to SIGKILL and must be called by one
// thread at a time (the owner). Launching reads the process environment (`environ`): do not
// call setenv() concurrently with Launch().
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sagebox::jobs {

// Wall-clock time in Unix microseconds; injectable so tests fix "now".
using MicrosClock = std::function<int64_t()>;
// The real wall clock (system_clock).
int64_t RealNowMicros();

// What to run and how.
struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  // Added to (or overriding) this process's environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;  // empty: the current directory
  // Created (mode 0644) or truncated; the same path for both interleaves them.
  std::string stdout_path;
  std::string stderr_path;
  // Past this (from the start) the group is stopped like a cancel and the outcome says
  // timed_out. Unset: no limit.
  std::optional<std::chrono::milliseconds> time_limit;
  // Between SIGTERM and SIGKILL when stopping (cancel or time limit).
  std::chrono::milliseconds stop_grace = std::chrono::seconds(10);
};

// How a child ended.
struct ProcessResult {
  std::optional<int> exit_code;  // set when the child exited (normally)
  int signal = 0;                // set (non-zero) when a signal terminated it
  bool timed_out = false;        // its time limit stopped it
  bool cancelled = false;        // Cancel() stopped it (and it had not exited before)
  bool killed = false;           // SIGTERM was not enough: SIGKILL after the grace period
  int64_t started_us = 0;        // wall clock, Unix microseconds
  int64_t ended_us = 0;

  // "exit code 3", "killed by signal KILL", ...
  std::string Describe() const;
};

// A started child; see the header comment for the threading rules.
class Process {
 public:
  // Adopts `pid`, a child of this process that leads its own process group (pgid == pid),
  // started at `started_us`. Used by launchers; `clock` stamps the end time.
  Process(pid_t pid, const ProcessSpec& spec, MicrosClock clock, int64_t started_us);
  // SIGKILLs the group of a child still running and reaps it.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }  // also the process group id

  // Waits until the child ends or `timeout` passes, enforcing the time limit and the grace
  // period meanwhile. Returns the result once the child has ended and been reaped (again on
  // later calls), nullopt when it is still running at the timeout.
  std::optional<ProcessResult> Wait(std::chrono::milliseconds timeout);
  // Waits for as long as it takes.
  ProcessResult WaitForever();

  // Stops the child: SIGTERM to its group now, SIGKILL to the group when the grace period
  // ends (enforced by Wait). Returns false (and does nothing) when the child has already
  // ended on its own, so a cancel racing a natural exit never relabels it; true when the
  // signal was sent or a stop (a cancel or the time limit) was already under way.
  bool Cancel();

 private:
  enum class StopReason { kNone, kCancel, kTimeLimit };
  using SteadyTime = std::chrono::steady_clock::time_point;

  // Under mu_: whether the leader has exited (observed without reaping it).
  bool LeaderExitedLocked();
  // Under mu_: sends SIGTERM to the group and arms the SIGKILL deadline.
  void StopLocked(StopReason why);
  // Under mu_: SIGKILL to the group once the grace period ends; the time limit.
  void EnforceDeadlinesLocked(SteadyTime now);
  // Under mu_: the earliest pending deadline, if any.
  std::optional<SteadyTime> NextDeadlineLocked() const;
  // Under mu_: if the leader has exited, kills leftovers of its group, reaps the leader and
  // fills result_. Returns true when the child has ended.
  bool ReapIfExitedLocked();
  // Sleeps until the child may have exited, a deadline passes or Cancel() wakes us.
  void Block(std::chrono::milliseconds max_wait);

  const pid_t pid_;
  const std::optional<std::chrono::milliseconds> time_limit_;
  const std::chrono::milliseconds stop_grace_;
  const MicrosClock clock_;
  const SteadyTime started_;
  const int64_t started_us_;
  int pidfd_ = -1;   // readable when the child exits; -1 if the kernel has no pidfd_open
  int wakefd_ = -1;  // eventfd: Cancel() wakes a Wait() blocked in poll()

  std::mutex mu_;
  StopReason stop_ = StopReason::kNone;
  std::optional<SteadyTime> kill_at_;  // SIGKILL deadline once SIGTERM was sent
  bool killed_ = false;
  std::optional<ProcessResult> result_;  // set once reaped
};

// Starts children. An interface so tests can inject a launcher whose child never starts.
class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // The posix_spawn launcher with the real clock. Never null; lives for the whole process.
  static ProcessLauncher* Default();

  // Starts `spec`. InvalidArgument for an empty argv; NotFound when the program does not
  // exist; IoError when a log file or the working directory cannot be opened or the system
  // refuses to create the process (the message has the OS's reason).
  virtual StatusOr<std::unique_ptr<Process>> Launch(const ProcessSpec& spec) = 0;
};

// The real launcher: posix_spawn (vfork-speed, and exec failures come back as errors instead
// of a child that exits 127), a fresh process group, stdin from /dev/null, every other
// descriptor closed in the child, default signal dispositions and an empty signal mask (a
// server that ignores SIGPIPE must not hand that to its jobs).
class SpawnLauncher : public ProcessLauncher {
 public:
  explicit SpawnLauncher(MicrosClock clock = RealNowMicros) : clock_(std::move(clock)) {}
  StatusOr<std::unique_ptr<Process>> Launch(const ProcessSpec& spec) override;

 private:
  MicrosClock clock_;
};

// Start time of process `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat): with
// the pid it identifies a process even after the pid is reused. A zombie still has one.
// nullopt when there is no such process.
std::optional<int64_t> ProcessStartTicks(pid_t pid);
// Whether `pid` runs (exists and is not a zombie) and, when `start_ticks` is given, is the
// process that started then rather than a later one that reused the pid.
bool ProcessRunning(pid_t pid, std::optional<int64_t> start_ticks = std::nullopt);

// "TERM", "KILL", ... (thread-safe, unlike strsignal); "signal N" when unknown.
std::string SignalName(int sig);
// The message of errno value `err` (thread-safe, unlike strerror).
std::string ErrnoMessage(int err);

}  // namespace sagebox::jobs
