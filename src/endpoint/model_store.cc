#include "endpoint/model_store.h"

#include <fmt/format.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sagebox::endpoint {
namespace {

constexpr std::string_view kTempPrefix = ".tmp-";
constexpr std::string_view kCopyPrefix = "m-";
constexpr std::string_view kStampName = ".source";
constexpr std::string_view kStampMagic = "sagebox-model-cache 1";
// Deep enough for any store layout people use; bounds a symlink loop in List.
constexpr int kMaxListDepth = 16;

std::atomic<uint64_t> g_temp_seq{0};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool HasArchiveSuffix(std::string_view name) {
  return EndsWith(name, ".tar.gz") || EndsWith(name, ".tgz");
}

// "team/sd_base.tar.gz" -> "sd_base": the model's name when config.pbtxt sits
// at the archive's root.
std::string ArchiveModelName(const std::string& target) {
  std::string base = Basename(target);
  for (std::string_view suffix : {std::string_view(".tar.gz"), std::string_view(".tgz")}) {
    if (EndsWith(base, suffix)) {
      base.resize(base.size() - suffix.size());
      break;
    }
  }
  return base;
}

// A cache folder name for `target`: readable, one path component, and the same
// in every process so a restart finds what an earlier one extracted.
std::string CopyKey(const std::string& target) {
  std::string out(kCopyPrefix);
  for (const char c : target) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (plain) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    }
  }
  if (out.size() > 200) {
    // File names stop at 255 bytes; a long target keeps its head and a hash.
    uint64_t h = 1469598103934665603ULL;  // FNV-1a: stable across builds
    for (const char c : target) {
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
    out.resize(180);
    out += fmt::format("~{:016x}", h);
  }
  return out;
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return "";
  return buf;
}

bool IsUnder(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

// The Env has no mtime; the archive's identity is its size and nanosecond mtime.
StatusOr<FileStamp> StatFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return IoError("cannot stat " + path);
  }
  FileStamp s;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return s;
}

StatusOr<int64_t> PickVersionIn(Env* env, const std::string& model_dir, const ModelConfig& config,
                                const std::string& display, std::string* version_folder) {
  ASSIGN_OR_RETURN(auto names, env->ListDir(model_dir));
  // Triton reads a numbered folder as an int64 and ignores every other name.
  std::map<int64_t, std::string> versions;
  for (const std::string& n : names) {
    if (n.empty() || n.size() > 18) continue;
    if (!std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (!env->IsDirectory(JoinPath(model_dir, n))) continue;
    versions.emplace(std::stoll(n), n);
  }
  if (versions.empty()) {
    return BadInput(display +
                    ": no version folder (a numbered subfolder such as 1/ holding the model "
                    "files); Triton refuses to load a model without one");
  }
  auto chosen = std::prev(versions.end());
  if (config.version_policy.kind == VersionPolicy::Kind::kSpecific) {
    chosen = versions.end();
    std::vector<int64_t> wanted = config.version_policy.versions;
    std::sort(wanted.rbegin(), wanted.rend());
    for (const int64_t v : wanted) {
      chosen = versions.find(v);
      if (chosen != versions.end()) break;
    }
    if (chosen == versions.end()) {
      std::string want;
      std::string have;
      for (const int64_t v : config.version_policy.versions) {
        want += (want.empty() ? "" : ", ") + std::to_string(v);
      }
      for (const auto& [v, unused] : versions) {
        have += (have.empty() ? "" : ", ") + std::to_string(v);
      }
      return BadInput(fmt::format(
          "{}: version_policy specific lists version(s) {} but the version folders are {}", display,
          want, have));
    }
  }
  if (version_folder != nullptr) *version_folder = chosen->second;
  return chosen->first;
}

std::string FormatStamp(const FileStamp& archive, uint64_t bytes, const std::string& model_name) {
  return fmt::format("{}\n{} {} {}\n{}\n", kStampMagic, archive.size, archive.mtime_ns, bytes,
                     model_name);
}

bool ParseStamp(const std::string& text, FileStamp* archive, uint64_t* bytes,
                std::string* model_name) {
  std::istringstream in(text);
  std::string magic;
  if (!std::getline(in, magic) || magic != kStampMagic) return false;
  if (!(in >> archive->size >> archive->mtime_ns >> *bytes)) return false;
  in.ignore(1);
  if (!std::getline(in, *model_name)) return false;
  return !model_name->empty() && model_name->find('/') == std::string::npos && *model_name != "." &&
         *model_name != "..";
}

}  // namespace

