#include "jobs/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace sagebox::jobs {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Without pidfd_open (kernels before 5.3) Wait() falls back to looking this often.
constexpr milliseconds kPollSlice{10};

// A descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// posix_spawn's attribute and file-action objects, destroyed with the scope.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Opens a log file for the child in the parent, so a bad path is reported precisely instead
// of as a child that could not start. O_CLOEXEC: only the dup2 in the child survives exec.
StatusOr<int> OpenLog(const std::string& path, const char* what) {
  const char* p = path.empty() ? "/dev/null" : path.c_str();
  int fd = ::open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return IoError(std::string("cannot open the ") + what + " log " + p + ": " +
                   ErrnoMessage(errno));
  }
  return fd;
}

// This process's environment with `extra` added or overriding ("KEY=VALUE" strings).
std::vector<std::string> ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    bool overridden =
        std::any_of(extra.begin(), extra.end(), [&](const auto& x) { return x.first == key; });
    if (!overridden) out.emplace_back(kv);
  }
  for (const auto& [k, v] : extra) {
    std::string kv = k;
    kv += '=';
    kv += v;
    out.push_back(std::move(kv));
  }
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Signals a whole process group; ESRCH (nobody left) is fine.
void SignalGroup(pid_t pgid, int sig) { (void)::kill(-pgid, sig); }

}  // namespace

int64_t RealNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ErrnoMessage(int err) { return std::system_category().message(err); }

std::string SignalName(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? std::string(abbrev) : "signal " + std::to_string(sig);
}

std::string ProcessResult::Describe() const {
  std::string out;
  if (exit_code) {
    out = "exit code " + std::to_string(*exit_code);
  } else if (signal != 0) {
    out = "killed by signal " + SignalName(signal);
  } else {
    out = "ended";
  }
  if (killed) out += " (SIGKILL after the grace period: SIGTERM was not enough)";
  return out;
}

namespace {

struct ProcStat {
  char state = '?';
  int64_t start_ticks = 0;
};

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and ')', so parse after the last ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  ProcStat st;
  // Field 3 is the state; starttime is field 22, the 20th after the comm.
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
    if (i == 3) st.state = field.empty() ? '?' : field[0];
  }
  try {
    st.start_ticks = std::stoll(field);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return st;
}

}  // namespace

std::optional<int64_t> ProcessStartTicks(pid_t pid) {
  auto st = ReadProcStat(pid);
  return st ? std::optional<int64_t>(st->start_ticks) : std::nullopt;
}

bool ProcessRunning(pid_t pid, std::optional<int64_t> start_ticks) {
  auto st = ReadProcStat(pid);
  // 'Z' zombie, 'X' dead: ended, only not reaped yet.
  if (!st || st->state == 'Z' || st->state == 'X') return false;
  return !start_ticks || st->start_ticks == *start_ticks;
}

Process::Process(pid_t pid, const ProcessSpec& spec, MicrosClock clock, int64_t started_us)
    : pid_(pid),
      time_limit_(spec.time_limit),
      stop_grace_(spec.stop_grace),
      clock_(std::move(clock)),
      started_(steady_clock::now()),
      started_us_(started_us) {
  // The raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C" and does not link from C++.
  // A pidfd is close-on-exec by default.
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  wakefd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Process::~Process() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!result_) {
      // Nobody waited: stop the whole group now and reap the leader (SIGKILL cannot be
      // ignored, so this wait is short).
      SignalGroup(pid_, SIGKILL);
      siginfo_t info{};
      while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) == -1 && errno == EINTR) {
      }
    }
  }
  if (pidfd_ >= 0) ::close(pidfd_);
  if (wakefd_ >= 0) ::close(wakefd_);
}

bool Process::LeaderExitedLocked() {
  if (result_) return true;
  siginfo_t info{};
  int rc = 0;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (rc == -1 && errno == EINTR);
  // ECHILD: someone else reaped our child (a caller's waitpid(-1)); treat it as ended.
  return rc == -1 || info.si_pid != 0;
}

void Process::StopLocked(StopReason why) {
  if (stop_ != StopReason::kNone || LeaderExitedLocked()) return;
  stop_ = why;
  SignalGroup(pid_, SIGTERM);
  // A stopped (SIGSTOP) member would only act on SIGTERM once continued.
  SignalGroup(pid_, SIGCONT);
  kill_at_ = steady_clock::now() + stop_grace_;
  if (wakefd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(wakefd_, &one, sizeof one);  // wake a Wait() blocked in poll()
  }
}

void Process::EnforceDeadlinesLocked(SteadyTime now) {
  if (result_) return;
  if (time_limit_ && stop_ == StopReason::kNone && now >= started_ + *time_limit_) {
    StopLocked(StopReason::kTimeLimit);
  }
  if (kill_at_ && !killed_ && now >= *kill_at_ && !LeaderExitedLocked()) {
    SignalGroup(pid_, SIGKILL);
    killed_ = true;
  }
}

