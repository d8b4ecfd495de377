#include "io/parquet_reader.h"

#include <libdeflate.h>
#include <snappy-c.h>
#include <zstd.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace sagebox::io::parquet {

namespace {

constexpr size_t kMaxPage = size_t{1} << 30;  // no real page is near this (writers use ~1 MiB)
constexpr int kMaxSchemaDepth = 32;
// Values (levels) per page and per column chunk. Writers stop pages at ~1 MiB
// or 20,000 rows and row groups at ~1M rows; these bounds are far above that
// and keep a corrupt header from asking for gigabytes.
constexpr int64_t kMaxPageValues = int64_t{1} << 22;
constexpr int64_t kMaxChunkValues = int64_t{1} << 25;

std::string CodecName(int c) {
  switch (c) {
    case kUncompressed:
      return "UNCOMPRESSED";
    case kSnappy:
      return "SNAPPY";
    case kGzip:
      return "GZIP";
    case kLzo:
      return "LZO";
    case kBrotli:
      return "BROTLI";
    case kLz4:
      return "LZ4";
    case kZstd:
      return "ZSTD";
    case kLz4Raw:
      return "LZ4_RAW";
  }
  return "codec " + std::to_string(c);
}

std::string EncodingName(int e) {
  switch (e) {
    case kPlain:
      return "PLAIN";
    case kPlainDictionary:
      return "PLAIN_DICTIONARY";
    case kRle:
      return "RLE";
    case kBitPacked:
      return "BIT_PACKED";
    case kDeltaBinaryPacked:
      return "DELTA_BINARY_PACKED";
    case kDeltaLengthByteArray:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case kDeltaByteArray:
      return "DELTA_BYTE_ARRAY";
    case kRleDictionary:
      return "RLE_DICTIONARY";
    case kByteStreamSplit:
      return "BYTE_STREAM_SPLIT";
  }
  return "encoding " + std::to_string(e);
}

uint32_t Le32(const char* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, 4);
  return v;
}

// Levels of a v1 page: RLE with a 4-byte length prefix. Advances *data.
Status ReadV1Levels(std::string_view* data, int encoding, int16_t max_level, size_t n,
                    std::vector<int16_t>* out) {
  if (encoding != kRle) {
    return BadInput("levels in unsupported encoding " + EncodingName(encoding));
  }
  if (data->size() < 4) return BadInput("levels length beyond the page");
  uint32_t len = Le32(data->data());
  if (len > data->size() - 4) return BadInput("levels beyond the page");
  out->resize(n);
  RETURN_IF_ERROR(DecodeLevels(data->substr(4, len), BitWidth(static_cast<uint64_t>(max_level)), n,
                               out->data()));
  *data = data->substr(4 + len);
  return Status::Ok();
}

Status CheckLevels(const std::vector<int16_t>& lv, size_t from, int16_t max_level,
                   const char* what) {
  for (size_t i = from; i < lv.size(); ++i) {
    if (lv[i] < 0 || lv[i] > max_level) {
      return BadInput(std::string(what) + " level " + std::to_string(lv[i]) +
                      " above the maximum " + std::to_string(max_level));
    }
  }
  return Status::Ok();
}

void AppendFromDict(const Values& dict, int type, size_t idx, Values* out) {
  switch (type) {
    case kFloat:
    case kDouble:
      out->doubles.push_back(dict.doubles[idx]);
      break;
    case kByteArray:
    case kFixedLenByteArray:
      out->bytes.push_back(dict.bytes[idx]);
      break;
    default:
      out->ints.push_back(dict.ints[idx]);
  }
}

}  // namespace

void ColumnData::Clear() {
  num_levels = 0;
  def.clear();
  rep.clear();
  values.clear();
  storage.clear();
}