StatusOr<int64_t> PickVersion(Env* env, const std::string& model_dir, const ModelConfig& config) {
  return PickVersionIn(env, model_dir, config, model_dir, nullptr);
}

ModelStore::ModelStore(Env* env, ModelStoreOptions options, std::string root, std::string real_root)
    : env_(env),
      options_(std::move(options)),
      root_(std::move(root)),
      real_root_(std::move(real_root)) {}

StatusOr<std::unique_ptr<ModelStore>> ModelStore::Open(Env* env, ModelStoreOptions options) {
  std::string root = options.store;
  const size_t scheme_end = root.find("://");
  if (scheme_end != std::string::npos) {
    const std::string scheme = root.substr(0, scheme_end);
    if (scheme != "file") {
      return InvalidArgument("model store '" + options.store + "': the " + scheme +
                             ":// scheme is not supported; only local folders and file:// URLs "
                             "are served (copy the archives to a local folder first)");
    }
    root = root.substr(scheme_end + 3);
    if (root.rfind("localhost/", 0) == 0) root = root.substr(9);
    if (root.empty() || root.front() != '/') {
      return InvalidArgument("model store '" + options.store +
                             "': a file:// URL must name a local absolute path "
                             "(file:///path/to/models)");
    }
  }
  if (root.empty()) return InvalidArgument("model store: no folder given");
  if (!env->IsDirectory(root)) {
    return NotFound("model store '" + options.store + "': no such folder");
  }
  if (options.cache_dir.empty()) {
    return InvalidArgument("model store: no cache folder given for extracted archives");
  }
  RETURN_IF_ERROR(env->CreateDirs(options.cache_dir));
  std::string real_root = RealPath(root);
  if (real_root.empty()) return IoError("model store '" + root + "': cannot resolve its path");
  std::unique_ptr<ModelStore> store(
      new ModelStore(env, std::move(options), std::move(root), std::move(real_root)));
  RETURN_IF_ERROR(store->LoadCacheIndex());
  return store;
}

Status ModelStore::LoadCacheIndex() {
  ASSIGN_OR_RETURN(auto names, env_->ListDir(options_.cache_dir));
  // Copy key -> target of every archive in the store, listed on first need.
  std::map<std::string, std::string> keys;
  bool keys_loaded = false;
  for (const std::string& n : names) {
    const std::string path = JoinPath(options_.cache_dir, n);
    if (n.rfind(kTempPrefix, 0) == 0) {
      // An extraction or an eviction a crash interrupted.
      RETURN_IF_ERROR(env_->Remove(path));
      continue;
    }
    if (n.rfind(kCopyPrefix, 0) != 0) continue;  // not ours: leave it alone
    std::string stamp_text;
    FileStamp stamp;
    Copy copy;
    copy.dir = path;
    bool valid =
        env_->ReadFileToString(JoinPath(path, std::string(kStampName)), &stamp_text).ok() &&
        ParseStamp(stamp_text, &stamp, &copy.bytes, &copy.model_name) &&
        env_->IsDirectory(JoinPath(path, copy.model_name));
    // The target is recovered from the folder name only through the index of
    // what the store holds now; an escaped key is compared, not decoded.
    std::string target;
    if (valid) {
      if (!keys_loaded) {
        keys_loaded = true;
        auto entries = List();
        if (entries.ok()) {
          for (const StoreEntry& e : *entries) {
            if (e.kind == StoreEntryKind::kArchive) keys.emplace(CopyKey(e.name), e.name);
          }
        }
      }
      auto k = keys.find(n);
      valid = k != keys.end();
      if (valid) target = k->second;
    }
    if (!valid) {
      RETURN_IF_ERROR(env_->Remove(path));
      continue;
    }
    copy.archive_size = stamp.size;
    copy.archive_mtime_ns = stamp.mtime_ns;
    std::lock_guard<std::mutex> l(mu_);
    used_ += copy.bytes;
    copies_.emplace(target, std::move(copy));
  }
  return Status::Ok();
}

