#include "endpoint/python/python_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "endpoint/kserve_codec.h"

extern char** environ;

namespace sagebox::endpoint {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A header larger than this is a broken child, not a big tensor (tensors are buffers).
constexpr uint32_t kMaxHeaderBytes = 256u << 20;
// One tensor buffer; far above any model's output, below what would exhaust memory.
constexpr uint64_t kMaxBufferBytes = 16ull << 30;
// The fd the child finds its end of the socketpair on (argv says so too).
constexpr int kChildFd = 3;
// How many lines of the child's log a crash report quotes.
constexpr size_t kLogTailLines = 8;

std::string ErrnoText(int err) { return std::system_category().message(err); }

std::string SignalText(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig);
}

// How a reaped child ended, from waitpid's status.
std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + SignalText(WTERMSIG(status));
  return "ended (wait status " + std::to_string(status) + ")";
}

// The last `n` non-empty lines of a log file, joined with " | "; "" if unreadable or empty.
std::string LogTail(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  // The tail is what explains a crash; 8 KiB holds a traceback's end.
  const std::streamoff start = std::max<std::streamoff>(0, size - 8192);
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(std::move(line));
    pos = end + 1;
  }
  if (start > 0 && !lines.empty()) lines.erase(lines.begin());  // likely cut in the middle
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  return out;
}

// ---- The frame protocol (see sagebox_python_runner.py) ----

// Writes all of `data`; MSG_NOSIGNAL so a dead child is an EPIPE, not a SIGPIPE
// that would end the server.
Status SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write to the child: " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads exactly `n` bytes into `out`. `deadline` unset = wait for ever. IoError when
// the child closed its end (it died) or the deadline passed.
Status RecvExact(int fd, char* out, size_t n, std::optional<steady_clock::time_point> deadline) {
  while (n > 0) {
    if (deadline) {
      auto left = std::chrono::duration_cast<milliseconds>(*deadline - steady_clock::now()).count();
      if (left <= 0) return IoError("the child did not answer in time");
      pollfd p{fd, POLLIN, 0};
      int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
      if (rc < 0 && errno != EINTR) return IoError("poll: " + ErrnoText(errno));
      if (rc <= 0) continue;
    }
    ssize_t got = ::recv(fd, out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read from the child: " + ErrnoText(errno));
    }
    if (got == 0) return IoError("the child closed the connection");
    out += got;
    n -= static_cast<size_t>(got);
  }
  return Status::Ok();
}

Status SendMessage(int fd, json header, const std::vector<std::string_view>& buffers) {
  json sizes = json::array();
  for (auto b : buffers) sizes.push_back(b.size());
  header["buffers"] = std::move(sizes);
  // A request id or tensor name may hold bytes that are not UTF-8; dump() would throw.
  std::string text = header.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string frame(4, '\0');
  const auto len = static_cast<uint32_t>(text.size());
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  frame += text;
  RETURN_IF_ERROR(SendAll(fd, frame));
  for (auto b : buffers) RETURN_IF_ERROR(SendAll(fd, b));
  return Status::Ok();
}

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct Message {
  json header;
  std::vector<std::string> buffers;
};

// IoError when the connection broke (the child died); Internal for a frame that
// breaks the protocol.
StatusOr<Message> RecvMessage(int fd, std::optional<steady_clock::time_point> deadline) {
  unsigned char len_bytes[4];
  RETURN_IF_ERROR(RecvExact(fd, reinterpret_cast<char*>(len_bytes), 4, deadline));
  uint32_t len = 0;
  for (int i = 3; i >= 0; --i) len = (len << 8) | len_bytes[i];
  if (len > kMaxHeaderBytes) {
    return Internal("protocol: a header of " + std::to_string(len) + " bytes");
  }
  std::string text(len, '\0');
  RETURN_IF_ERROR(RecvExact(fd, text.data(), len, deadline));
  Message m;
  try {
    m.header = json::parse(text);
    if (!m.header.is_object()) return Internal("protocol: the header is not a JSON object");
    for (const auto& size : m.header.value("buffers", json::array())) {
      auto n = size.get<uint64_t>();
      if (n > kMaxBufferBytes) return Internal("protocol: a buffer of " + std::to_string(n));
      std::string buf(n, '\0');
      RETURN_IF_ERROR(RecvExact(fd, buf.data(), buf.size(), deadline));
      m.buffers.push_back(std::move(buf));
    }
  } catch (const json::exception& e) {
    return Internal(std::string("protocol: bad header: ") + e.what());
  }
  return m;
}

