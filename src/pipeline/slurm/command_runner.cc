#include "pipeline/slurm/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace sagebox::pipeline::slurm {
namespace {

// A descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string ErrnoText(int err) {
  std::array<char, 256> buf{};
  // GNU strerror_r returns the message (maybe not in buf); thread-safe unlike strerror.
  return ::strerror_r(err, buf.data(), buf.size());
}

// This process's environment with `a` then `b` added or overriding ("KEY=VALUE").
std::vector<std::string> ChildEnvironment(const EnvList& a, const EnvList& b) {
  std::vector<std::string> out;
  auto overridden = [&](std::string_view key) {
    auto same = [&](const auto& x) { return x.first == key; };
    return std::any_of(a.begin(), a.end(), same) || std::any_of(b.begin(), b.end(), same);
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (!overridden(kv.substr(0, kv.find('=')))) out.emplace_back(kv);
  }
  auto in_b = [&](const std::string& key) {
    return std::any_of(b.begin(), b.end(), [&](const auto& x) { return x.first == key; });
  };
  for (const EnvList* list : {&a, &b}) {
    for (const auto& kv : *list) {
      if (list == &a && in_b(kv.first)) continue;  // b overrides a
      std::string entry = kv.first;
      entry += '=';
      entry += kv.second;
      out.push_back(std::move(entry));
    }
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

}  // namespace

StatusOr<CommandResult> SpawnCommandRunner::Run(const CommandRequest& request) {
  if (request.argv.empty()) return InvalidArgument("cannot run an empty command");
  const std::string& program = request.argv[0];

  // stdin as an anonymous in-memory file rather than a pipe: the child reads it at its own
  // pace, and we never write to a pipe whose reader has gone (SIGPIPE).
  int in_fd = ::memfd_create("sagebox-stdin", MFD_CLOEXEC);
  if (in_fd < 0) return IoError("cannot run " + program + ": memfd_create: " + ErrnoText(errno));
  Fd in(in_fd);
  for (size_t done = 0; done < request.stdin_text.size();) {
    ssize_t n =
        ::write(in.get(), request.stdin_text.data() + done, request.stdin_text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot run " + program + ": writing stdin: " + ErrnoText(errno));
    done += static_cast<size_t>(n);
  }
  if (::lseek(in.get(), 0, SEEK_SET) != 0) {
    return IoError("cannot run " + program + ": lseek: " + ErrnoText(errno));
  }

  std::array<int, 2> out_pipe{-1, -1};
  std::array<int, 2> err_pipe{-1, -1};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
    return IoError("cannot run " + program + ": pipe: " + ErrnoText(errno));
  }
  Fd out_r(out_pipe[0]);
  Fd out_w(out_pipe[1]);
  if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    return IoError("cannot run " + program + ": pipe: " + ErrnoText(errno));
  }
  Fd err_r(err_pipe[0]);
  Fd err_w(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           static_cast<short>(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));

  std::vector<std::string> argv_strings = request.argv;
  std::vector<std::string> env_strings = ChildEnvironment(env_, request.env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::string msg = "cannot run " + program + ": " + ErrnoText(rc);
    return rc == ENOENT ? NotFound(msg) : IoError(msg);
  }
  // Only the child may hold the write ends, or we would never see end of file.
  out_w.Reset();
  err_w.Reset();
  in.Reset();

  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + time_limit_;
  bool out_open = true;
  bool err_open = true;
  bool timed_out = false;
  std::array<char, 65536> buf{};
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    std::array<pollfd, 2> fds{};
    fds[0] = {out_open ? out_r.get() : -1, POLLIN, 0};
    fds[1] = {err_open ? err_r.get() : -1, POLLIN, 0};
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      (i == 0 ? result.stdout_text : result.stderr_text).append(buf.data(), got);
    }
  }
  if (timed_out) (void)::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return IoError("waiting for " + program + ": " + ErrnoText(errno));
  }
  if (timed_out) {
    return ResourceExhausted(program + " did not finish within " +
                             std::to_string(time_limit_.count()) + " ms and was killed");
  }
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_code = 128 + WTERMSIG(wstatus);
  }
  return result;
}

}  // namespace sagebox::pipeline::slurm
