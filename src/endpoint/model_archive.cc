#include "endpoint/model_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace sagebox::endpoint {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 256 * 1024;

struct ArchiveReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

std::string ArchiveError(archive* a) {
  const char* m = archive_error_string(a);
  return m != nullptr ? std::string(m) : std::string("unknown libarchive error");
}

// libarchive pulls the archive's bytes through this, so the archive is read
// through the Env like every other file (and a test Env can fail the read).
struct ReadSource {
  std::unique_ptr<SequentialFile> file;
  std::vector<char> buf = std::vector<char>(kChunk);
  Status error;
};

la_ssize_t ReadCallback(archive* a, void* client, const void** out) {
  auto* src = static_cast<ReadSource*>(client);
  size_t got = 0;
  Status s = src->file->Read(src->buf.data(), src->buf.size(), &got);
  if (!s.ok()) {
    src->error = s;
    archive_set_error(a, EIO, "%s", s.message().c_str());
    return -1;
  }
  *out = src->buf.data();
  return static_cast<la_ssize_t>(got);
}

struct WriteSink {
  std::unique_ptr<WritableFile> file;
  uint64_t bytes = 0;
  Status error;
};

la_ssize_t WriteCallback(archive* a, void* client, const void* data, size_t n) {
  auto* sink = static_cast<WriteSink*>(client);
  Status s = sink->file->Append(std::string_view(static_cast<const char*>(data), n));
  if (!s.ok()) {
    sink->error = s;
    archive_set_error(a, EIO, "%s", s.message().c_str());
    return -1;
  }
  sink->bytes += n;
  return static_cast<la_ssize_t>(n);
}

std::string FileTypeName(mode_t type) {
  switch (type) {
    case AE_IFLNK:
      return "a symlink";
    case AE_IFCHR:
      return "a character device";
    case AE_IFBLK:
      return "a block device";
    case AE_IFIFO:
      return "a fifo";
    case AE_IFSOCK:
      return "a socket";
    default:
      return fmt::format("an entry of unknown type {:o}", static_cast<unsigned>(type));
  }
}

// Writes one regular file's data from the archive to `path`. `entry_error`
// names the archive and the entry for errors the archive causes.
Status WriteEntryData(Env* env, archive* a, const std::string& path, const std::string& where,
                      const ExtractLimits& limits, ExtractResult* result) {
  ASSIGN_OR_RETURN(auto out, env->OpenWritable(path));
  std::vector<char> buf(kChunk);
  while (true) {
    const la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n < 0) {
      (void)out->Close();
      return BadInput(where + ": truncated or corrupt archive: " + ArchiveError(a));
    }
    if (n == 0) break;
    result->bytes += static_cast<uint64_t>(n);
    if (result->bytes > limits.max_bytes) {
      (void)out->Close();
      return BadInput(fmt::format("{}: the archive expands to more than {} bytes, the limit", where,
                                  limits.max_bytes));
    }
    Status s = out->Append(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!s.ok()) {
      (void)out->Close();
      return s;
    }
  }
  // Synced so that a copy the store later trusts (by its stamp) is whole after
  // a power loss; the store is re-derivable, but a silently short file is not.
  Status s = out->Sync();
  Status c = out->Close();
  RETURN_IF_ERROR(s);
  return c;
}

std::atomic<uint64_t> g_temp_counter{0};

}  // namespace

StatusOr<std::string> NormalizeEntryPath(std::string_view path) {
  if (!path.empty() && path.front() == '/') return BadInput("absolute path");
  std::string out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    const std::string_view part = path.substr(i, j - i);
    if (part == "..") return BadInput("'..' in the path");
    if (!part.empty() && part != ".") {
      if (!out.empty()) out.push_back('/');
      out.append(part);
    }
    i = j + 1;
  }
  return out;
}