Status Decompress(int codec, std::string_view in, size_t size, std::string* out) {
  if (size > kMaxPage) return BadInput("page of " + std::to_string(size) + " bytes");
  // A header may claim any size: refuse what the codec cannot produce from
  // this input (SNAPPY expands at most ~21x, DEFLATE 1032x) before allocating.
  // ZSTD can expand further; its frame header must agree, and 64 MiB or 4096x bounds it.
  const size_t in_n = in.size();
  if ((codec == kSnappy && size > 32 * in_n + 64) ||
      (codec == kGzip && size > 1032 * in_n + 1024) ||
      (codec == kZstd && size > (size_t{64} << 20) && size / 4096 > in_n)) {
    return BadInput("corrupt " + CodecName(codec) + " page: " + std::to_string(in_n) +
                    " bytes cannot hold " + std::to_string(size));
  }
  switch (codec) {
    case kUncompressed:
      if (in.size() != size) return BadInput("uncompressed page size differs from its header");
      out->assign(in);
      return Status::Ok();
    case kSnappy: {
      size_t n = 0;
      if (snappy_uncompressed_length(in.data(), in.size(), &n) != SNAPPY_OK || n != size) {
        return BadInput("corrupt SNAPPY page (bad length header)");
      }
      out->resize(size);
      size_t got = size;
      if (snappy_uncompress(in.data(), in.size(), out->data(), &got) != SNAPPY_OK || got != size) {
        return BadInput("corrupt SNAPPY page");
      }
      return Status::Ok();
    }
    case kGzip: {
      // ISIZE (the size mod 2^32) ends a gzip member: check it before allocating.
      if (in.size() < 18 || Le32(in.data() + in.size() - 4) != static_cast<uint32_t>(size)) {
        return BadInput("corrupt GZIP page (size trailer differs from the header)");
      }
      out->resize(size);
      libdeflate_decompressor* d = libdeflate_alloc_decompressor();
      if (d == nullptr) return Internal("out of memory for a GZIP decompressor");
      size_t got = 0;
      libdeflate_result r =
          libdeflate_gzip_decompress(d, in.data(), in.size(), out->data(), size, &got);
      libdeflate_free_decompressor(d);
      if (r != LIBDEFLATE_SUCCESS || got != size) return BadInput("corrupt GZIP page");
      return Status::Ok();
    }
    case kZstd: {
      unsigned long long n = ZSTD_getFrameContentSize(in.data(), in.size());
      if (n == ZSTD_CONTENTSIZE_ERROR) return BadInput("corrupt ZSTD page (bad frame header)");
      if (n != ZSTD_CONTENTSIZE_UNKNOWN && n != size) {
        return BadInput("corrupt ZSTD page (size differs from the page header)");
      }
      out->resize(size);
      size_t got = ZSTD_decompress(out->data(), size, in.data(), in.size());
      if (ZSTD_isError(got) || got != size) return BadInput("corrupt ZSTD page");
      return Status::Ok();
    }
    default:
      return BadInput("unsupported compression codec " + CodecName(codec) +
                      " (supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD)");
  }
}

bool DecimalFromUnscaled(int128 v, int scale, Decimal* out) {
  if (scale < 0 || scale > 38) return false;
  constexpr int128 kMax = static_cast<int128>(~static_cast<uint128>(0) >> 1);
  if (scale <= Decimal::kScale) {
    int128 mul = 1;
    for (int i = scale; i < Decimal::kScale; ++i) mul *= 10;
    if (v > kMax / mul || v < -(kMax / mul)) return false;
    *out = Decimal::FromRaw(v * mul);
    return true;
  }
  int128 div = 1;
  for (int i = Decimal::kScale; i < scale; ++i) div *= 10;
  int128 q = v / div, r = v % div;
  // Half away from zero, as Decimal::Parse rounds text with more places.
  if (r < 0 ? -r * 2 >= div : r * 2 >= div) q += v < 0 ? -1 : 1;
  *out = Decimal::FromRaw(q);
  return true;
}

bool DoubleToDecimal(double v, Decimal* out) {
  // Fast path: when |v| < 2^19 its ulp is below 1e-10, so at most one number
  // with 10 decimals reads back as v; if round(v * 1e10) / 1e10 does, it is
  // that number, and v's shortest text is the same number (with its trailing
  // zeros dropped).
  if (v > -524288.0 && v < 524288.0) {
    double scaled = std::nearbyint(v * 1e10);
    auto r = static_cast<int64_t>(scaled);
    if (static_cast<double>(r) / 1e10 == v) {
      *out = Decimal::FromRaw(r);
      return true;
    }
  }
  if (!std::isfinite(v)) return false;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return Decimal::Parse(std::string_view(buf, static_cast<size_t>(res.ptr - buf)), out);
}

