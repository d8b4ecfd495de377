#include "store/store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <set>

namespace sagebox::store {

namespace {
constexpr const char* kManifest = "MANIFEST";
constexpr const char* kFormat = "sagebox-store/1";
}  // namespace

Store::~Store() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

StatusOr<std::unique_ptr<Store>> Store::Open(Env* env, const std::string& dir) {
  std::unique_ptr<Store> s(new Store(env, dir));
  RETURN_IF_ERROR(s->Load());
  return s;
}

std::string Store::State(Env* env, const std::string& dir) {
  std::string text;
  if (!env->ReadFileToString(JoinPath(dir, kManifest), &text).ok()) return "";
  return text;
}

Status Store::Load() {
  segments_.clear();
  std::string path = JoinPath(dir_, kManifest);
  if (!env_->Exists(path)) return Status::Ok();
  std::string text;
  RETURN_IF_ERROR(env_->ReadFileToString(path, &text));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kFormat) {
    return Corruption(path + ": not a sagebox store manifest");
  }
  try {
    next_file_ = j.at("next_file").get<uint64_t>();
    for (const auto& js : j.at("segments")) {
      SegmentInfo si;
      si.file = js.at("file").get<std::string>();
      si.partition = js.at("partition").get<std::string>();
      si.source = js.at("source").get<std::string>();
      si.rows = js.at("rows").get<int64_t>();
      si.meta = js.value("meta", nlohmann::json::object());
      segments_.push_back(std::move(si));
    }
  } catch (const nlohmann::json::exception& e) {
    return Corruption(path + ": " + e.what());
  }
  return Status::Ok();
}

StatusOr<std::shared_ptr<Segment>> Store::OpenSegment(const SegmentInfo& info) const {
  return Segment::Open(env_, PathOf(info.file));
}

Status Store::BeginWrite() {
  if (lock_fd_ >= 0) return Status::Ok();  // already the writer
  RETURN_IF_ERROR(env_->CreateDirs(dir_));
  std::string lock = JoinPath(dir_, "LOCK");
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return IoError("cannot open " + lock);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    return IoError("another sagebox process is writing to the store " + dir_ +
                   "; try again when it finishes");
  }
  // Re-read under the lock: another writer may have committed meanwhile.
  RETURN_IF_ERROR(Load());
  // Remove leftovers of interrupted writes: segment files not in the manifest.
  std::set<std::string> live;
  for (const auto& s : segments_) live.insert(s.file);
  ASSIGN_OR_RETURN(auto names, env_->ListDir(dir_));
  for (const auto& n : names) {
    bool seg = n.rfind("seg-", 0) == 0;
    bool tmp = n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0;
    if ((seg && !live.count(n)) || tmp) RETURN_IF_ERROR(env_->Remove(JoinPath(dir_, n)));
  }
  return Status::Ok();
}

std::string Store::NewSegmentFile() { return fmt::format("seg-{:06}.sbx", next_file_++); }

Status Store::Commit(const std::vector<std::string>& drop, std::vector<SegmentInfo> add) {
  if (lock_fd_ < 0) return Internal("Store::Commit without BeginWrite");
  std::set<std::string> dropped(drop.begin(), drop.end());
  std::vector<SegmentInfo> next;
  for (const auto& s : segments_) {
    if (!dropped.count(s.file)) next.push_back(s);
  }
  for (auto& s : add) next.push_back(std::move(s));
  // The new segments' data must be durable before the manifest names them.
  RETURN_IF_ERROR(env_->SyncDir(dir_));
  nlohmann::json j = {{"format", kFormat}, {"next_file", next_file_}};
  nlohmann::json segs = nlohmann::json::array();
  for (const auto& s : next) {
    segs.push_back({{"file", s.file},
                    {"partition", s.partition},
                    {"source", s.source},
                    {"rows", s.rows},
                    {"meta", s.meta}});
  }
  j["segments"] = std::move(segs);
  // Not Env::WriteFileAtomic: once the rename has happened the new manifest
  // is live, so a failing directory fsync after it must not be reported as a
  // failed commit (the caller would then delete segments the manifest names).
  const std::string path = JoinPath(dir_, kManifest), tmp = path + ".tmp";
  {
    ASSIGN_OR_RETURN(auto f, env_->OpenWritable(tmp));
    RETURN_IF_ERROR(f->Append(j.dump(1)));
    RETURN_IF_ERROR(f->Sync());
    RETURN_IF_ERROR(f->Close());
  }
  RETURN_IF_ERROR(env_->Rename(tmp, path));
  segments_ = std::move(next);
  (void)env_->SyncDir(dir_);  // best effort: the rename is already visible
  // Old files are garbage now; a failure to delete them is harmless (the
  // next writer removes them).
  for (const auto& f : drop) (void)env_->Remove(JoinPath(dir_, f));
  return Status::Ok();
}

void Store::Abandon(const std::vector<std::string>& files) {
  for (const auto& f : files) (void)env_->Remove(JoinPath(dir_, f));
}

}  // namespace sagebox::store
