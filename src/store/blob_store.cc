// blob_store.cc: streaming put (hash while copying), atomic rename into place.
#include "store/blob_store.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <memory>

namespace sagebox::store {

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A temporary name no other put (thread or process) uses at the same time.
std::string TempName(const std::string& dir) {
  static std::atomic<uint64_t> counter{0};
  return JoinPath(dir, ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
}

}  // namespace

struct BlobStore::Writer::State {
  State(Env* env, std::string root) : env_(env), root_(std::move(root)) {}
  ~State() {
    if (file_ != nullptr) {
      (void)file_->Close();
      (void)env_->Remove(tmp_);
    }
  }

  Status Open() {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) {
      return Internal("SHA-256 unavailable");
    }
    RETURN_IF_ERROR(env_->CreateDirs(root_));
    tmp_ = TempName(root_);
    ASSIGN_OR_RETURN(file_, env_->OpenWritable(tmp_));
    return Status::Ok();
  }

  Status Append(std::string_view piece) {
    if (EVP_DigestUpdate(ctx_.get(), piece.data(), piece.size()) != 1) {
      return Internal("SHA-256 update failed");
    }
    bytes_ += piece.size();
    return file_->Append(piece);
  }

  StatusOr<BlobRef> Finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), md.data(), &len) != 1) return Internal("SHA-256 failed");
    BlobRef ref{Hex(md.data(), len), bytes_};
    RETURN_IF_ERROR(file_->Sync());
    Status closed = file_->Close();
    file_.reset();
    if (!closed.ok()) {
      (void)env_->Remove(tmp_);
      return closed;
    }
    std::string dir = JoinPath(JoinPath(root_, "sha256"), ref.sha256.substr(0, 2));
    std::string final_path = JoinPath(dir, ref.sha256);
    if (env_->Exists(final_path)) {  // already stored: the bytes are the same by their hash
      (void)env_->Remove(tmp_);
      return ref;
    }
    Status s = env_->CreateDirs(dir);
    if (s.ok()) s = env_->Rename(tmp_, final_path);
    if (s.ok()) s = env_->SyncDir(dir);
    if (!s.ok()) {
      (void)env_->Remove(tmp_);
      return s;
    }
    return ref;
  }

  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  Env* env_;
  std::string root_;
  std::string tmp_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_{EVP_MD_CTX_new()};
  uint64_t bytes_ = 0;
};

BlobStore::Writer::Writer(std::unique_ptr<State> state) : state_(std::move(state)) {}
BlobStore::Writer::~Writer() = default;

Status BlobStore::Writer::Append(std::string_view piece) {
  if (state_ == nullptr || state_->file_ == nullptr)
    return Internal("blob writer already finished");
  return state_->Append(piece);
}

StatusOr<BlobRef> BlobStore::Writer::Finish() {
  if (state_ == nullptr || state_->file_ == nullptr)
    return Internal("blob writer already finished");
  auto r = state_->Finish();
  state_.reset();
  return r;
}

StatusOr<std::unique_ptr<BlobStore::Writer>> BlobStore::NewWriter() {
  auto state = std::make_unique<Writer::State>(env_, root_);
  RETURN_IF_ERROR(state->Open());
  return std::unique_ptr<Writer>(new Writer(std::move(state)));
}

StatusOr<BlobRef> BlobStore::PutFile(const std::string& path) {
  ASSIGN_OR_RETURN(auto in, env_->OpenSequential(path));
  ASSIGN_OR_RETURN(auto w, NewWriter());
  std::string buf(1 << 16, '\0');
  for (;;) {
    size_t got = 0;
    RETURN_IF_ERROR(in->Read(buf.data(), buf.size(), &got).WithContext(path));
    if (got == 0) break;
    RETURN_IF_ERROR(w->Append(std::string_view(buf.data(), got)));
  }
  return w->Finish();
}

StatusOr<BlobRef> BlobStore::PutBytes(std::string_view bytes) {
  ASSIGN_OR_RETURN(auto w, NewWriter());
  RETURN_IF_ERROR(w->Append(bytes));
  return w->Finish();
}

StatusOr<std::string> BlobStore::Path(std::string_view sha256) const {
  if (!IsSha256Hex(sha256)) {
    return InvalidArgument("not a SHA-256 blob name (64 lower-case hex digits): '" +
                           std::string(sha256.substr(0, 80)) + "'");
  }
  return JoinPath(JoinPath(JoinPath(root_, "sha256"), sha256.substr(0, 2)), sha256);
}

bool BlobStore::Contains(std::string_view sha256) const {
  auto p = Path(sha256);
  return p.ok() && env_->Exists(*p);
}

}  // namespace sagebox::store
