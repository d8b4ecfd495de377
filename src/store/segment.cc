#include "store/segment.h"

#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <deque>

#include "core/strings.h"

namespace sagebox::store {

namespace {
constexpr std::string_view kHeadMagic = "SBXSEG01";
constexpr std::string_view kTailMagic = "SBXEND01";

uint32_t Crc(std::string_view d) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())));
}

template <typename T>
void AppendRaw(std::string* out, const T* v, size_t n) {
  out->append(reinterpret_cast<const char*>(v), n * sizeof(T));
}
}  // namespace

struct SegmentWriter::Column {
  ColumnSpec spec;
  bool set = false;
  std::vector<uint32_t> codes;
  std::vector<int64_t> i64;
  std::vector<int128> dec;
  // Dictionary: strings live in `values` (stable addresses), looked up by view.
  std::deque<std::string> values;
  std::unordered_map<std::string_view, uint32_t, StringViewHash, std::equal_to<>> index;
  std::string_view last;
  uint32_t last_code = 0;

  uint32_t Code(std::string_view v) {
    if (v.empty()) return 0;
    if (v == last) return last_code;
    auto it = index.find(v);
    uint32_t c = 0;
    if (it != index.end()) {
      c = it->second;
      last = it->first;
    } else {
      c = static_cast<uint32_t>(values.size());
      values.emplace_back(v);
      last = values.back();
      index.emplace(last, c);
    }
    last_code = c;
    return c;
  }
};

SegmentWriter::~SegmentWriter() { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_)); }

Status SegmentWriter::WriteBlock(std::string_view raw, nlohmann::json* desc) {
  if (!zstd_) zstd_ = ZSTD_createCCtx();
  packed_.resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_), packed_.data(), packed_.size(),
                               raw.data(), raw.size(), /*level=*/1);
  bool use = !ZSTD_isError(n) && n < raw.size();
  std::string_view stored = use ? std::string_view(packed_.data(), n) : raw;
  *desc = {offset_, stored.size(), Crc(stored), use ? 1 : 0, raw.size()};
  return Write(stored);
}

StatusOr<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(Env* env, const std::string& path,
                                                               std::vector<ColumnSpec> columns,
                                                               size_t row_group_rows) {
  std::unique_ptr<SegmentWriter> w(new SegmentWriter());
  ASSIGN_OR_RETURN(w->file_, env->OpenWritable(path));
  w->path_ = path;
  w->row_group_rows_ = row_group_rows;
  for (auto& c : columns) {
    auto col = std::make_unique<Column>();
    col->spec = std::move(c);
    if (col->spec.type == ColumnType::kString) col->values.emplace_back();  // code 0 = ""
    w->by_name_.emplace(col->spec.name, static_cast<int>(w->cols_.size()));
    w->cols_.push_back(std::move(col));
  }
  RETURN_IF_ERROR(w->Write(kHeadMagic));
  return w;
}

int SegmentWriter::FindColumn(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? -1 : it->second;
}

int SegmentWriter::StringColumn(std::string_view name) {
  int i = FindColumn(name);
  if (i >= 0) return i;
  auto col = std::make_unique<Column>();
  col->spec = {std::string(name), ColumnType::kString};
  col->values.emplace_back();
  col->codes.assign(group_rows_, 0);  // backfill this row group
  i = static_cast<int>(cols_.size());
  by_name_.emplace(col->spec.name, i);
  cols_.push_back(std::move(col));
  return i;
}

void SegmentWriter::SetString(int col, std::string_view v) {
  Column& c = *cols_[static_cast<size_t>(col)];
  if (c.set) c.codes.pop_back();
  c.codes.push_back(c.Code(v));
  c.set = true;
}

void SegmentWriter::SetInt64(int col, int64_t v) {
  Column& c = *cols_[static_cast<size_t>(col)];
  if (c.set) c.i64.pop_back();
  c.i64.push_back(v);
  c.set = true;
}

void SegmentWriter::SetDecimal(int col, Decimal v) {
  Column& c = *cols_[static_cast<size_t>(col)];
  if (c.set) c.dec.pop_back();
  c.dec.push_back(v.raw());
  c.set = true;
}

