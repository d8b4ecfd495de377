#include "io/parquet_encoding.h"

#include <algorithm>
#include <cstring>

#include "core/decimal.h"

namespace sagebox::io::parquet {

namespace {

// Reads `bw` (<= 64) bits starting at bit `pos` of p, LSB first. The caller
// guarantees the bytes exist.
inline uint64_t Bits(const uint8_t* p, size_t pos, int bw) {
  if (bw == 0) return 0;
  size_t byte = pos >> 3;
  int shift = static_cast<int>(pos & 7);
  int nbytes = (shift + bw + 7) / 8;
  uint128 acc = 0;
  for (int i = 0; i < nbytes; ++i) acc |= static_cast<uint128>(p[byte + i]) << (8 * i);
  acc >>= shift;
  uint64_t mask = bw == 64 ? ~uint64_t{0} : ((uint64_t{1} << bw) - 1);
  return static_cast<uint64_t>(acc) & mask;
}

// ULEB128 within [*i, n).
bool Uleb(const uint8_t* p, size_t n, size_t* i, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *i < n; shift += 7) {
    uint8_t b = p[(*i)++];
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool Zigzag(const uint8_t* p, size_t n, size_t* i, int64_t* v) {
  uint64_t u = 0;
  if (!Uleb(p, n, i, &u)) return false;
  *v = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  return true;
}

template <typename T>
Status RleHybrid(std::string_view data, int bit_width, size_t n, T* out, size_t* consumed) {
  if (bit_width < 0 || bit_width > 32) {
    return BadInput("RLE/bit-packed data with bit width " + std::to_string(bit_width));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t len = data.size();
  size_t i = 0, got = 0;
  const size_t vbytes = static_cast<size_t>(bit_width + 7) / 8;
  while (got < n) {
    uint64_t h = 0;
    if (!Uleb(p, len, &i, &h)) {
      return BadInput("RLE/bit-packed data ends after " + std::to_string(got) + " of " +
                      std::to_string(n) + " values");
    }
    if (h & 1) {
      uint64_t groups = h >> 1;
      if (groups == 0 || groups > len) return BadInput("RLE/bit-packed run of bad length");
      size_t count = static_cast<size_t>(groups) * 8;
      size_t bytes = static_cast<size_t>(groups) * static_cast<size_t>(bit_width);
      if (bytes > len - i) return BadInput("bit-packed run beyond the data");
      size_t take = std::min(count, n - got);
      for (size_t k = 0; k < take; ++k) {
        out[got + k] = static_cast<T>(Bits(p + i, k * static_cast<size_t>(bit_width), bit_width));
      }
      got += take;
      i += bytes;
    } else {
      uint64_t run = h >> 1;
      if (vbytes > len - i) return BadInput("RLE run value beyond the data");
      uint64_t v = 0;
      for (size_t k = 0; k < vbytes; ++k) v |= static_cast<uint64_t>(p[i + k]) << (8 * k);
      i += vbytes;
      if (run == 0) continue;
      size_t take = run > n - got ? n - got : static_cast<size_t>(run);
      for (size_t k = 0; k < take; ++k) out[got + k] = static_cast<T>(v);
      got += take;
    }
  }
  if (consumed) *consumed = i;
  return Status::Ok();
}

}  // namespace

size_t Values::size(int physical_type) const {
  switch (physical_type) {
    case 4:
    case 5:
      return doubles.size();
    case 6:
    case 7:
      return bytes.size();
    default:
      return ints.size();
  }
}

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

Status DecodeRleHybrid(std::string_view data, int bit_width, size_t n, uint32_t* out,
                       size_t* consumed) {
  return RleHybrid(data, bit_width, n, out, consumed);
}

Status DecodeLevels(std::string_view data, int bit_width, size_t n, int16_t* out) {
  return RleHybrid(data, bit_width, n, out, nullptr);
}

Status DecodePlain(std::string_view data, int type, int type_length, size_t n, Values* out,
                   size_t* consumed) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t len = data.size();
  auto need = [&](size_t width) -> Status {
    if (width != 0 && n > len / width) {
      return BadInput("PLAIN data holds fewer than the page's " + std::to_string(n) + " values");
    }
    return Status::Ok();
  };
  switch (type) {
    case 0: {  // BOOLEAN: bit-packed, LSB first
      if ((n + 7) / 8 > len) return BadInput("PLAIN booleans beyond the data");
      for (size_t k = 0; k < n; ++k) out->ints.push_back((p[k / 8] >> (k % 8)) & 1);
      *consumed = (n + 7) / 8;
      return Status::Ok();
    }
    case 1: {
      RETURN_IF_ERROR(need(4));
      for (size_t k = 0; k < n; ++k) {
        int32_t v = 0;
        std::memcpy(&v, p + 4 * k, 4);
        out->ints.push_back(v);
      }
      *consumed = 4 * n;
      return Status::Ok();
    }
    case 2: {
      RETURN_IF_ERROR(need(8));
      size_t base = out->ints.size();
      out->ints.resize(base + n);
      if (n) std::memcpy(out->ints.data() + base, p, 8 * n);
      *consumed = 8 * n;
      return Status::Ok();
    }
    case 3: {  // INT96: nanoseconds of the day (8 bytes), Julian day (4 bytes)
      RETURN_IF_ERROR(need(12));
      for (size_t k = 0; k < n; ++k) {
        int64_t nanos = 0;
        int32_t jday = 0;
        std::memcpy(&nanos, p + 12 * k, 8);
        std::memcpy(&jday, p + 12 * k + 8, 4);
        int64_t secs = nanos / 1'000'000'000;
        if (nanos % 1'000'000'000 < 0) --secs;
        out->ints.push_back((static_cast<int64_t>(jday) - 2440588) * 86400 + secs);
      }
      *consumed = 12 * n;
      return Status::Ok();
    }
    case 4: {
      RETURN_IF_ERROR(need(4));
      for (size_t k = 0; k < n; ++k) {
        float f = 0;
        std::memcpy(&f, p + 4 * k, 4);
        out->doubles.push_back(static_cast<double>(f));
      }
      *consumed = 4 * n;
      return Status::Ok();
    }
    case 5: {
      RETURN_IF_ERROR(need(8));
      size_t base = out->doubles.size();
      out->doubles.resize(base + n);
      if (n) std::memcpy(out->doubles.data() + base, p, 8 * n);
      *consumed = 8 * n;
      return Status::Ok();
    }
    case 6: {
      RETURN_IF_ERROR(need(4));
      size_t i = 0;
      for (size_t k = 0; k < n; ++k) {
        if (len - i < 4) return BadInput("PLAIN byte array length beyond the data");
        uint32_t l = 0;
        std::memcpy(&l, p + i, 4);
        i += 4;
        if (l > len - i) return BadInput("PLAIN byte array beyond the data");
        out->bytes.emplace_back(data.data() + i, l);
        i += l;
      }
      *consumed = i;
      return Status::Ok();
    }
    case 7: {
      if (type_length <= 0) return BadInput("FIXED_LEN_BYTE_ARRAY without a length");
      auto w = static_cast<size_t>(type_length);
      RETURN_IF_ERROR(need(w));
      for (size_t k = 0; k < n; ++k) out->bytes.emplace_back(data.data() + w * k, w);
      *consumed = w * n;
      return Status::Ok();
    }
    default:
      return BadInput("unknown physical type " + std::to_string(type));
  }
}

Status DecodeDeltaBinaryPacked(std::string_view data, size_t limit, std::vector<int64_t>* out,
                               size_t* consumed) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t len = data.size();
  size_t i = 0;
  uint64_t block = 0, minis = 0, total = 0;
  int64_t first = 0;
  if (!Uleb(p, len, &i, &block) || !Uleb(p, len, &i, &minis) || !Uleb(p, len, &i, &total) ||
      !Zigzag(p, len, &i, &first)) {
    return BadInput("DELTA_BINARY_PACKED header beyond the data");
  }
  if (block == 0 || minis == 0 || block % minis != 0 || (block / minis) % 8 != 0 ||
      block > (1u << 20)) {
    return BadInput("DELTA_BINARY_PACKED header with block size " + std::to_string(block) +
                    " and " + std::to_string(minis) + " miniblocks");
  }
  if (total > limit) {
    return BadInput("DELTA_BINARY_PACKED holds " + std::to_string(total) +
                    " values, more than the page's " + std::to_string(limit));
  }
  const size_t per_mini = block / minis;
  size_t got = 0;
  auto last = static_cast<uint64_t>(first);
  if (total > 0) {
    out->push_back(first);
    ++got;
  }
  while (got < total) {
    int64_t min_delta = 0;
    if (!Zigzag(p, len, &i, &min_delta)) return BadInput("DELTA_BINARY_PACKED block beyond data");
    if (minis > len - i) return BadInput("DELTA_BINARY_PACKED bit widths beyond the data");
    const uint8_t* widths = p + i;
    i += minis;
    for (size_t m = 0; m < minis && got < total; ++m) {
      int bw = widths[m];
      if (bw > 64) return BadInput("DELTA_BINARY_PACKED bit width " + std::to_string(bw));
      size_t bytes = per_mini * static_cast<size_t>(bw) / 8;
      if (bytes > len - i) return BadInput("DELTA_BINARY_PACKED miniblock beyond the data");
      for (size_t k = 0; k < per_mini && got < total; ++k) {
        uint64_t d = Bits(p + i, k * static_cast<size_t>(bw), bw);
        last = last + static_cast<uint64_t>(min_delta) + d;  // wraps, as the spec intends
        out->push_back(static_cast<int64_t>(last));
        ++got;
      }
      i += bytes;
    }
  }
  *consumed = i;
  return Status::Ok();
}

Status DecodeDeltaLengthByteArray(std::string_view data, size_t limit,
                                  std::vector<std::string_view>* out, size_t* consumed) {
  std::vector<int64_t> lens;
  size_t used = 0;
  RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, limit, &lens, &used));
  size_t i = used;
  for (int64_t l : lens) {
    if (l < 0 || static_cast<uint64_t>(l) > data.size() - i) {
      return BadInput("DELTA_LENGTH_BYTE_ARRAY value beyond the data");
    }
    out->emplace_back(data.data() + i, static_cast<size_t>(l));
    i += static_cast<size_t>(l);
  }
  *consumed = i;
  return Status::Ok();
}