StatusOr<std::vector<StoreEntry>> ModelStore::List() {
  std::vector<StoreEntry> out;
  const std::string real_cache = RealPath(options_.cache_dir);
  struct Walker {
    ModelStore* self;
    const std::string& real_cache;
    std::vector<StoreEntry>* out;
    Status Walk(const std::string& dir, const std::string& prefix, int depth) {
      Env* env = self->env_;
      ASSIGN_OR_RETURN(auto names, env->ListDir(dir));
      for (const std::string& n : names) {
        if (n.empty() || n.front() == '.') continue;
        const std::string path = JoinPath(dir, n);
        const std::string name = prefix.empty() ? n : fmt::format("{}/{}", prefix, n);
        if (env->IsDirectory(path)) {
          // The cache may live inside the store; its copies are not targets.
          if (!real_cache.empty() && RealPath(path) == real_cache) continue;
          if (env->Exists(JoinPath(path, "config.pbtxt"))) {
            ASSIGN_OR_RETURN(uint64_t bytes, TreeBytes(env, path, kMaxListDepth));
            out->push_back({name, StoreEntryKind::kFolder, bytes});
          } else if (depth < kMaxListDepth) {
            RETURN_IF_ERROR(Walk(path, name, depth + 1));
          }
        } else if (HasArchiveSuffix(n)) {
          ASSIGN_OR_RETURN(uint64_t bytes, env->FileSize(path));
          out->push_back({name, StoreEntryKind::kArchive, bytes});
        }
      }
      return Status::Ok();
    }
  };
  Walker w{this, real_cache, &out};
  RETURN_IF_ERROR(w.Walk(root_, "", 0));
  std::sort(out.begin(), out.end(),
            [](const StoreEntry& a, const StoreEntry& b) { return a.name < b.name; });
  return out;
}

StatusOr<uint64_t> ModelStore::StoredBytes(const std::string& target) const {
  ASSIGN_OR_RETURN(std::string path, Resolve(target));
  if (env_->IsDirectory(path)) return TreeBytes(env_, path, kMaxListDepth);
  return env_->FileSize(path);
}

StatusOr<std::string> ModelStore::Resolve(const std::string& target) const {
  if (target.empty()) return InvalidArgument("TargetModel is empty");
  if (target.find('\0') != std::string::npos) {
    return InvalidArgument("TargetModel contains a NUL byte");
  }
  if (target.front() == '/') {
    return InvalidArgument("TargetModel '" + target +
                           "': an absolute path; it must be relative to the model store");
  }
  size_t i = 0;
  while (i <= target.size()) {
    size_t j = target.find('/', i);
    if (j == std::string::npos) j = target.size();
    if (target.compare(i, j - i, "..") == 0) {
      return InvalidArgument("TargetModel '" + target +
                             "': '..' is not allowed; it must stay inside the model store");
    }
    i = j + 1;
  }
  const std::string path = JoinPath(root_, target);
  if (!env_->Exists(path)) {
    return NotFound("TargetModel '" + target + "': no such model in the store " + root_);
  }
  // A symlink inside the store must not lead out of it.
  const std::string real = RealPath(path);
  if (real.empty() || !IsUnder(real, real_root_)) {
    return InvalidArgument("TargetModel '" + target + "': resolves outside the model store");
  }
  return path;
}

StatusOr<ModelSource> ModelStore::Fetch(const std::string& target) {
  ASSIGN_OR_RETURN(std::string path, Resolve(target));
  if (env_->IsDirectory(path)) {
    if (!env_->Exists(JoinPath(path, "config.pbtxt"))) {
      return InvalidArgument("TargetModel '" + target +
                             "': a folder without config.pbtxt, not a Triton model folder");
    }
    return FetchFolder(target, path);
  }
  if (!HasArchiveSuffix(target)) {
    return InvalidArgument("TargetModel '" + target +
                           "': neither a model archive (.tar.gz, .tgz) nor a model folder");
  }
  return FetchArchive(target, path);
}

StatusOr<ModelSource> ModelStore::FetchFolder(const std::string& target, const std::string& path) {
  (void)target;
  ModelSource source;
  ASSIGN_OR_RETURN(source.config, LoadModelConfig(env_, path));
  std::string folder;
  ASSIGN_OR_RETURN(source.version, PickVersionIn(env_, path, source.config, path, &folder));
  source.name = source.config.name;
  source.dir = path;
  source.version_dir = JoinPath(path, folder);
  return source;
}

std::mutex* ModelStore::TargetMutex(const std::string& target) {
  std::lock_guard<std::mutex> l(mu_);
  auto& m = target_mu_[target];
  if (!m) m = std::make_unique<std::mutex>();
  return m.get();
}

std::string ModelStore::NewTempPath() {
  return JoinPath(
      options_.cache_dir,
      fmt::format("{}{}-{}", kTempPrefix, static_cast<long>(::getpid()), g_temp_seq.fetch_add(1)));
}

void ModelStore::RemoveAll(const std::vector<std::string>& paths) {
  // Best effort: a folder that cannot be removed now is a `.tmp-*` leftover
  // that the next Open removes.
  for (const std::string& p : paths) (void)env_->Remove(p);
}