// BYTES elements as Triton lays them out: a 4-byte little-endian length, then the bytes.
std::string PackStrings(const std::vector<std::string>& strings) {
  std::string out;
  for (const auto& s : strings) {
    const auto n = static_cast<uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out += s;
  }
  return out;
}

StatusOr<std::vector<std::string>> UnpackStrings(std::string_view buf) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < buf.size()) {
    if (buf.size() - pos < 4) return Internal("protocol: a BYTES element cut in its length");
    uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(buf[pos + i]);
    pos += 4;
    if (buf.size() - pos < n) return Internal("protocol: a BYTES element cut short");
    out.emplace_back(buf.substr(pos, n));
    pos += n;
  }
  return out;
}

// ---- ModelConfig as Triton's JSON ----

std::string InstanceKindName(const ModelConfig& c) {
  if (c.instance_groups.empty()) return "CPU";
  switch (c.instance_groups.front().kind) {
    case InstanceKind::kGpu:
      return "GPU";
    case InstanceKind::kModel:
      return "MODEL";
    case InstanceKind::kAuto:
    case InstanceKind::kCpu:
      break;
  }
  return "CPU";
}

// ---- Files ----

Status WriteFile(Env* env, const std::string& path, std::string_view data) {
  ASSIGN_OR_RETURN(auto file, env->OpenWritable(path));
  RETURN_IF_ERROR(file->Append(data));
  return file->Close();
}

// ---- One instance: one child ----

class PythonInstance final : public PythonModelInstance {
 public:
  PythonInstance(const PythonBackendOptions& options, const ModelSource& source, int index)
      : options_(options), source_(source), index_(index) {
    auto it = source.config.parameters.find("EXECUTION_ENV_PATH");
    if (it != source.config.parameters.end()) execution_env_path_ = it->second;
    model_file_ = source.config.default_model_filename.empty()
                      ? "model.py"
                      : source.config.default_model_filename;
    what_ = "python model '" + source.name + "' instance " + std::to_string(index);
  }

  ~PythonInstance() override {
    try {
      StopChild(/*finalize=*/true);
      if (!temp_dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(temp_dir_, ec);  // best effort: a leftover is only litter
      }
    } catch (const std::exception&) {
      // Only std::bad_alloc can get here; the child must still not outlive us.
      KillNow();
    }
  }

  PythonInstance(const PythonInstance&) = delete;
  PythonInstance& operator=(const PythonInstance&) = delete;

  // Writes the runner and pb_utils to a private temp dir, then starts the child.
  Status Init() {
    std::string model_path = JoinPath(source_.version_dir, model_file_);
    if (!options_.env->Exists(model_path)) {
      return BadInput(model_path + ": not found (a python model needs " + model_file_ +
                      " in its version folder)");
    }
    std::string parent = options_.temp_dir;
    if (parent.empty()) {
      const char* tmp = ::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): read-only use
      parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    std::string templ = JoinPath(parent, "sagebox-python-XXXXXX");
    if (::mkdtemp(templ.data()) == nullptr) {
      return IoError("cannot create a temp dir in " + parent + ": " + ErrnoText(errno));
    }
    temp_dir_ = templ;
    runner_path_ = JoinPath(temp_dir_, "sagebox_python_runner.py");
    RETURN_IF_ERROR(WriteFile(options_.env, runner_path_, python_sources::kRunner));
    RETURN_IF_ERROR(WriteFile(options_.env, JoinPath(temp_dir_, "triton_python_backend_utils.py"),
                              python_sources::kUtils));
    log_path_ =
        options_.log_dir.empty()
            ? JoinPath(temp_dir_, "python.log")
            : JoinPath(options_.log_dir, source_.name + "_" + std::to_string(index_) + ".log");
    return StartChild();
  }

