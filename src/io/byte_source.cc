#include "io/byte_source.h"

#include <zip.h>
#include <zlib.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace sagebox::io {

namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(std::string name, std::unique_ptr<SequentialFile> f, uint64_t size)
      : name_(std::move(name)), f_(std::move(f)), size_(size) {}
  Status Read(char* buf, size_t n, size_t* got) override {
    RETURN_IF_ERROR(f_->Read(buf, n, got));
    read_ += *got;
    return Status::Ok();
  }
  uint64_t CompressedBytesRead() const override { return read_; }
  uint64_t CompressedSize() const override { return size_; }
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  std::unique_ptr<SequentialFile> f_;
  uint64_t size_;
  uint64_t read_ = 0;
};

// Streaming gunzip with zlib; handles concatenated members (AWS writes one,
// but `cat a.gz b.gz` is a valid gzip file).
class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> in) : in_(std::move(in)), inbuf_(1 << 18) {
    std::memset(&zs_, 0, sizeof zs_);
    ok_ = inflateInit2(&zs_, 15 + 32) == Z_OK;
  }
  ~GzipSource() override { inflateEnd(&zs_); }

  Status Read(char* buf, size_t n, size_t* got) override {
    *got = 0;
    if (!ok_) return Internal("zlib initialisation failed");
    if (done_) return Status::Ok();
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(n);
    while (zs_.avail_out == n) {
      if (zs_.avail_in == 0) {
        size_t r = 0;
        RETURN_IF_ERROR(in_->Read(inbuf_.data(), inbuf_.size(), &r));
        if (r == 0) {
          if (in_member_) {
            return BadInput(name() +
                            ": truncated gzip data (the file ends inside a compressed "
                            "stream; expected more bytes)");
          }
          done_ = true;
          break;
        }
        zs_.next_in = reinterpret_cast<Bytef*>(inbuf_.data());
        zs_.avail_in = static_cast<uInt>(r);
      }
      in_member_ = true;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&zs_);
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return BadInput(name() + ": corrupt gzip data (" + (zs_.msg ? zs_.msg : "inflate error") +
                        ")");
      }
    }
    *got = n - zs_.avail_out;
    return Status::Ok();
  }
  uint64_t CompressedBytesRead() const override { return in_->CompressedBytesRead(); }
  uint64_t CompressedSize() const override { return in_->CompressedSize(); }
  const std::string& name() const override { return in_->name(); }

 private:
  std::unique_ptr<ByteSource> in_;
  std::vector<char> inbuf_;
  z_stream zs_;
  bool ok_ = false;
  bool done_ = false;
  bool in_member_ = false;
};

// The one data member of a .zip (AWS's legacy CUR zips hold one CSV).
class ZipSource final : public ByteSource {
 public:
  ZipSource(std::string name, zip_t* archive, zip_file_t* file, uint64_t size)
      : name_(std::move(name)), archive_(archive), file_(file), size_(size) {}
  ~ZipSource() override {
    if (file_) zip_fclose(file_);
    if (archive_) zip_discard(archive_);
  }
  Status Read(char* buf, size_t n, size_t* got) override {
    zip_int64_t r = zip_fread(file_, buf, n);
    if (r < 0) {
      return BadInput(name_ + ": corrupt zip member (" +
                      zip_error_strerror(zip_file_get_error(file_)) + ")");
    }
    *got = static_cast<size_t>(r);
    read_ += *got;
    return Status::Ok();
  }
  uint64_t CompressedBytesRead() const override { return read_ < size_ ? read_ : size_; }
  uint64_t CompressedSize() const override { return size_; }
  const std::string& name() const override { return name_; }

 private:
  std::string name_;
  zip_t* archive_;
  zip_file_t* file_;
  uint64_t size_;
  uint64_t read_ = 0;
};

StatusOr<std::unique_ptr<ByteSource>> OpenZip(const std::string& path, uint64_t size) {
  int err = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!za) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return BadInput(path + ": not a readable zip archive (" + msg + ")");
  }
  zip_int64_t n = zip_get_num_entries(za, 0);
  zip_int64_t pick = -1;
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* nm = zip_get_name(za, static_cast<zip_uint64_t>(i), 0);
    if (!nm) continue;
    std::string s = nm;
    if (!s.empty() && s.back() == '/') continue;  // a directory entry
    if (pick >= 0) {
      zip_discard(za);
      return BadInput(path + ": zip archive holds more than one file; expected one CSV");
    }
    pick = i;
  }
  if (pick < 0) {
    zip_discard(za);
    return BadInput(path + ": zip archive is empty; expected one CSV member");
  }
  zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(pick), 0);
  if (!zf) {
    std::string msg = zip_strerror(za);
    zip_discard(za);
    return BadInput(path + ": cannot open zip member (" + msg + ")");
  }
  return std::unique_ptr<ByteSource>(new ZipSource(path, za, zf, size));
}

