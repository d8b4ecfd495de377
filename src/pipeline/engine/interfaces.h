// interfaces.h: what the ASL engine (engine.h) needs from the outside world, as interfaces the
// integrator implements: who runs a Task (TaskDispatcher), what time it is and how to wait
// (Clock), where randomness comes from (RandomSource), where history events and checkpoints go
// (ExecutionJournal), and how work is stopped (CancelToken).
//
// Fakes for tests and benchmarks (FakeClock, SeededRandom, MemoryJournal) live here too, so the
// integrator's own tests can drive the engine deterministically.
//
// Thread-safety: the engine calls TaskDispatcher::Dispatch, Clock and RandomSource from several
// threads at once (Map iterations and Parallel branches run concurrently); implementations must
// be thread-safe. ExecutionJournal calls are serialised by the engine (one at a time, in event
// order). CancelToken is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "pipeline/asl/errors.h"

namespace sagebox::pipeline::engine {

// A one-way switch that stops work: an execution's Stop, a failing Parallel branch stopping its
// siblings, a Task's time-out. Tokens form a tree: cancelling one cancels every child made by
// Child(); the first reason given is kept.
class CancelToken : public std::enable_shared_from_this<CancelToken> {
 public:
  static std::shared_ptr<CancelToken> Make();
  // A token cancelled when this one is (at once when this one already is).
  std::shared_ptr<CancelToken> Child();

  // Idempotent: the first call records `reason`, runs the callbacks, cancels the children.
  void Cancel(const std::string& reason);
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  std::string reason() const;

  // Runs `fn` once when the token is cancelled: at once, on this thread, when it already is.
  // Returns a handle for Unregister. `fn` must not call Unregister on this token.
  uint64_t OnCancel(std::function<void()> fn);
  // After this returns, the callback is not running and will not run.
  void Unregister(uint64_t handle);

  // Blocks in real time until cancelled or `timeout` passed; true when cancelled.
  bool WaitFor(std::chrono::milliseconds timeout) const;

 private:
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::mutex callback_mu_;  // held while callbacks run, so Unregister can wait for them
  std::string reason_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, std::function<void()>> callbacks_;
  std::vector<std::weak_ptr<CancelToken>> children_;
};

// Time for the engine: Wait states, retry back-off, Task and execution time-outs, event
// timestamps. Milliseconds since the Unix epoch.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() = 0;
  // The engine's own waiting (a Wait state, a retry's back-off): returns once NowMs() >=
  // deadline_ms (true) or `cancel` fired (false). A fake clock advances itself here.
  virtual bool SleepUntil(int64_t deadline_ms, CancelToken& cancel) = 0;
  // A watchdog's waiting for a deadline while other work runs (Task and execution
  // time-outs): like SleepUntil, except that a fake clock does not advance for it; it returns
  // when someone else's sleep or Advance reaches the deadline.
  virtual bool WatchUntil(int64_t deadline_ms, CancelToken& cancel) = 0;
};

// The real clock (std::chrono::system_clock); waits are interruptible by the token.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() override;
  bool SleepUntil(int64_t deadline_ms, CancelToken& cancel) override;
  bool WatchUntil(int64_t deadline_ms, CancelToken& cancel) override;
};

// A clock for tests: time moves only by Advance and by SleepUntil (which jumps to its deadline
// at once and records how long it "slept"), so Wait states and back-off cost no real time.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1700000000000) : now_(start_ms) {}
  int64_t NowMs() override;
  bool SleepUntil(int64_t deadline_ms, CancelToken& cancel) override;
  bool WatchUntil(int64_t deadline_ms, CancelToken& cancel) override;
  // Moves time forward and wakes the watchdogs whose deadline passed.
  void Advance(int64_t ms);
  // Every SleepUntil's duration (deadline - now at the call, ms), in call order.
  std::vector<int64_t> sleeps() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t now_;
  std::vector<int64_t> sleeps_;
};