  std::vector<StatusOr<InferResponse>> Execute(
      const std::vector<const InferRequest*>& batch) override {
    std::vector<StatusOr<InferResponse>> results(batch.size(), Internal("not run"));
    if (sock_ < 0) {
      // The previous child died (reported then): this request starts a new one.
      Status started = StartChild();
      if (!started.ok()) {
        std::fill(results.begin(), results.end(), StatusOr<InferResponse>(started));
        return results;
      }
    }
    // Requests the child can take; the others already hold their InvalidArgument.
    std::vector<size_t> sent;
    std::deque<std::string> packed;  // BYTES buffers, alive until sent
    std::vector<std::string_view> buffers;
    json requests = json::array();
    for (size_t i = 0; i < batch.size(); ++i) {
      const InferRequest& r = *batch[i];
      json inputs = json::array();
      Status bad;
      for (const Tensor& t : r.inputs) {
        if (t.datatype == DataType::kBf16 || t.datatype == DataType::kInvalid) {
          bad = InvalidArgument("input '" + t.name + "': datatype " +
                                std::string(TritonTypeName(t.datatype)) +
                                " has no numpy type, so the python backend cannot pass it");
          break;
        }
        if (t.datatype == DataType::kString) {
          packed.push_back(PackStrings(t.strings));
          buffers.emplace_back(packed.back());
        } else {
          buffers.emplace_back(t.data);
        }
        inputs.push_back(json{{"name", t.name},
                              {"datatype", ToKServeDatatype(t.datatype)},
                              {"shape", t.shape},
                              {"buffer", buffers.size() - 1}});
      }
      if (!bad.ok()) {
        results[i] = bad;
        continue;
      }
      json outputs = json::array();
      for (const auto& o : r.outputs) outputs.push_back(o.name);
      requests.push_back(json{{"id", r.id}, {"inputs", inputs}, {"outputs", outputs}});
      sent.push_back(i);
    }
    if (sent.empty()) return results;
    // Buffers of requests rejected above were never referenced by a header; that
    // is fine: the runner indexes buffers by number and ignores the rest.
    auto reply = Call(json{{"cmd", "execute"}, {"requests", std::move(requests)}}, buffers,
                      std::nullopt, "execute");
    if (!reply.ok()) {
      for (size_t i : sent) results[i] = reply.status();
      return results;
    }
    try {
      const json& header = reply->header;
      if (!header.at("ok").get<bool>()) {
        Status failed =
            Internal(what_ + ": execute() raised " + header.at("error").get<std::string>());
        for (size_t i : sent) results[i] = failed;
        return results;
      }
      const json& responses = header.at("responses");
      if (responses.size() != sent.size()) {
        Status failed = Internal(what_ + ": protocol: " + std::to_string(responses.size()) +
                                 " responses for " + std::to_string(sent.size()) + " requests");
        for (size_t i : sent) results[i] = failed;
        return results;
      }
      for (size_t k = 0; k < sent.size(); ++k) {
        results[sent[k]] = ToResponse(*batch[sent[k]], responses[k], reply->buffers);
      }
    } catch (const json::exception& e) {
      Status failed = Internal(what_ + ": protocol: bad reply: " + e.what());
      for (size_t i : sent) results[i] = failed;
    }
    return results;
  }