Status DecodeDeltaByteArray(std::string_view data, size_t limit, std::string* storage,
                            std::vector<std::string_view>* out) {
  std::vector<int64_t> prefix;
  size_t used = 0;
  RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, limit, &prefix, &used));
  std::vector<std::string_view> suffix;
  size_t used2 = 0;
  RETURN_IF_ERROR(DecodeDeltaLengthByteArray(data.substr(used), limit, &suffix, &used2));
  if (suffix.size() != prefix.size()) {
    return BadInput("DELTA_BYTE_ARRAY with " + std::to_string(prefix.size()) + " prefixes and " +
                    std::to_string(suffix.size()) + " suffixes");
  }
  size_t total = 0;
  uint64_t prev_len = 0;
  for (size_t k = 0; k < prefix.size(); ++k) {
    if (prefix[k] < 0 || static_cast<uint64_t>(prefix[k]) > prev_len) {
      return BadInput("DELTA_BYTE_ARRAY prefix longer than the previous value");
    }
    prev_len = static_cast<uint64_t>(prefix[k]) + suffix[k].size();
    total += static_cast<size_t>(prev_len);
    if (total > (size_t{1} << 26)) return BadInput("DELTA_BYTE_ARRAY page over 64 MiB");
  }
  storage->clear();
  storage->resize(total);
  size_t at = 0;
  std::string_view prev;
  for (size_t k = 0; k < prefix.size(); ++k) {
    auto pl = static_cast<size_t>(prefix[k]);
    char* dst = storage->data() + at;
    if (pl) std::memcpy(dst, prev.data(), pl);
    if (!suffix[k].empty()) std::memcpy(dst + pl, suffix[k].data(), suffix[k].size());
    size_t l = pl + suffix[k].size();
    prev = std::string_view(dst, l);
    out->push_back(prev);
    at += l;
  }
  return Status::Ok();
}

}  // namespace sagebox::io::parquet