StatusOr<ModelSource> ModelStore::FetchArchive(const std::string& target, const std::string& path) {
  std::lock_guard<std::mutex> target_lock(*TargetMutex(target));
  ASSIGN_OR_RETURN(FileStamp stamp, StatFile(path));

  std::string hit_dir;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = copies_.find(target);
    if (it != copies_.end() && it->second.archive_size == stamp.size &&
        it->second.archive_mtime_ns == stamp.mtime_ns &&
        env_->IsDirectory(JoinPath(it->second.dir, it->second.model_name))) {
      ++it->second.pins;
      it->second.last_fetch = ++fetch_seq_;
      hit_dir = JoinPath(it->second.dir, it->second.model_name);
    }
  }
  if (!hit_dir.empty()) {
    // Checked when extracted; parsed again because ModelSource carries it.
    auto source = FetchFolder(target, hit_dir);
    if (!source.ok()) Release(target);
    return source;
  }

  Copy copy;
  ModelSource source;
  ASSIGN_OR_RETURN(std::string tmp, ExtractToTemp(target, path, &copy));
  copy.archive_size = stamp.size;
  copy.archive_mtime_ns = stamp.mtime_ns;
  {
    // Written before the rename so the copy and its stamp appear together.
    Status s = env_->WriteFileAtomic(JoinPath(tmp, std::string(kStampName)),
                                     FormatStamp(stamp, copy.bytes, copy.model_name));
    if (!s.ok()) {
      RemoveAll({tmp});
      return s;
    }
  }

  std::vector<std::string> trash;
  Status placed;
  {
    std::lock_guard<std::mutex> l(mu_);
    int pins = 0;
    auto old = copies_.find(target);
    if (old != copies_.end()) {
      // A stale copy (the archive changed): replaced, its pins carried over.
      // A backend still holding files of it keeps them open until it unloads.
      pins = old->second.pins;
      const std::string gone = NewTempPath();
      placed = env_->Rename(old->second.dir, gone);
      if (placed.ok()) trash.push_back(gone);
      used_ -= old->second.bytes;
      copies_.erase(old);
    } else if (env_->Exists(copy.dir)) {
      // A folder of ours the index does not know (its stamp went bad).
      const std::string gone = NewTempPath();
      placed = env_->Rename(copy.dir, gone);
      if (placed.ok()) trash.push_back(gone);
    }
    if (placed.ok()) placed = MakeRoomLocked(copy.bytes, target, &trash);
    if (placed.ok()) placed = env_->Rename(tmp, copy.dir);
    if (placed.ok()) {
      copy.pins = pins + 1;
      copy.last_fetch = ++fetch_seq_;
      used_ += copy.bytes;
      source.dir = JoinPath(copy.dir, copy.model_name);
      copies_.emplace(target, std::move(copy));
    }
  }
  if (!placed.ok()) trash.push_back(tmp);
  RemoveAll(trash);
  RETURN_IF_ERROR(placed);
  (void)env_->SyncDir(options_.cache_dir);

  auto loaded = FetchFolder(target, source.dir);
  if (!loaded.ok()) Release(target);
  return loaded;
}

