// progress.h: a one-line progress display for long work on a terminal.
//
// Shows bytes done / total, rows, rows per second and an ETA on stderr,
// redrawn at most 10 times a second. It is silent when stderr is not a
// terminal (piped, CI), so scripts see clean output.
//
// Thread-safety: one owner; call Update() from the working thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sagebox {

class Progress {
 public:
  // `enabled` = false makes every call a no-op; Progress::StderrIsTerminal() asks
  // isatty(stderr).
  Progress(std::string label, bool enabled);
  static bool StderrIsTerminal();
  ~Progress();

  void Update(uint64_t bytes_done, uint64_t bytes_total, uint64_t rows);
  // Clears the line.
  void Done();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// "1.5 GB", "12.0 MB", "900 B".
std::string HumanBytes(uint64_t n);

}  // namespace sagebox