// Reads the underlying source on a background thread into a ring of blocks.
class PrefetchSource final : public ByteSource {
 public:
  PrefetchSource(std::unique_ptr<ByteSource> src, size_t block) : src_(std::move(src)) {
    for (auto& b : blocks_) b.data.resize(block);
    thread_ = std::thread([this] { Run(); });
  }
  ~PrefetchSource() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Status Read(char* buf, size_t n, size_t* got) override {
    *got = 0;
    while (*got < n) {
      if (cur_ == nullptr) {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return filled_ > 0 || finished_; });
        if (filled_ == 0) {
          if (!error_.ok()) return error_;
          return Status::Ok();  // end of data
        }
        cur_ = &blocks_[head_];
        pos_ = 0;
      }
      size_t take = std::min(n - *got, cur_->size - pos_);
      std::memcpy(buf + *got, cur_->data.data() + pos_, take);
      pos_ += take;
      *got += take;
      if (pos_ == cur_->size) {
        compressed_ = cur_->compressed_at;
        std::lock_guard<std::mutex> l(mu_);
        head_ = (head_ + 1) % kBlocks;
        --filled_;
        cur_ = nullptr;
        cv_.notify_all();
      }
      if (*got > 0 && cur_ == nullptr) break;  // hand back what we have
    }
    return Status::Ok();
  }
  uint64_t CompressedBytesRead() const override { return compressed_; }
  uint64_t CompressedSize() const override { return src_->CompressedSize(); }
  const std::string& name() const override { return src_->name(); }

 private:
  static constexpr int kBlocks = 4;
  struct Block {
    std::vector<char> data;
    size_t size = 0;
    uint64_t compressed_at = 0;
  };

  void Run() {
    for (;;) {
      size_t slot = 0;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return filled_ < kBlocks || stop_; });
        if (stop_) return;
        slot = tail_;
      }
      Block& b = blocks_[slot];
      size_t got = 0;
      Status s = src_->Read(b.data.data(), b.data.size(), &got);
      b.size = got;
      b.compressed_at = src_->CompressedBytesRead();
      std::lock_guard<std::mutex> l(mu_);
      if (!s.ok() || got == 0) {
        error_ = s;
        finished_ = true;
        cv_.notify_all();
        return;
      }
      tail_ = (tail_ + 1) % kBlocks;
      ++filled_;
      cv_.notify_all();
    }
  }

  std::unique_ptr<ByteSource> src_;
  Block blocks_[kBlocks];
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t head_ = 0, tail_ = 0;
  int filled_ = 0;
  bool finished_ = false, stop_ = false;
  Status error_;
  // Consumer-side state.
  Block* cur_ = nullptr;
  size_t pos_ = 0;
  uint64_t compressed_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<ByteSource>> OpenInput(Env* env, const std::string& path) {
  if (!env->Exists(path)) return NotFound(path + ": no such file");
  ASSIGN_OR_RETURN(uint64_t size, env->FileSize(path));
  // Peek at the magic bytes.
  unsigned char magic[4] = {0, 0, 0, 0};
  size_t got = 0;
  {
    ASSIGN_OR_RETURN(auto f, env->OpenSequential(path));
    RETURN_IF_ERROR(f->Read(reinterpret_cast<char*>(magic), sizeof magic, &got));
  }
  if (got >= 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4) {
    return OpenZip(path, size);
  }
  ASSIGN_OR_RETURN(auto f, env->OpenSequential(path));
  std::unique_ptr<ByteSource> src(new FileSource(path, std::move(f), size));
  if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    return std::unique_ptr<ByteSource>(new GzipSource(std::move(src)));
  }
  return src;
}

std::unique_ptr<ByteSource> Prefetch(std::unique_ptr<ByteSource> src, size_t block) {
  return std::unique_ptr<ByteSource>(new PrefetchSource(std::move(src), block));
}

}  // namespace sagebox::io