StatusOr<ExtractResult> ExtractArchive(Env* env, const std::string& archive_path,
                                       const std::string& dest_dir, const ExtractLimits& limits) {
  ReadSource src;
  ASSIGN_OR_RETURN(src.file, env->OpenSequential(archive_path));
  std::unique_ptr<archive, ArchiveReadDeleter> a(archive_read_new());
  if (!a) return Internal("libarchive: out of memory");
  // Only gzip and tar: archive_read_support_filter_all would also run external
  // programs (lzop, grzip) on an untrusted archive's say-so.
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open(a.get(), &src, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    if (!src.error.ok()) return src.error;
    return BadInput(archive_path + ": not a gzip tar archive: " + ArchiveError(a.get()));
  }

  ExtractResult result;
  std::string last = "(the start)";
  while (true) {
    archive_entry* entry = nullptr;
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (!src.error.ok()) return src.error;
      return BadInput(fmt::format("{}: truncated or corrupt archive after entry '{}': {}",
                                  archive_path, last, ArchiveError(a.get())));
    }
    const char* raw = archive_entry_pathname(entry);
    const std::string name = raw != nullptr ? raw : "";
    const std::string where = fmt::format("{}: entry '{}'", archive_path, name);
    last = name;
    if (++result.entries > limits.max_entries) {
      return BadInput(
          fmt::format("{}: more than {} entries, the limit", where, limits.max_entries));
    }
    if (raw == nullptr || name.empty()) return BadInput(where + ": the entry has no path");
    auto rel = NormalizeEntryPath(name);
    if (!rel.ok()) {
      return BadInput(where + ": refused, " + rel.status().message() +
                      " would write outside the model folder");
    }
    // A hard link is refused wherever it points: one inside the archive is
    // harmless, but telling the two apart is where extractors get it wrong.
    if (archive_entry_hardlink(entry) != nullptr) {
      return BadInput(where + ": refused, a hard link (to '" +
                      std::string(archive_entry_hardlink(entry)) +
                      "'); model archives hold only files and folders");
    }
    const mode_t type = archive_entry_filetype(entry);
    if (type != AE_IFREG && type != AE_IFDIR) {
      std::string what = FileTypeName(type);
      if (type == AE_IFLNK && archive_entry_symlink(entry) != nullptr) {
        what += " (to '" + std::string(archive_entry_symlink(entry)) + "')";
      }
      return BadInput(
          fmt::format("{}: refused, {}; model archives hold only files and folders", where, what));
    }
    if (rel->empty()) continue;  // "./": the destination itself
    const std::string path = JoinPath(dest_dir, *rel);
    if (type == AE_IFDIR) {
      if (env->Exists(path) && !env->IsDirectory(path)) {
        return BadInput(where + ": a folder where an earlier entry is a file");
      }
      RETURN_IF_ERROR(env->CreateDirs(path));
      continue;
    }
    const std::string parent = Dirname(path);
    if (env->Exists(parent) && !env->IsDirectory(parent)) {
      return BadInput(where + ": its folder is a file from an earlier entry");
    }
    RETURN_IF_ERROR(env->CreateDirs(parent));
    if (env->IsDirectory(path)) {
      return BadInput(where + ": a file where an earlier entry is a folder");
    }
    RETURN_IF_ERROR(WriteEntryData(env, a.get(), path, where, limits, &result));
  }
  return result;
}

