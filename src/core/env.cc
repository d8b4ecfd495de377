#include "core/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>

namespace sagebox {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  // std::error_code, not strerror(): the message must be thread-safe.
  return IoError(what + " " + path + ": " +
                 std::error_code(errno, std::generic_category()).message());
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  Status Read(char* buf, size_t n, size_t* got) override {
    for (;;) {
      ssize_t r = ::read(fd_, buf, n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Errno("cannot read", path_);
      *got = static_cast<size_t>(r);
      return Status::Ok();
    }
  }

 private:
  std::string path_;
  int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  uint64_t Size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t n, char* buf) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Errno("cannot read", path_);
      if (r == 0) return Corruption(path_ + ": file is shorter than expected");
      done += static_cast<size_t>(r);
    }
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t r = ::write(fd_, data.data(), data.size());
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Errno("cannot write", path_);
      data.remove_prefix(static_cast<size_t>(r));
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return Errno("cannot sync", path_);
    return Status::Ok();
  }
  Status Close() override {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Errno("cannot close", path_);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv final : public Env {
 public:
  StatusOr<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open", path);
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
  }
  StatusOr<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return Errno("cannot stat", path);
    }
    return std::unique_ptr<RandomAccessFile>(
        new PosixRandomAccessFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }
  StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("cannot create", path);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }
  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  bool IsDirectory(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  StatusOr<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Errno("cannot stat", path);
    return static_cast<uint64_t>(st.st_size);
  }
  StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return Errno("cannot list", dir);
    std::vector<std::string> names;
    // readdir on a DIR* of our own is thread-safe in glibc.
    while (dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }
  Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return IoError("cannot create directory " + dir + ": " + ec.message());
    return Status::Ok();
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Errno("cannot rename", from + " to " + to);
    return Status::Ok();
  }
  Status Remove(const std::string& path) override {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) return IoError("cannot remove " + path + ": " + ec.message());
    return Status::Ok();
  }
  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open directory", dir);
    int r = ::fsync(fd);
    ::close(fd);
    if (r != 0) return Errno("cannot sync directory", dir);
    return Status::Ok();
  }
  UnixSeconds Now() override { return static_cast<UnixSeconds>(std::time(nullptr)); }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

Status Env::ReadFileToString(const std::string& path, std::string* out) {
  ASSIGN_OR_RETURN(auto f, OpenSequential(path));
  out->clear();
  char buf[1 << 16];
  for (;;) {
    size_t got = 0;
    RETURN_IF_ERROR(f->Read(buf, sizeof buf, &got));
    if (got == 0) return Status::Ok();
    out->append(buf, got);
  }
}

Status Env::WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  {
    ASSIGN_OR_RETURN(auto f, OpenWritable(tmp));
    RETURN_IF_ERROR(f->Append(data));
    RETURN_IF_ERROR(f->Sync());
    RETURN_IF_ERROR(f->Close());
  }
  RETURN_IF_ERROR(Rename(tmp, path));
  return SyncDir(Dirname(path));
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (!b.empty() && b.front() == '/') return std::string(b);
  std::string r(a);
  if (r.back() != '/') r.push_back('/');
  r.append(b);
  return r;
}

std::string Basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t p = path.rfind('/');
  return std::string(p == std::string_view::npos ? path : path.substr(p + 1));
}

std::string Dirname(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t p = path.rfind('/');
  if (p == std::string_view::npos) return ".";
  if (p == 0) return "/";
  return std::string(path.substr(0, p));
}

namespace {

StatusOr<uint64_t> TreeBytesAt(Env* env, const std::string& dir, int depth, int max_depth) {
  if (depth > max_depth) {
    return BadInput(dir + ": folders nested deeper than " + std::to_string(max_depth) + " levels");
  }
  auto names = env->ListDir(dir);
  if (!names.ok()) return names.status();
  uint64_t total = 0;
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    auto bytes =
        env->IsDirectory(path) ? TreeBytesAt(env, path, depth + 1, max_depth) : env->FileSize(path);
    if (!bytes.ok()) return bytes.status();
    total += *bytes;
  }
  return total;
}

}  // namespace

StatusOr<uint64_t> TreeBytes(Env* env, const std::string& dir, int max_depth) {
  return TreeBytesAt(env, dir, 0, max_depth);
}

}  // namespace sagebox