  uint64_t MeasuredBytes() const override {
    int pid = pid_.load();
    if (pid <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
    uint64_t size = 0;
    uint64_t resident = 0;
    if (!(in >> size >> resident)) return 0;
    return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  }

  int child_pid() const override { return pid_.load(); }
  const std::string& execution_env_path() const override { return execution_env_path_; }
  const std::string& log_path() const override { return log_path_; }

 private:
  // The response to `request` from the child's answer: the outputs it asked for
  // (all when it named none), or Internal carrying the model's TritonError.
  StatusOr<InferResponse> ToResponse(const InferRequest& request, const json& answer,
                                     const std::vector<std::string>& buffers) {
    if (!answer.at("error").is_null()) {
      return Internal(what_ + ": " + answer.at("error").get<std::string>());
    }
    InferResponse response;
    response.model_name = source_.name;
    response.model_version = std::to_string(source_.version);
    response.id = request.id;
    for (const json& o : answer.at("outputs")) {
      Tensor t;
      t.name = o.at("name").get<std::string>();
      auto dt = DataTypeFromKServe(o.at("datatype").get<std::string>());
      if (!dt) return Internal(what_ + ": output '" + t.name + "': unknown datatype");
      t.datatype = *dt;
      t.shape = o.at("shape").get<std::vector<int64_t>>();
      auto b = o.at("buffer").get<size_t>();
      if (b >= buffers.size())
        return Internal(what_ + ": protocol: no buffer " + std::to_string(b));
      if (t.datatype == DataType::kString) {
        ASSIGN_OR_RETURN(t.strings, UnpackStrings(buffers[b]));
      } else {
        t.data = buffers[b];
      }
      Status consistent = t.CheckConsistent();
      if (!consistent.ok()) return Internal(what_ + ": " + consistent.message());
      if (!request.outputs.empty() &&
          std::none_of(request.outputs.begin(), request.outputs.end(),
                       [&](const RequestedOutput& r) { return r.name == t.name; })) {
        continue;  // as Triton: only the outputs the request asked for
      }
      response.outputs.push_back(std::move(t));
    }
    for (const auto& wanted : request.outputs) {
      if (std::none_of(response.outputs.begin(), response.outputs.end(),
                       [&](const Tensor& t) { return t.name == wanted.name; })) {
        return Internal(what_ + ": execute() returned no output '" + wanted.name +
                        "', which the request asked for");
      }
    }
    return response;
  }

  // Sends one command and waits for its reply. A broken connection means the
  // child died: it is reaped and the status names how it ended and its log's tail.
  StatusOr<Message> Call(const json& header, const std::vector<std::string_view>& buffers,
                         std::optional<steady_clock::time_point> deadline,
                         const std::string& during) {
    Status sent = SendMessage(sock_, header, buffers);
    if (sent.ok()) {
      auto reply = RecvMessage(sock_, deadline);
      if (reply.ok()) return reply;
      sent = reply.status();
    }
    std::string ended = EndChild(/*wait_first=*/true);
    std::string tail = LogTail(log_path_, kLogTailLines);
    return Internal(what_ + ": the python child " + ended + " during " + during + " (" +
                    sent.message() + ")" +
                    (tail.empty() ? "" : "; last lines of " + log_path_ + ": " + tail));
  }

  // Spawns the interpreter and runs initialize(); on failure nothing is left running.
  Status StartChild() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return IoError(what_ + ": socketpair: " + ErrnoText(errno));
    }
    // The child's end is moved above the standard fds and kChildFd, so the dup2 to
    // kChildFd below always makes a new, inheritable descriptor.
    int child_end = ::fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
    ::close(fds[1]);
    if (child_end < 0) {
      ::close(fds[0]);
      return IoError(what_ + ": fcntl: " + ErrnoText(errno));
    }
    int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      int err = errno;
      ::close(fds[0]);
      ::close(child_end);
      return IoError(what_ + ": cannot open the log " + log_path_ + ": " + ErrnoText(err));
    }
    if (!execution_env_path_.empty()) {
      std::string line = "sagebox: EXECUTION_ENV_PATH=" + execution_env_path_ +
                         " accepted but not unpacked (conda-pack environments need conda and "
                         "the network); running " +
                         options_.python + "\n";
      (void)!::write(log_fd, line.data(), line.size());
    }

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    posix_spawn_file_actions_adddup2(&actions, child_end, kChildFd);
    // Nothing else of the server's (a listening socket opened without O_CLOEXEC, another
    // instance's socket) may live on in the child and outlive the server.
    posix_spawn_file_actions_addclosefrom_np(&actions, kChildFd + 1);
    posix_spawn_file_actions_addchdir_np(&actions, source_.version_dir.c_str());
    // Its own process group, so ending the instance ends whatever model.py started;
    // default signal handling and an empty mask whatever the server's threads use.
    sigset_t none;
    sigset_t defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    std::vector<std::string> args = {
        options_.python,     "-u",       "-B", runner_path_, std::to_string(kChildFd),
        source_.version_dir, model_file_};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, options_.python.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(log_fd);
    ::close(child_end);
    if (rc != 0) {
      ::close(fds[0]);
      return Internal(what_ + ": cannot start " + options_.python + " in " + source_.version_dir +
                      ": " + ErrnoText(rc));
    }
    sock_ = fds[0];
    pid_.store(pid);

    json args_json{{"model_config", ModelConfigJson(source_.config).dump()},
                   {"model_instance_kind", InstanceKindName(source_.config)},
                   {"model_instance_name", InstanceName()},
                   {"model_instance_device_id", "0"},
                   {"model_repository", source_.dir},
                   {"model_version", std::to_string(source_.version)},
                   {"model_name", source_.name}};
    ASSIGN_OR_RETURN(Message reply, Call(json{{"cmd", "initialize"}, {"args", args_json}}, {},
                                         std::nullopt, "initialize"));
    bool ok = false;
    std::string error;
    try {
      ok = reply.header.at("ok").get<bool>();
      if (!ok) error = reply.header.at("error").get<std::string>();
    } catch (const json::exception& e) {
      error = std::string("protocol: bad reply: ") + e.what();
    }
    if (!ok) {
      EndChild(/*wait_first=*/true);  // the runner exits after a failed initialize
      return Internal(what_ + ": initialize() failed: " + error);
    }
    return Status::Ok();
  }

  // Triton's instance name: "<group name>_<index>", the group defaulting to "<model>_0".
  std::string InstanceName() const {
    std::string group = source_.config.instance_groups.empty() ||
                                source_.config.instance_groups.front().name.empty()
                            ? source_.name + "_0"
                            : source_.config.instance_groups.front().name;
    return group + "_" + std::to_string(index_);
  }

  // Runs finalize() (when asked and the child is alive), then ends the child.
  void StopChild(bool finalize) {
    if (sock_ < 0) return;
    if (finalize) {
      auto deadline = steady_clock::now() + options_.finalize_timeout;
      if (SendMessage(sock_, json{{"cmd", "finalize"}}, {}).ok()) {
        (void)RecvMessage(sock_, deadline);  // a failed finalize is in the log
      }
    }
    EndChild(/*wait_first=*/true);
  }

  // Closes the connection (the runner exits at end of input), waits up to the
  // grace period (if `wait_first`), then SIGTERM, the grace period again, then
  // SIGKILL; reaps the child so no zombie is left. Returns how it ended.
  std::string EndChild(bool wait_first) {
    if (sock_ >= 0) {
      ::close(sock_);
      sock_ = -1;
    }
    const pid_t pid = pid_.exchange(-1);
    if (pid <= 0) return "was not running";
    std::string how;
    std::optional<int> status;
    if (wait_first) status = WaitFor(pid, options_.kill_grace);
    if (!status) {
      (void)::kill(-pid, SIGTERM);
      status = WaitFor(pid, options_.kill_grace);
    }
    if (!status) {
      (void)::kill(-pid, SIGKILL);
      int st = 0;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      status = st;
      how = " (SIGKILL after SIGTERM was not enough)";
    }
    // Whatever model.py started in the group goes with it.
    (void)::kill(-pid, SIGKILL);
    return "(pid " + std::to_string(pid) + ") ended with " + DescribeWaitStatus(*status) + how;
  }

  // SIGKILLs and reaps the child without allocating (the destructor's last resort).
  void KillNow() noexcept {
    if (sock_ >= 0) ::close(sock_);
    sock_ = -1;
    const pid_t pid = pid_.exchange(-1);
    if (pid <= 0) return;
    (void)::kill(-pid, SIGKILL);
    (void)::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }

  // The child's wait status once it has exited, polling for up to `limit`.
  static std::optional<int> WaitFor(pid_t pid, milliseconds limit) {
    auto until = steady_clock::now() + limit;
    while (true) {
      int st = 0;
      pid_t r = ::waitpid(pid, &st, WNOHANG);
      if (r == pid) return st;
      if (r < 0 && errno != EINTR) return 0;  // ECHILD: someone else reaped it
      if (steady_clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

  const PythonBackendOptions options_;  // a copy: an instance may outlive its backend
  const ModelSource source_;
  const int index_;
  std::string what_;  // "python model 'x' instance 0", the start of every error
  std::string model_file_;
  std::string execution_env_path_;
  std::string temp_dir_;
  std::string runner_path_;
  std::string log_path_;
  int sock_ = -1;             // our end of the socketpair; -1 when no child runs
  std::atomic<int> pid_{-1};  // read by MeasuredBytes from other threads
};

class PythonBackend final : public Backend {
 public:
  explicit PythonBackend(PythonBackendOptions options) : options_(std::move(options)) {}

  std::string_view name() const override { return "python"; }

  StatusOr<uint64_t> PredictBytes(const ModelSource& source) override {
    if (!options_.env->IsDirectory(source.version_dir)) {
      return NotFound(source.version_dir + ": no such version folder");
    }
    ASSIGN_OR_RETURN(uint64_t files, TreeBytes(options_.env, source.version_dir));
    return files + kPythonInterpreterBytes;
  }

  StatusOr<std::unique_ptr<ModelInstance>> LoadInstance(const ModelSource& source,
                                                        int index) override {
    auto instance = std::make_unique<PythonInstance>(options_, source, index);
    RETURN_IF_ERROR(instance->Init());
    return std::unique_ptr<ModelInstance>(std::move(instance));
  }

 private:
  const PythonBackendOptions options_;
};

}  // namespace

std::unique_ptr<Backend> NewPythonBackend(PythonBackendOptions options) {
  return std::make_unique<PythonBackend>(std::move(options));
}

}  // namespace sagebox::endpoint
