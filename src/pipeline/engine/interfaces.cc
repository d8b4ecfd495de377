#include "pipeline/engine/interfaces.h"

#include <fmt/format.h>

#include <algorithm>

namespace sagebox::pipeline::engine {

std::shared_ptr<CancelToken> CancelToken::Make() { return std::make_shared<CancelToken>(); }

std::shared_ptr<CancelToken> CancelToken::Child() {
  auto child = Make();
  std::string why;
  {
    std::lock_guard lock(mu_);
    if (!cancelled()) {
      // Drop children that are gone, so a long-lived parent (a Map of 10,000 iterations) does
      // not accumulate them.
      std::erase_if(children_, [](const std::weak_ptr<CancelToken>& w) { return w.expired(); });
      children_.push_back(child);
      return child;
    }
    why = reason_;
  }
  child->Cancel(why);
  return child;
}

void CancelToken::Cancel(const std::string& reason) {
  std::vector<std::weak_ptr<CancelToken>> children;
  std::map<uint64_t, std::function<void()>> callbacks;
  {
    std::lock_guard lock(mu_);
    if (cancelled()) return;
    reason_ = reason;
    cancelled_.store(true, std::memory_order_release);
    children.swap(children_);
    callbacks.swap(callbacks_);
  }
  cv_.notify_all();
  {
    std::lock_guard lock(callback_mu_);
    for (auto& [handle, fn] : callbacks) fn();
  }
  for (auto& w : children) {
    if (auto c = w.lock()) c->Cancel(reason);
  }
}

std::string CancelToken::reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

uint64_t CancelToken::OnCancel(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!cancelled()) {
      uint64_t h = next_handle_++;
      callbacks_.emplace(h, std::move(fn));
      return h;
    }
  }
  fn();
  return 0;
}

void CancelToken::Unregister(uint64_t handle) {
  {
    std::lock_guard lock(mu_);
    callbacks_.erase(handle);
  }
  // A Cancel that already took the callback may be running it: wait for it to finish.
  std::lock_guard wait(callback_mu_);
}

bool CancelToken::WaitFor(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return cancelled(); });
}

// ---------------------------------------------------------------------------------------------

int64_t SystemClock::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool SystemClock::SleepUntil(int64_t deadline_ms, CancelToken& cancel) {
  while (!cancel.cancelled()) {
    int64_t left = deadline_ms - NowMs();
    if (left <= 0) return true;
    if (cancel.WaitFor(std::chrono::milliseconds(left))) return false;
  }
  return false;
}

bool SystemClock::WatchUntil(int64_t deadline_ms, CancelToken& cancel) {
  return SleepUntil(deadline_ms, cancel);
}

int64_t FakeClock::NowMs() {
  std::lock_guard lock(mu_);
  return now_;
}

bool FakeClock::SleepUntil(int64_t deadline_ms, CancelToken& cancel) {
  if (cancel.cancelled()) return false;
  {
    std::lock_guard lock(mu_);
    sleeps_.push_back(std::max<int64_t>(deadline_ms - now_, 0));
    now_ = std::max(now_, deadline_ms);
  }
  cv_.notify_all();
  return !cancel.cancelled();
}

bool FakeClock::WatchUntil(int64_t deadline_ms, CancelToken& cancel) {
  uint64_t h = cancel.OnCancel([this] {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  });
  bool reached = false;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return now_ >= deadline_ms || cancel.cancelled(); });
    reached = now_ >= deadline_ms && !cancel.cancelled();
  }
  cancel.Unregister(h);
  return reached;
}

void FakeClock::Advance(int64_t ms) {
  {
    std::lock_guard lock(mu_);
    now_ += ms;
  }
  cv_.notify_all();
}

std::vector<int64_t> FakeClock::sleeps() const {
  std::lock_guard lock(mu_);
  return sleeps_;
}

// ---------------------------------------------------------------------------------------------

SeededRandom::SeededRandom(std::optional<uint64_t> seed)
    : gen_(seed ? *seed : (uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {}

double SeededRandom::Uniform01() {
  std::lock_guard lock(mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen_);
}

uint64_t SeededRandom::Next64() {
  std::lock_guard lock(mu_);
  return gen_();
}

std::string SeededRandom::Uuid() {
  uint64_t hi = 0;
  uint64_t lo = 0;
  {
    std::lock_guard lock(mu_);
    hi = gen_();
    lo = gen_();
  }
  // Version 4 and the RFC 4122 variant bits.
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

// ---------------------------------------------------------------------------------------------

void MemoryJournal::OnEvent(const nlohmann::json& event) {
  std::lock_guard lock(mu_);
  events_.push_back(event);
}

void MemoryJournal::OnCheckpoint(const Checkpoint& checkpoint) {
  std::lock_guard lock(mu_);
  checkpoints_.push_back(checkpoint);
}

std::vector<nlohmann::json> MemoryJournal::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::vector<Checkpoint> MemoryJournal::checkpoints() const {
  std::lock_guard lock(mu_);
  return checkpoints_;
}

}  // namespace sagebox::pipeline::engine