StatusOr<std::string> ModelStore::ExtractToTemp(const std::string& target, const std::string& path,
                                                Copy* copy) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++extractions_;
  }
  const std::string stage = NewTempPath();
  const std::string out = NewTempPath();
  auto fail = [&](const Status& s) -> Status {
    RemoveAll({stage, out});
    return s;
  };
  Status s = env_->CreateDirs(stage);
  if (!s.ok()) return fail(s);
  auto extracted = ExtractArchive(env_, path, stage, options_.limits);
  if (!extracted.ok()) return fail(extracted.status());

  // Either layout: config.pbtxt at the root, or one top-level model folder.
  std::string inner;  // the model folder's path inside the archive, with '/'
  std::string model_dir_in_stage = stage;
  if (env_->Exists(JoinPath(stage, "config.pbtxt"))) {
    copy->model_name = ArchiveModelName(target);
  } else {
    auto names = env_->ListDir(stage);
    if (!names.ok()) return fail(names.status());
    if (names->size() != 1 || !env_->IsDirectory(JoinPath(stage, names->front())) ||
        !env_->Exists(JoinPath(JoinPath(stage, names->front()), "config.pbtxt"))) {
      std::string found;
      for (const std::string& n : *names) found += (found.empty() ? "" : ", ") + n;
      return fail(BadInput(fmt::format(
          "{}: not a Triton model archive: expected config.pbtxt at its root or one top-level "
          "folder holding config.pbtxt; found {}",
          path, found.empty() ? "nothing" : found)));
    }
    copy->model_name = names->front();
    inner = names->front() + "/";
    model_dir_in_stage = JoinPath(stage, names->front());
  }
  if (copy->model_name.empty() || copy->model_name.front() == '.') {
    return fail(
        BadInput(path + ": the model name '" + copy->model_name + "' is not a usable folder name"));
  }

  // Checked before the copy is kept: a broken model must not take cache room.
  std::string text;
  s = env_->ReadFileToString(JoinPath(model_dir_in_stage, "config.pbtxt"), &text);
  if (!s.ok()) return fail(s);
  const std::string display = JoinPath(path, inner + "config.pbtxt");
  auto config = ParseModelConfig(text, display, copy->model_name);
  if (!config.ok()) return fail(config.status());
  auto version = PickVersionIn(env_, model_dir_in_stage, *config,
                               JoinPath(path, inner.empty() ? std::string(".") : inner), nullptr);
  if (!version.ok()) return fail(version.status());

  s = env_->CreateDirs(out);
  if (s.ok()) s = env_->Rename(model_dir_in_stage, JoinPath(out, copy->model_name));
  if (!s.ok()) return fail(s);
  RemoveAll({stage});
  copy->dir = JoinPath(options_.cache_dir, CopyKey(target));
  copy->bytes = extracted->bytes;
  return out;
}

Status ModelStore::MakeRoomLocked(uint64_t need, const std::string& keep,
                                  std::vector<std::string>* trash) {
  const uint64_t budget = options_.disk_budget_bytes;
  if (budget == 0 || used_ + need <= budget) return Status::Ok();
  if (need > budget) {
    return ResourceExhausted(fmt::format(
        "disk budget of {} bytes: '{}' extracts to {} bytes, more than the whole budget", budget,
        keep, need));
  }
  std::vector<std::pair<uint64_t, std::string>> idle;  // (last_fetch, target)
  uint64_t freeable = 0;
  uint64_t pinned = 0;
  std::string pinned_names;
  for (const auto& [t, c] : copies_) {
    if (t == keep) continue;
    if (c.pins > 0) {
      pinned += c.bytes;
      pinned_names += fmt::format("{}{} ({} bytes)", pinned_names.empty() ? "" : ", ", t, c.bytes);
      continue;
    }
    idle.emplace_back(c.last_fetch, t);
    freeable += c.bytes;
  }
  if (used_ - freeable + need > budget) {
    return ResourceExhausted(fmt::format(
        "disk budget of {} bytes: '{}' extracts to {} bytes but only {} bytes can be freed; {} "
        "bytes are held by pinned copies: {}",
        budget, keep, need, budget - (used_ - freeable), pinned,
        pinned_names.empty() ? "none" : pinned_names));
  }
  std::sort(idle.begin(), idle.end());
  for (const auto& [seq, t] : idle) {
    if (used_ + need <= budget) break;
    auto it = copies_.find(t);
    const std::string gone = NewTempPath();
    // Renamed under the lock so a later Fetch of `t` never extracts into a
    // folder that is being deleted; the slow delete happens after unlocking.
    RETURN_IF_ERROR(env_->Rename(it->second.dir, gone));
    trash->push_back(gone);
    used_ -= it->second.bytes;
    ++evictions_;
    copies_.erase(it);
  }
  return Status::Ok();
}

void ModelStore::Release(const std::string& target) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = copies_.find(target);
  if (it != copies_.end() && it->second.pins > 0) --it->second.pins;
}

DiskStats ModelStore::Stats() const {
  std::lock_guard<std::mutex> l(mu_);
  DiskStats s;
  s.budget_bytes = options_.disk_budget_bytes;
  s.used_bytes = used_;
  s.extractions = extractions_;
  s.evictions = evictions_;
  for (const auto& [t, c] : copies_) {
    s.copies.push_back({t, JoinPath(c.dir, c.model_name), c.bytes, c.pins, c.last_fetch});
  }
  return s;
}

StatusOr<uint64_t> PackModel(Env* env, const std::string& model_dir, const std::string& out_path) {
  std::string dir = model_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!env->IsDirectory(dir)) return NotFound(model_dir + ": no such model folder");
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(env, dir));
  ASSIGN_OR_RETURN(int64_t version, PickVersion(env, dir, config));
  (void)version;
  return WriteModelArchive(env, dir, config.name, out_path);
}

}  // namespace sagebox::endpoint