bool DecimalFromBigEndian(std::string_view b, int scale, Decimal* out) {
  if (b.empty()) {
    *out = Decimal();
    return true;
  }
  if (b.size() > 16) {
    // Only sign-extension bytes may precede the last 16.
    auto fill = static_cast<uint8_t>((static_cast<uint8_t>(b[0]) & 0x80) ? 0xff : 0);
    for (size_t i = 0; i + 16 < b.size(); ++i) {
      if (static_cast<uint8_t>(b[i]) != fill) return false;
    }
    b = b.substr(b.size() - 16);
  }
  uint128 u = (static_cast<uint8_t>(b[0]) & 0x80) ? ~static_cast<uint128>(0) : 0;
  for (char c : b) u = (u << 8) | static_cast<uint8_t>(c);
  return DecimalFromUnscaled(static_cast<int128>(u), scale, out);
}

StatusOr<std::unique_ptr<ParquetFile>> ParquetFile::Open(Env* env, const std::string& path) {
  std::unique_ptr<ParquetFile> pf(new ParquetFile());
  pf->name_ = path;
  ASSIGN_OR_RETURN(pf->file_, env->OpenRandomAccess(path));
  pf->size_ = pf->file_->Size();
  if (pf->size_ < 12) {
    return BadInput(path + ": not a Parquet file: " + std::to_string(pf->size_) +
                    " bytes is too short (expected 'PAR1', a footer, its length and 'PAR1')");
  }
  char head[4], tail[8];
  RETURN_IF_ERROR(pf->file_->ReadAt(0, 4, head));
  RETURN_IF_ERROR(pf->file_->ReadAt(pf->size_ - 8, 8, tail));
  if (std::memcmp(head, "PAR1", 4) != 0) {
    return BadInput(path + ": not a Parquet file: bad magic (expected 'PAR1' at the start)");
  }
  if (std::memcmp(tail + 4, "PARE", 4) == 0) {
    return BadInput(path + ": encrypted Parquet footers ('PARE') are unsupported");
  }
  if (std::memcmp(tail + 4, "PAR1", 4) != 0) {
    return BadInput(path +
                    ": corrupt Parquet file: bad magic at the end (expected 'PAR1'; "
                    "truncated file?)");
  }
  uint32_t flen = Le32(tail);
  if (flen == 0 || flen > pf->size_ - 12) {
    return BadInput(path + ": corrupt Parquet file: footer length " + std::to_string(flen) +
                    " is beyond the file of " + std::to_string(pf->size_) +
                    " bytes (truncated file?)");
  }
  pf->data_end_ = pf->size_ - 8 - flen;
  std::string footer(flen, '\0');
  RETURN_IF_ERROR(pf->file_->ReadAt(pf->data_end_, flen, footer.data()));
  pf->bytes_read_ = flen + 12;
  Status s = ParseFileMetaData(footer, &pf->meta_);
  if (!s.ok()) return BadInput(path + ": " + s.message());
  s = pf->BuildSchema();
  if (!s.ok()) return BadInput(path + ": corrupt Parquet schema: " + s.message());
  for (size_t g = 0; g < pf->meta_.row_groups.size(); ++g) {
    const RowGroup& rg = pf->meta_.row_groups[g];
    if (rg.columns.size() != pf->leaves_.size() || rg.num_rows < 0) {
      return BadInput(path + ": corrupt Parquet footer: row group " + std::to_string(g) + " has " +
                      std::to_string(rg.columns.size()) + " column chunks for " +
                      std::to_string(pf->leaves_.size()) + " schema columns");
    }
  }
  return pf;
}