std::optional<Process::SteadyTime> Process::NextDeadlineLocked() const {
  std::optional<SteadyTime> next;
  if (time_limit_ && stop_ == StopReason::kNone) next = started_ + *time_limit_;
  if (kill_at_ && !killed_ && (!next || *kill_at_ < *next)) next = kill_at_;
  return next;
}

bool Process::ReapIfExitedLocked() {
  if (result_) return true;
  if (!LeaderExitedLocked()) return false;
  // The leader has exited but is not reaped yet, so its pid (the group id) is still ours:
  // kill whatever it left behind in its group, then reap it.
  SignalGroup(pid_, SIGKILL);
  siginfo_t info{};
  int rc = 0;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED);
  } while (rc == -1 && errno == EINTR);
  ProcessResult r;
  r.started_us = started_us_;
  if (rc == 0 && info.si_code == CLD_EXITED) {
    r.exit_code = info.si_status;
  } else if (rc == 0) {
    r.signal = info.si_status;  // CLD_KILLED or CLD_DUMPED
  }
  r.timed_out = stop_ == StopReason::kTimeLimit;
  r.cancelled = stop_ == StopReason::kCancel;
  r.killed = killed_;
  r.ended_us = clock_();
  result_ = r;
  return true;
}

void Process::Block(milliseconds max_wait) {
  pollfd fds[2] = {{wakefd_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
  nfds_t n = pidfd_ >= 0 ? 2 : 1;
  if (pidfd_ < 0) max_wait = std::min(max_wait, kPollSlice);
  // Round up: waking a moment early would only spin until the deadline.
  auto ms = static_cast<int>(std::clamp<int64_t>(max_wait.count() + 1, 0, 60'000));
  if (::poll(fds, n, ms) > 0 && (fds[0].revents & POLLIN) != 0) {
    uint64_t drained = 0;
    (void)!::read(wakefd_, &drained, sizeof drained);
  }
}

std::optional<ProcessResult> Process::Wait(milliseconds timeout) {
  const SteadyTime deadline = steady_clock::now() + timeout;
  while (true) {
    SteadyTime now = steady_clock::now();
    std::optional<SteadyTime> wake;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (ReapIfExitedLocked()) return result_;
      EnforceDeadlinesLocked(now);
      wake = NextDeadlineLocked();
    }
    if (now >= deadline) return std::nullopt;
    SteadyTime until = wake ? std::min(deadline, *wake) : deadline;
    Block(std::chrono::ceil<milliseconds>(std::max(until - now, steady_clock::duration::zero())));
  }
}

ProcessResult Process::WaitForever() {
  while (true) {
    if (auto r = Wait(std::chrono::hours(1))) return *r;
  }
}

bool Process::Cancel() {
  std::lock_guard<std::mutex> l(mu_);
  if (stop_ != StopReason::kNone) return true;
  if (result_ || LeaderExitedLocked()) return false;
  StopLocked(StopReason::kCancel);
  return true;
}

StatusOr<std::unique_ptr<Process>> SpawnLauncher::Launch(const ProcessSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return InvalidArgument("a process needs a program to run (argv is empty)");
  }
  const std::string& program = spec.argv[0];
  if (!spec.working_dir.empty()) {
    struct stat st {};
    if (::stat(spec.working_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return IoError("cannot start " + program + ": working directory " + spec.working_dir +
                     " is not a directory");
    }
  }
  ASSIGN_OR_RETURN(int out_fd, OpenLog(spec.stdout_path, "stdout"));
  Fd out(out_fd);
  int err_fd = -1;
  if (spec.stderr_path != spec.stdout_path) {
    ASSIGN_OR_RETURN(err_fd, OpenLog(spec.stderr_path, "stderr"));
  }
  Fd err(err_fd);

  SpawnSetup s;
  posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&s.actions, out.get(), 1);
  posix_spawn_file_actions_adddup2(&s.actions, err.get() >= 0 ? err.get() : out.get(), 2);
  // Nothing else this server has open (sockets, the database, other jobs' logs) leaks in,
  // even a descriptor another thread opened without O_CLOEXEC.
  posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
  // After the opens, so relative log paths are relative to the server, not the job.
  if (!spec.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&s.actions, spec.working_dir.c_str());
  }
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setsigdefault(&s.attr, &all);
  posix_spawnattr_setpgroup(&s.attr, 0);  // a new group led by the child
  posix_spawnattr_setflags(
      &s.attr,
      static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));

  std::vector<std::string> argv_strings = spec.argv;
  std::vector<std::string> env_strings = ChildEnvironment(spec.env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);
  pid_t pid = 0;
  int64_t started_us = clock_();
  int rc = ::posix_spawnp(&pid, program.c_str(), &s.actions, &s.attr, argv.data(), envp.data());
  if (rc != 0) {
    std::string msg = "cannot start " + program + ": " + ErrnoMessage(rc);
    return rc == ENOENT ? NotFound(msg) : IoError(msg);
  }
  return std::make_unique<Process>(pid, spec, clock_, started_us);
}

ProcessLauncher* ProcessLauncher::Default() {
  static SpawnLauncher* launcher = new SpawnLauncher();  // never destroyed: used at exit
  return launcher;
}

}  // namespace sagebox::jobs