Status SegmentWriter::EndRow() {
  for (auto& cp : cols_) {
    Column& c = *cp;
    if (c.set) {
      c.set = false;
      continue;
    }
    switch (c.spec.type) {
      case ColumnType::kString:
        c.codes.push_back(0);
        break;
      case ColumnType::kInt64:
        c.i64.push_back(0);
        break;
      case ColumnType::kDecimal:
        c.dec.push_back(0);
        break;
    }
  }
  ++group_rows_;
  ++rows_;
  if (group_rows_ >= row_group_rows_) return FlushRowGroup();
  return Status::Ok();
}

Status SegmentWriter::Write(std::string_view data) {
  RETURN_IF_ERROR(file_->Append(data));
  offset_ += data.size();
  return Status::Ok();
}

Status SegmentWriter::FlushRowGroup() {
  if (group_rows_ == 0) return Status::Ok();
  nlohmann::json chunks = nlohmann::json::array();
  for (auto& cp : cols_) {
    Column& c = *cp;
    scratch_.clear();
    uint32_t width = 0;
    switch (c.spec.type) {
      case ColumnType::kString: {
        uint32_t mx = 0;
        for (uint32_t v : c.codes) mx = std::max(mx, v);
        width = mx < 256 ? 1 : mx < 65536 ? 2 : 4;
        scratch_.resize(c.codes.size() * width);
        char* o = scratch_.data();
        if (width == 1) {
          for (size_t i = 0; i < c.codes.size(); ++i) o[i] = static_cast<char>(c.codes[i]);
        } else if (width == 2) {
          for (size_t i = 0; i < c.codes.size(); ++i) {
            uint16_t v = static_cast<uint16_t>(c.codes[i]);
            std::memcpy(o + 2 * i, &v, 2);
          }
        } else {
          std::memcpy(o, c.codes.data(), c.codes.size() * 4);
        }
        c.codes.clear();
        break;
      }
      case ColumnType::kInt64:
        width = 8;
        AppendRaw(&scratch_, c.i64.data(), c.i64.size());
        c.i64.clear();
        break;
      case ColumnType::kDecimal: {
        bool narrow = true;
        for (int128 v : c.dec) narrow &= v >= INT64_MIN && v <= INT64_MAX;
        if (narrow) {
          width = 8;
          scratch_.resize(c.dec.size() * 8);
          for (size_t i = 0; i < c.dec.size(); ++i) {
            int64_t v = static_cast<int64_t>(c.dec[i]);
            std::memcpy(scratch_.data() + 8 * i, &v, 8);
          }
        } else {
          width = 16;
          AppendRaw(&scratch_, c.dec.data(), c.dec.size());
        }
        c.dec.clear();
        break;
      }
    }
    nlohmann::json desc;
    RETURN_IF_ERROR(WriteBlock(scratch_, &desc));
    desc.insert(desc.begin() + 2, width);  // [offset, length, width, crc, codec, raw length]
    chunks.push_back(std::move(desc));
  }
  row_groups_.push_back({{"rows", group_rows_}, {"chunks", std::move(chunks)}});
  group_rows_ = 0;
  return Status::Ok();
}

Status SegmentWriter::Finish(const nlohmann::json& meta) {
  RETURN_IF_ERROR(FlushRowGroup());
  nlohmann::json cols = nlohmann::json::array();
  for (auto& cp : cols_) {
    Column& c = *cp;
    nlohmann::json jc = {{"name", c.spec.name}, {"type", static_cast<int>(c.spec.type)}};
    if (c.spec.type == ColumnType::kString) {
      // Dictionary block: u32 count, then (u32 length, bytes) per entry.
      scratch_.clear();
      uint32_t n = static_cast<uint32_t>(c.values.size());
      AppendRaw(&scratch_, &n, 1);
      for (const auto& v : c.values) {
        uint32_t len = static_cast<uint32_t>(v.size());
        AppendRaw(&scratch_, &len, 1);
        scratch_.append(v);
      }
      RETURN_IF_ERROR(WriteBlock(scratch_, &jc["dict"]));
    }
    cols.push_back(std::move(jc));
  }
  nlohmann::json footer = {{"version", 1},
                           {"rows", rows_},
                           {"columns", std::move(cols)},
                           {"row_groups", row_groups_},
                           {"meta", meta}};
  std::string f = footer.dump();
  uint64_t len = f.size();
  f.append(reinterpret_cast<const char*>(&len), 8);
  f.append(kTailMagic);
  RETURN_IF_ERROR(Write(f));
  RETURN_IF_ERROR(file_->Sync());
  return file_->Close();
}