// Randomness: FULL jitter, States.MathRandom without a seed, States.UUID.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual double Uniform01() = 0;  // in [0, 1]
  virtual uint64_t Next64() = 0;
  virtual std::string Uuid() = 0;  // RFC 4122 version 4, lowercase
};

// mt19937_64 under a mutex; seeded for tests, from std::random_device otherwise.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::optional<uint64_t> seed = std::nullopt);
  double Uniform01() override;
  uint64_t Next64() override;
  std::string Uuid() override;

 private:
  std::mutex mu_;
  std::mt19937_64 gen_;
};

// Where a Task attempt sits in a Map's fan-out, for executors that submit a whole fan-out at
// once (a Slurm job array): the attempts of one state in one Map run with the same `map_key`
// and `state_name` and `attempt` are one batch, `index` is the iteration's place in it.
struct FanOut {
  std::string map_key;          // the Map state's key, "Stages/3/Candidates"
  int64_t index = 0;            // $$.Map.Item.Index
  int64_t size = 0;             // the Map's iteration count
  int64_t max_concurrency = 0;  // the Map's MaxConcurrency (0: no limit)
};

// One Task attempt as the dispatcher sees it.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct TaskRequest {
  std::string resource;       // the state's Resource (a URI such as arn:aws:states:::...)
  nlohmann::json parameters;  // the effective parameters: after InputPath and Parameters
  nlohmann::json context;     // the `$$` object of this attempt
  std::string state_key;      // stable across attempts and redrives: "Stages/3/Train"
  std::string state_name;     // "Train"
  int64_t attempt = 1;        // 1 for the first try, 2 for the first retry, ...
  std::optional<int64_t> timeout_seconds;    // TimeoutSeconds(Path), when set
  std::optional<int64_t> heartbeat_seconds;  // HeartbeatSeconds, when set
  std::shared_ptr<CancelToken> cancel;       // fires on Stop, time-out, or a sibling's failure
  // Set inside a Map iteration (the innermost Map): where the attempt sits in its fan-out.
  std::optional<FanOut> fan_out;
  // Optional: a `.sync` job that was created reports its creation response here (the engine
  // records a TaskSubmitted event). May be called once, from the dispatching thread.
  std::function<void(const nlohmann::json&)> submitted;
};

// Runs Tasks. Dispatch blocks until the task ends and is called concurrently from engine
// threads. It returns the raw result, or the task's error (e.g.
// "SageMaker.AmazonSageMakerException", "States.TaskFailed") with a cause; when `cancel` fires it
// should stop the work and return soon (the engine then ignores the result). It must not throw.
class TaskDispatcher {
 public:
  virtual ~TaskDispatcher() = default;
  virtual asl::AslOr<nlohmann::json> Dispatch(const TaskRequest& request) = 0;
};

// A completed state: `output` is what it passed on and `next` the state it transitioned to
// (empty when it ended its scope). Keys also name whole Map iterations ("Stages/3") and
// Parallel branches ("Fork/branch-1").
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct Checkpoint {
  std::string key;
  nlohmann::json output;
  std::string next;
};

// Where an execution's history goes as it happens. Calls are serialised, in event order; an
// implementation must not block for long (it runs under the engine's journal lock) and must
// not call back into the engine. Failures to persist are the implementation's to handle.
class ExecutionJournal {
 public:
  virtual ~ExecutionJournal() = default;
  virtual void OnEvent(const nlohmann::json& event) = 0;
  virtual void OnCheckpoint(const Checkpoint& checkpoint) = 0;
};

// Keeps everything in memory (tests; a resume in the same process).
class MemoryJournal final : public ExecutionJournal {
 public:
  void OnEvent(const nlohmann::json& event) override;
  void OnCheckpoint(const Checkpoint& checkpoint) override;
  std::vector<nlohmann::json> events() const;
  std::vector<Checkpoint> checkpoints() const;

 private:
  mutable std::mutex mu_;
  std::vector<nlohmann::json> events_;
  std::vector<Checkpoint> checkpoints_;
};

}  // namespace sagebox::pipeline::engine