Status ParquetFile::BuildSchema() {
  const auto& s = meta_.schema;
  size_t idx = 1;
  std::vector<std::string> path;
  // Depth-first over the flattened tree; children follow their parent.
  auto walk = [&](auto&& self, int depth, int16_t def, int16_t rep, size_t top) -> Status {
    if (depth > kMaxSchemaDepth) return BadInput("schema nested deeper than 32");
    if (idx >= s.size()) return BadInput("schema ends inside a group");
    const SchemaElement& e = s[idx++];
    if (e.repetition != 0) ++def;
    if (e.repetition == 2) ++rep;
    path.push_back(e.name);
    if (e.num_children > 0) {
      if (static_cast<size_t>(e.num_children) > s.size()) return BadInput("bad child count");
      for (int32_t c = 0; c < e.num_children; ++c) {
        RETURN_IF_ERROR(self(self, depth + 1, def, rep, top));
      }
    } else {
      if (e.type < kBoolean || e.type > kFixedLenByteArray) {
        return BadInput("column '" + e.name + "' has no valid physical type");
      }
      if (e.type == kFixedLenByteArray && e.type_length <= 0) {
        return BadInput("column '" + e.name + "' is FIXED_LEN_BYTE_ARRAY without a length");
      }
      LeafColumn l;
      l.path = path;
      l.max_def = def;
      l.max_rep = rep;
      l.elem = e;
      l.top = top;
      top_[top].leaves.push_back(leaves_.size());
      leaves_.push_back(std::move(l));
    }
    path.pop_back();
    return Status::Ok();
  };
  int32_t n = s[0].num_children;
  if (n < 0 || static_cast<size_t>(n) > s.size()) return BadInput("bad root child count");
  for (int32_t c = 0; c < n; ++c) {
    if (idx >= s.size()) return BadInput("schema ends early");
    const SchemaElement& e = s[idx];
    TopField t;
    t.name = e.name;
    t.is_group = e.num_children > 0;
    t.converted_type = e.converted_type;
    t.logical = e.logical;
    top_.push_back(std::move(t));
    RETURN_IF_ERROR(walk(walk, 1, 0, 0, top_.size() - 1));
  }
  return Status::Ok();
}

Status ParquetFile::ReadColumn(size_t rg, size_t leaf, ColumnData* out) {
  out->Clear();
  const LeafColumn& lc = leaves_[leaf];
  out->physical_type = lc.elem.type;
  std::string col;
  for (const auto& p : lc.path) col += (col.empty() ? "" : ".") + p;
  std::string where = name_ + ": column '" + col + "', row group " + std::to_string(rg);
  const ColumnChunk& cc = meta_.row_groups[rg].columns[leaf];
  if (!cc.file_path.empty()) {
    return BadInput(where + ": column data in another file ('" + cc.file_path +
                    "') is unsupported");
  }
  if (!cc.has_meta) return BadInput(where + ": corrupt footer: column chunk without metadata");
  const ColumnMeta& m = cc.meta;
  if (m.type != lc.elem.type) {
    return BadInput(where + ": corrupt footer: chunk type differs from the schema");
  }
  int64_t start = m.data_page_offset;
  if (m.dictionary_page_offset > 0 && m.dictionary_page_offset < start) {
    start = m.dictionary_page_offset;
  }
  if (start < 4 || m.total_compressed_size < 0 || static_cast<uint64_t>(start) > data_end_ ||
      static_cast<uint64_t>(m.total_compressed_size) > data_end_ - static_cast<uint64_t>(start)) {
    return BadInput(where + ": corrupt footer: column chunk at " + std::to_string(start) + "+" +
                    std::to_string(m.total_compressed_size) + " lies outside the data of " +
                    std::to_string(data_end_) + " bytes (truncated file?)");
  }
  if (m.num_values < 0 || m.num_values > kMaxChunkValues) {
    return BadInput(where + ": column chunk of " + std::to_string(m.num_values) +
                    " values (corrupt footer, or more than this reader's limit of " +
                    std::to_string(kMaxChunkValues) + ")");
  }
  // Kept in `out`: uncompressed v2 pages are decoded in place.
  std::string& raw = out->storage.emplace_back(static_cast<size_t>(m.total_compressed_size), '\0');
  RETURN_IF_ERROR(file_->ReadAt(static_cast<uint64_t>(start), raw.size(), raw.data()));
  bytes_read_ += raw.size();
  return ReadPages(m, lc, raw, out, &where);
}