StatusOr<uint64_t> WriteModelArchive(Env* env, const std::string& model_dir,
                                     const std::string& top_name, const std::string& out_path) {
  // Collect every path first: sorting them is what makes the archive the same
  // on every machine (readdir order is the file system's).
  struct Item {
    std::string rel;  // under model_dir, '/'-separated
    bool dir = false;
  };
  std::vector<Item> items;
  std::error_code ec;
  fs::recursive_directory_iterator it(model_dir, fs::directory_options::none, ec);
  if (ec) return IoError("cannot list " + model_dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return IoError("cannot list " + model_dir + ": " + ec.message());
    const fs::file_status st = it->symlink_status(ec);
    if (ec) return IoError("cannot stat " + it->path().string() + ": " + ec.message());
    const std::string rel = fs::relative(it->path(), model_dir, ec).generic_string();
    if (ec) return IoError("cannot resolve " + it->path().string() + ": " + ec.message());
    if (fs::is_symlink(st)) {
      return InvalidArgument(it->path().string() +
                             ": a symlink; a model archive holds only files and folders "
                             "(copy the file it points to instead)");
    }
    if (fs::is_directory(st)) {
      items.push_back({rel, true});
    } else if (fs::is_regular_file(st)) {
      items.push_back({rel, false});
    } else {
      return InvalidArgument(it->path().string() +
                             ": not a regular file or folder; it cannot be packed");
    }
  }
  if (ec) return IoError("cannot list " + model_dir + ": " + ec.message());
  std::sort(items.begin(), items.end(), [](const Item& x, const Item& y) { return x.rel < y.rel; });

  const std::string tmp = fmt::format("{}.tmp-{}-{}", out_path, static_cast<long>(::getpid()),
                                      g_temp_counter.fetch_add(1));
  WriteSink sink;
  ASSIGN_OR_RETURN(sink.file, env->OpenWritable(tmp));
  auto fail = [&](Status s) -> Status {
    (void)sink.file->Close();
    (void)env->Remove(tmp);
    return s;
  };

  std::unique_ptr<archive, ArchiveWriteDeleter> a(archive_write_new());
  if (!a) return fail(Internal("libarchive: out of memory"));
  archive_write_set_format_pax_restricted(a.get());
  archive_write_add_filter_gzip(a.get());
  // gzip's header would carry the packing time otherwise.
  archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &sink, nullptr, WriteCallback, nullptr) != ARCHIVE_OK) {
    return fail(IoError(out_path + ": " + ArchiveError(a.get())));
  }

  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  std::vector<char> buf(kChunk);
  auto add = [&](const std::string& name, bool dir, const std::string& src) -> Status {
    archive_entry_clear(entry.get());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), dir ? 0755 : 0644);
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    uint64_t size = 0;
    if (!dir) {
      ASSIGN_OR_RETURN(size, env->FileSize(src));
    }
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      if (!sink.error.ok()) return sink.error;
      return IoError(fmt::format("{}: entry '{}': {}", out_path, name, ArchiveError(a.get())));
    }
    if (dir) return Status::Ok();
    ASSIGN_OR_RETURN(auto in, env->OpenSequential(src));
    uint64_t written = 0;
    while (true) {
      size_t got = 0;
      RETURN_IF_ERROR(in->Read(buf.data(), buf.size(), &got));
      if (got == 0) break;
      // A file that grew while packing would overrun the size in its header.
      got = static_cast<size_t>(std::min<uint64_t>(got, size - written));
      if (got == 0) break;
      if (archive_write_data(a.get(), buf.data(), got) < 0) {
        if (!sink.error.ok()) return sink.error;
        return IoError(fmt::format("{}: entry '{}': {}", out_path, name, ArchiveError(a.get())));
      }
      written += got;
    }
    if (written != size) {
      return IoError(src + ": changed size while being packed");
    }
    return Status::Ok();
  };

  Status s = add(top_name + "/", true, "");
  for (const Item& item : items) {
    if (!s.ok()) break;
    s = add(top_name + "/" + item.rel + (item.dir ? "/" : ""), item.dir,
            JoinPath(model_dir, item.rel));
  }
  if (!s.ok()) return fail(s);
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    if (!sink.error.ok()) return fail(sink.error);
    return fail(IoError(out_path + ": " + ArchiveError(a.get())));
  }
  Status sync = sink.file->Sync();
  if (!sync.ok()) return fail(sync);
  Status closed = sink.file->Close();
  if (!closed.ok()) {
    (void)env->Remove(tmp);
    return closed;
  }
  Status r = env->Rename(tmp, out_path);
  if (!r.ok()) {
    (void)env->Remove(tmp);
    return r;
  }
  RETURN_IF_ERROR(env->SyncDir(Dirname(out_path)));
  return sink.bytes;
}

}  // namespace sagebox::endpoint
