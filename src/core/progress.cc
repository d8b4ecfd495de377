#include "core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace sagebox {

Progress::Progress(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { Done(); }

bool Progress::StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 999.95 && u < 4) {  // so 999,999 B prints as 1.0 MB, not 1000.0 KB
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

void Progress::Update(uint64_t done, uint64_t total, uint64_t rows) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(rows) / secs : 0;
  std::string eta = "--:--";
  if (done > 0 && total >= done && secs > 0.5) {
    double left = secs * static_cast<double>(total - done) / static_cast<double>(done);
    eta = fmt::format("{}:{:02}", static_cast<int>(left) / 60, static_cast<int>(left) % 60);
  }
  std::string line = fmt::format("\r{}: {} / {}  {} rows  {:.0f} rows/s  ETA {}\x1b[K", label_,
                                 HumanBytes(done), HumanBytes(total), rows, rate, eta);
  (void)std::fputs(line.c_str(), stderr);  // a lost progress line is harmless
  (void)std::fflush(stderr);
  drawn_ = true;
}

void Progress::Done() {
  if (enabled_ && drawn_) {
    (void)std::fputs("\r\x1b[K", stderr);
    (void)std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace sagebox