Status ParquetFile::ReadPages(const ColumnMeta& m, const LeafColumn& lc, std::string_view raw,
                              ColumnData* out, std::string* where) {
  const int type = lc.elem.type;
  Values dict;
  bool has_dict = false;
  size_t pos = 0;
  const auto want = static_cast<uint64_t>(m.num_values);
  uint64_t seen = 0;
  std::vector<uint32_t> idx;
  for (int page = 0; pos < raw.size() && seen < want; ++page) {
    std::string here = *where + ", page " + std::to_string(page);
    PageHeader h;
    size_t hlen = 0;
    Status s = ParsePageHeader(raw.substr(pos), &h, &hlen);
    if (!s.ok()) return BadInput(here + ": " + s.message());
    pos += hlen;
    if (static_cast<size_t>(h.compressed_size) > raw.size() - pos) {
      return BadInput(here + ": page of " + std::to_string(h.compressed_size) +
                      " bytes runs past the column chunk (truncated or corrupt file)");
    }
    std::string_view body = raw.substr(pos, static_cast<size_t>(h.compressed_size));
    pos += static_cast<size_t>(h.compressed_size);
    auto fail = [&](const Status& st) { return BadInput(here + ": " + st.message()); };

    if (h.type == kIndexPage) continue;
    if (h.type == kDictionaryPage) {
      if (!h.has_dict) return BadInput(here + ": dictionary page without its header");
      if (h.dict_encoding != kPlain && h.dict_encoding != kPlainDictionary) {
        return BadInput(here + ": dictionary in unsupported encoding " +
                        EncodingName(h.dict_encoding));
      }
      std::string& buf = out->storage.emplace_back();
      s = Decompress(m.codec, body, static_cast<size_t>(h.uncompressed_size), &buf);
      if (!s.ok()) return fail(s);
      dict.clear();
      size_t used = 0;
      s = DecodePlain(buf, type, lc.elem.type_length, static_cast<size_t>(h.dict_num_values), &dict,
                      &used);
      if (!s.ok()) return fail(s);
      has_dict = true;
      continue;
    }
    if (h.type != kDataPage && h.type != kDataPageV2) {
      return BadInput(here + ": unknown page type " + std::to_string(h.type));
    }
    if ((h.type == kDataPage && !h.has_data) || (h.type == kDataPageV2 && !h.has_v2)) {
      return BadInput(here + ": data page without its header");
    }
    const auto n = static_cast<size_t>(h.num_values);
    if (h.num_values > kMaxPageValues) {
      return BadInput(here + ": page of " + std::to_string(n) + " values (limit " +
                      std::to_string(kMaxPageValues) + ")");
    }
    if (n > want - seen) {
      return BadInput(here + ": page holds more values than the column chunk");
    }
    const size_t lv0 = out->num_levels;
    std::string_view data;
    if (h.type == kDataPage) {
      std::string& buf = out->storage.emplace_back();
      s = Decompress(m.codec, body, static_cast<size_t>(h.uncompressed_size), &buf);
      if (!s.ok()) return fail(s);
      data = buf;
      std::vector<int16_t> tmp;
      if (lc.max_rep > 0) {
        s = ReadV1Levels(&data, h.rep_encoding, lc.max_rep, n, &tmp);
        if (!s.ok()) return fail(s);
        out->rep.insert(out->rep.end(), tmp.begin(), tmp.end());
      }
      if (lc.max_def > 0) {
        s = ReadV1Levels(&data, h.def_encoding, lc.max_def, n, &tmp);
        if (!s.ok()) return fail(s);
        out->def.insert(out->def.end(), tmp.begin(), tmp.end());
      }
    } else {
      auto rl = static_cast<size_t>(h.rep_levels_len);
      auto dl = static_cast<size_t>(h.def_levels_len);
      if (rl > body.size() || dl > body.size() - rl) {
        return BadInput(here + ": levels beyond the page");
      }
      if (lc.max_rep > 0) {
        out->rep.resize(lv0 + n);
        s = DecodeLevels(body.substr(0, rl), BitWidth(static_cast<uint64_t>(lc.max_rep)), n,
                         out->rep.data() + lv0);
        if (!s.ok()) return fail(s);
      }
      if (lc.max_def > 0) {
        out->def.resize(lv0 + n);
        s = DecodeLevels(body.substr(rl, dl), BitWidth(static_cast<uint64_t>(lc.max_def)), n,
                         out->def.data() + lv0);
        if (!s.ok()) return fail(s);
      }
      std::string_view rest = body.substr(rl + dl);
      if (h.is_compressed && m.codec != kUncompressed) {
        auto un = static_cast<size_t>(h.uncompressed_size);
        if (un < rl + dl) return BadInput(here + ": page size smaller than its levels");
        std::string& buf = out->storage.emplace_back();
        s = Decompress(m.codec, rest, un - rl - dl, &buf);
        if (!s.ok()) return fail(s);
        data = buf;
      } else {
        data = rest;
      }
    }
    if (lc.max_rep > 0) {
      s = CheckLevels(out->rep, lv0, lc.max_rep, "repetition");
      if (!s.ok()) return fail(s);
    }
    size_t nonnull = n;
    if (lc.max_def > 0) {
      s = CheckLevels(out->def, lv0, lc.max_def, "definition");
      if (!s.ok()) return fail(s);
      nonnull = 0;
      for (size_t i = lv0; i < lv0 + n; ++i) nonnull += out->def[i] == lc.max_def;
    }
    out->num_levels += n;
    seen += n;

    const size_t before = out->values.size(type);
    size_t used = 0;
    switch (h.encoding) {
      case kPlain:
        s = DecodePlain(data, type, lc.elem.type_length, nonnull, &out->values, &used);
        break;
      case kPlainDictionary:
      case kRleDictionary: {
        if (!has_dict) return BadInput(here + ": dictionary-encoded page without a dictionary");
        if (nonnull == 0) break;
        if (data.empty()) return BadInput(here + ": dictionary indices missing");
        int bw = static_cast<uint8_t>(data[0]);
        idx.resize(nonnull);
        s = DecodeRleHybrid(data.substr(1), bw, nonnull, idx.data());
        if (!s.ok()) break;
        const size_t dn = dict.size(type);
        for (uint32_t k : idx) {
          if (k >= dn) {
            return BadInput(here + ": dictionary index " + std::to_string(k) +
                            " beyond the dictionary of " + std::to_string(dn));
          }
          AppendFromDict(dict, type, k, &out->values);
        }
        break;
      }
      case kRle: {
        if (type != kBoolean) return BadInput(here + ": RLE values for a non-boolean column");
        if (data.size() < 4 || Le32(data.data()) > data.size() - 4) {
          return BadInput(here + ": RLE booleans beyond the page");
        }
        idx.resize(nonnull);
        s = DecodeRleHybrid(data.substr(4, Le32(data.data())), 1, nonnull, idx.data());
        for (uint32_t k : idx) out->values.ints.push_back(k);
        break;
      }
      case kDeltaBinaryPacked:
        if (type != kInt32 && type != kInt64) {
          return BadInput(here + ": DELTA_BINARY_PACKED for a non-integer column");
        }
        s = DecodeDeltaBinaryPacked(data, nonnull, &out->values.ints, &used);
        if (s.ok() && type == kInt32) {
          for (size_t i = before; i < out->values.ints.size(); ++i) {
            out->values.ints[i] = static_cast<int32_t>(static_cast<uint32_t>(out->values.ints[i]));
          }
        }
        break;
      case kDeltaLengthByteArray:
        if (type != kByteArray) return BadInput(here + ": DELTA_LENGTH_BYTE_ARRAY for non-bytes");
        s = DecodeDeltaLengthByteArray(data, nonnull, &out->values.bytes, &used);
        break;
      case kDeltaByteArray:
        if (type != kByteArray && type != kFixedLenByteArray) {
          return BadInput(here + ": DELTA_BYTE_ARRAY for non-bytes");
        }
        s = DecodeDeltaByteArray(data, nonnull, &out->storage.emplace_back(), &out->values.bytes);
        break;
      case kByteStreamSplit: {
        size_t w = type == kFloat || type == kInt32    ? 4
                   : type == kDouble || type == kInt64 ? 8
                   : type == kFixedLenByteArray        ? static_cast<size_t>(lc.elem.type_length)
                                                       : 0;
        if (w == 0 || w > 8 || (nonnull != 0 && data.size() / w < nonnull)) {
          return BadInput(here + ": BYTE_STREAM_SPLIT data beyond the page or unsupported type");
        }
        std::string& buf = out->storage.emplace_back(nonnull * w, '\0');
        for (size_t k = 0; k < nonnull; ++k) {
          for (size_t b = 0; b < w; ++b) buf[k * w + b] = data[b * nonnull + k];
        }
        s = DecodePlain(buf, type, lc.elem.type_length, nonnull, &out->values, &used);
        break;
      }
      default:
        return BadInput(here + ": unsupported encoding " + EncodingName(h.encoding) +
                        " (supported: PLAIN, RLE, dictionary, DELTA_*, BYTE_STREAM_SPLIT)");
    }
    if (!s.ok()) return fail(s);
    if (out->values.size(type) - before != nonnull) {
      return BadInput(here + ": decoded " + std::to_string(out->values.size(type) - before) +
                      " values, expected " + std::to_string(nonnull));
    }
  }
  if (seen != want) {
    return BadInput(*where + ": column chunk holds " + std::to_string(seen) + " of its " +
                    std::to_string(want) + " values (truncated or corrupt)");
  }
  return Status::Ok();
}

}  // namespace sagebox::io::parquet