namespace {
// Reads a block written by WriteBlock, checks its CRC and inflates it.
Status ReadBlock(const RandomAccessFile& f, const std::string& path, uint64_t offset,
                 uint64_t length, uint32_t crc, uint32_t codec, uint64_t raw_length,
                 std::string* out) {
  auto corrupt = [&](const char* why) { return Corruption(path + ": " + why); };
  if (offset + length > f.Size()) return corrupt("block beyond the file");
  if (codec > 1 || (codec == 0 && raw_length != length)) return corrupt("bad block header");
  thread_local std::string packed;
  std::string* dst = codec == 0 ? out : &packed;
  dst->resize(length);
  RETURN_IF_ERROR(f.ReadAt(offset, length, dst->data()));
  if (Crc(*dst) != crc) return corrupt("checksum mismatch");
  if (codec == 1) {
    unsigned long long size = ZSTD_getFrameContentSize(packed.data(), packed.size());
    if (size != raw_length) return corrupt("compressed block of the wrong size");
    out->resize(raw_length);
    size_t n = ZSTD_decompress(out->data(), out->size(), packed.data(), packed.size());
    if (ZSTD_isError(n) || n != raw_length) return corrupt("undecodable compressed block");
  }
  return Status::Ok();
}
}  // namespace

StatusOr<std::shared_ptr<Segment>> Segment::Open(Env* env, const std::string& path) {
  // NOLINTNEXTLINE(modernize-make-shared): the constructor is private.
  auto seg = std::shared_ptr<Segment>(new Segment());
  seg->path_ = path;
  ASSIGN_OR_RETURN(seg->file_, env->OpenRandomAccess(path));
  const uint64_t size = seg->file_->Size();
  auto corrupt = [&](const std::string& why) { return Corruption(path + ": " + why); };
  if (size < kHeadMagic.size() + 16) return corrupt("too short to be a segment");
  char head[8];
  RETURN_IF_ERROR(seg->file_->ReadAt(0, 8, head));
  if (std::string_view(head, 8) != kHeadMagic) return corrupt("not a sagebox segment (bad magic)");
  char tail[16];
  RETURN_IF_ERROR(seg->file_->ReadAt(size - 16, 16, tail));
  if (std::string_view(tail + 8, 8) != kTailMagic) return corrupt("missing end marker");
  uint64_t flen = 0;
  std::memcpy(&flen, tail, 8);
  if (flen > size - 16 - kHeadMagic.size()) return corrupt("footer length beyond the file");
  std::string f(flen, '\0');
  RETURN_IF_ERROR(seg->file_->ReadAt(size - 16 - flen, flen, f.data()));
  nlohmann::json footer = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (footer.is_discarded() || !footer.is_object()) return corrupt("unreadable footer");
  try {
    seg->rows_ = footer.at("rows").get<int64_t>();
    seg->meta_ = footer.value("meta", nlohmann::json::object());
    for (const auto& jc : footer.at("columns")) {
      seg->cols_.push_back(
          {jc.at("name").get<std::string>(), static_cast<ColumnType>(jc.at("type").get<int>())});
      std::vector<std::string> dict;
      if (jc.contains("dict")) {
        const auto& jd = jc["dict"];
        std::string d;
        RETURN_IF_ERROR(ReadBlock(*seg->file_, path, jd.at(0).get<uint64_t>(),
                                  jd.at(1).get<uint64_t>(), jd.at(2).get<uint32_t>(),
                                  jd.at(3).get<uint32_t>(), jd.at(4).get<uint64_t>(), &d)
                            .WithContext("dictionary"));
        const size_t len = d.size();
        if (len < 4) return corrupt("short dictionary");
        uint32_t n = 0;
        std::memcpy(&n, d.data(), 4);
        size_t p = 4;
        dict.reserve(n);
        for (uint32_t i = 0; i < n; ++i) {
          if (p + 4 > d.size()) return corrupt("truncated dictionary");
          uint32_t l = 0;
          std::memcpy(&l, d.data() + p, 4);
          p += 4;
          if (p + l > d.size()) return corrupt("truncated dictionary");
          dict.emplace_back(d.data() + p, l);
          p += l;
        }
      }
      seg->dicts_.push_back(std::move(dict));
    }
    for (const auto& jg : footer.at("row_groups")) {
      Group g;
      g.rows = jg.at("rows").get<size_t>();
      for (const auto& jk : jg.at("chunks")) {
        Chunk k{jk.at(0).get<uint64_t>(), jk.at(1).get<uint32_t>(), jk.at(2).get<uint32_t>(),
                jk.at(3).get<uint32_t>(), jk.at(4).get<uint32_t>(), jk.at(5).get<uint64_t>()};
        if (k.offset + k.length > size) return corrupt("column chunk beyond the file");
        g.chunks.push_back(k);
      }
      seg->groups_.push_back(std::move(g));
    }
  } catch (const nlohmann::json::exception& e) {
    return corrupt(std::string("malformed footer: ") + e.what());
  }
  return seg;
}

