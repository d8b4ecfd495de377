#include "io/csv_reader.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sagebox::io {

namespace {
// Position of the first ',', '\n' or '\r' in [p, e), or e. This scan is the
// hottest loop of an ingest (most CUR cells are short and unquoted), so it
// looks at 16 bytes at a time where SSE2 is available (every x86-64).
inline const char* FindFieldEnd(const char* p, const char* e) {
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  while (e - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)),
                             _mm_cmpeq_epi8(v, cr));
    int mask = _mm_movemask_epi8(m);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < e && *p != ',' && *p != '\n' && *p != '\r') ++p;
  return p;
}
}  // namespace

CsvReader::CsvReader(ByteSource* src, size_t buffer_size)
    : src_(src), buf_(std::max<size_t>(buffer_size, 1)) {
  fields_.reserve(256);
  starts_.reserve(256);
}

Status CsvReader::Refill() {
  Status s = RefillInner();
  if (s.ok() || s.code() != StatusCode::kBadInput) return s;
  // Say where in the plain text the damage was met: the line being read and
  // the column reached in it.
  std::string msg = s.message();
  const std::string prefix = name() + ": ";
  if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
  uint64_t line = line_;
  size_t ls = pos_;
  for (size_t k = pos_; k < end_; ++k) {
    if (buf_[k] == '\n') {
      ++line;
      ls = k + 1;
    }
  }
  return BadInput(name() + ":" + std::to_string(line) + ":" + std::to_string(end_ - ls + 1) + ": " +
                  msg);
}

Status CsvReader::RefillInner() {
  // Keep the unparsed tail, move it to the front, fill the rest.
  size_t tail = end_ - pos_;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, tail);
    consumed_base_ += pos_;
    pos_ = 0;
    end_ = tail;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // one record fills the buffer
  while (end_ < buf_.size() && !eof_) {
    size_t got = 0;
    RETURN_IF_ERROR(src_->Read(buf_.data() + end_, buf_.size() - end_, &got));
    if (got == 0) eof_ = true;
    end_ += got;
    if (got > 0) break;  // parse what we have; read more only when needed
  }
  return Status::Ok();
}

int CsvReader::ParseRecord() {
  fields_.clear();
  starts_.clear();
  escaped_.clear();
  arena_.clear();
  const char* b = buf_.data();
  size_t p = pos_;
  const size_t e = end_;
  uint64_t lines = 0;
  for (;;) {
    // One field starting at p.
    if (p < e && b[p] == '"') {
      starts_.push_back(p);  // errors point at the opening quote
      ++p;
      size_t start = p;
      bool has_escape = false;
      size_t arena_off = 0;
      size_t seg = start;  // start of the not-yet-copied run (escaped case)
      for (;;) {
        const void* q = std::memchr(b + p, '"', e - p);
        if (!q) {
          if (!eof_) return 0;
          status_ = BadInput(Location(starts_.size() - 1) +
                             ": unterminated quoted field (expected a closing '\"' before the "
                             "end of the file)");
          return -1;
        }
        size_t qp = static_cast<size_t>(static_cast<const char*>(q) - b);
        for (size_t k = p; k < qp; ++k) lines += b[k] == '\n';
        if (qp + 1 >= e && !eof_) return 0;  // need the byte after the quote
        if (qp + 1 < e && b[qp + 1] == '"') {
          if (!has_escape) {
            has_escape = true;
            arena_off = arena_.size();
          }
          arena_.append(b + seg, qp + 1 - seg);  // keep one quote
          p = qp + 2;
          seg = p;
          continue;
        }
        // Closing quote.
        if (has_escape) {
          arena_.append(b + seg, qp - seg);
          escaped_.emplace_back(fields_.size(), arena_off);
          fields_.emplace_back(nullptr, arena_.size() - arena_off);
        } else {
          fields_.emplace_back(b + start, qp - start);
        }
        p = qp + 1;
        break;
      }
      if (p < e && b[p] != ',' && b[p] != '\n' && b[p] != '\r') {
        size_t ls = p;
        while (ls > record_start_ && b[ls - 1] != '\n') --ls;
        status_ = BadInput(name() + ":" + std::to_string(record_line_ + lines) + ":" +
                           std::to_string(p - ls + 1) +
                           ": unexpected text after a closing quote (expected ',' or the end "
                           "of the line)");
        return -1;
      }
    } else {
      size_t start = p;
      starts_.push_back(start);
      p = static_cast<size_t>(FindFieldEnd(b + p, b + e) - b);
      if (p == e && !eof_) return 0;
      fields_.emplace_back(b + start, p - start);
    }
    // After a field: ',' continues, EOL or EOF ends the record.
    if (p < e && b[p] == ',') {
      ++p;
      if (p == e && !eof_) return 0;
      continue;
    }
    if (p < e && b[p] == '\r') {
      if (p + 1 >= e && !eof_) return 0;
      ++p;
      if (p < e && b[p] == '\n') ++p;
    } else if (p < e && b[p] == '\n') {
      ++p;
    }
    ++lines;
    break;
  }
  // Resolve escaped fields now that arena_ is final.
  for (auto [fi, off] : escaped_)
    fields_[fi] = std::string_view(arena_.data() + off, fields_[fi].size());
  pos_ = p;
  line_ += lines;
  return 1;
}

StatusOr<bool> CsvReader::Next() {
  for (;;) {
    if (first_) {
      // Read until the byte order mark can be recognised (sources may hand
      // out bytes in small pieces).
      do {
        RETURN_IF_ERROR(Refill());
      } while (end_ < 3 && !eof_);
      first_ = false;
      if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
    }
    if (pos_ >= end_) {
      if (eof_) return false;
      RETURN_IF_ERROR(Refill());
      continue;
    }
    record_line_ = line_;
    record_start_ = pos_;
    int r = ParseRecord();
    if (r == 1) return true;
    if (r < 0) return status_;
    if (eof_ && end_ - pos_ == 0) return false;
    RETURN_IF_ERROR(Refill());
    record_start_ = pos_;
  }
}

uint64_t CsvReader::column(size_t i) const {
  if (i >= starts_.size()) return 1;
  size_t s = starts_[i];
  size_t k = s;
  while (k > record_start_ && buf_[k - 1] != '\n') --k;
  return s - k + 1;
}

std::string CsvReader::Location(size_t i) const {
  uint64_t ln = record_line_;
  if (i < starts_.size()) {
    for (size_t k = record_start_; k < starts_[i]; ++k) ln += buf_[k] == '\n';
  }
  return name() + ":" + std::to_string(ln) + ":" + std::to_string(column(i));
}

}  // namespace sagebox::io