int Segment::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < cols_.size(); ++i) {
    if (cols_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Status Segment::ReadChunk(size_t rg, int col, ColumnType want, std::string* buf,
                          uint32_t* width) const {
  if (col < 0 || static_cast<size_t>(col) >= cols_.size() || cols_[col].type != want) {
    return Internal(path_ + ": column " + std::to_string(col) + " read with the wrong type");
  }
  const Group& g = groups_[rg];
  if (static_cast<size_t>(col) >= g.chunks.size()) {
    *width = 0;  // column added after this row group: all defaults
    return Status::Ok();
  }
  const Chunk& k = g.chunks[static_cast<size_t>(col)];
  // The footer has no checksum of its own: never trust a width that does not
  // fit the column type, or a read could run past the chunk.
  bool width_ok = want == ColumnType::kString  ? (k.width == 1 || k.width == 2 || k.width == 4)
                  : want == ColumnType::kInt64 ? k.width == 8
                                               : (k.width == 8 || k.width == 16);
  if (!width_ok || k.raw_length != g.rows * k.width) {
    return Corruption(path_ + ": bad chunk size");
  }
  RETURN_IF_ERROR(ReadBlock(*file_, path_, k.offset, k.length, k.crc, k.codec, k.raw_length, buf)
                      .WithContext("column chunk"));
  *width = k.width;
  return Status::Ok();
}

Status Segment::ReadCodes(size_t rg, int col, std::vector<uint32_t>* out) const {
  thread_local std::string buf;
  uint32_t w = 0;
  RETURN_IF_ERROR(ReadChunk(rg, col, ColumnType::kString, &buf, &w));
  size_t n = groups_[rg].rows;
  out->resize(n);
  const char* p = buf.data();
  if (w == 0) {
    std::fill(out->begin(), out->end(), 0);
  } else if (w == 1) {
    for (size_t i = 0; i < n; ++i) (*out)[i] = static_cast<uint8_t>(p[i]);
  } else if (w == 2) {
    for (size_t i = 0; i < n; ++i) {
      uint16_t v = 0;
      std::memcpy(&v, p + 2 * i, 2);
      (*out)[i] = v;
    }
  } else {
    std::memcpy(out->data(), p, n * 4);
  }
  const size_t dict = dicts_[static_cast<size_t>(col)].size();
  for (uint32_t v : *out) {
    if (v >= dict) return Corruption(path_ + ": dictionary code out of range");
  }
  return Status::Ok();
}

Status Segment::ReadInt64(size_t rg, int col, std::vector<int64_t>* out) const {
  thread_local std::string buf;
  uint32_t w = 0;
  RETURN_IF_ERROR(ReadChunk(rg, col, ColumnType::kInt64, &buf, &w));
  size_t n = groups_[rg].rows;
  out->resize(n);
  if (w == 0)
    std::fill(out->begin(), out->end(), 0);
  else
    std::memcpy(out->data(), buf.data(), n * 8);
  return Status::Ok();
}

Status Segment::ReadDecimal(size_t rg, int col, std::vector<int128>* out) const {
  thread_local std::string buf;
  uint32_t w = 0;
  RETURN_IF_ERROR(ReadChunk(rg, col, ColumnType::kDecimal, &buf, &w));
  size_t n = groups_[rg].rows;
  out->resize(n);
  if (w == 0) {
    std::fill(out->begin(), out->end(), 0);
  } else if (w == 8) {
    for (size_t i = 0; i < n; ++i) {
      int64_t v = 0;
      std::memcpy(&v, buf.data() + 8 * i, 8);
      (*out)[i] = v;
    }
  } else {
    std::memcpy(static_cast<void*>(out->data()), buf.data(), n * 16);
  }
  return Status::Ok();
}

}  // namespace sagebox::store
