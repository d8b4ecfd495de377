#include "io/parquet_thrift.h"

namespace sagebox::io::parquet {

namespace {

// Compact protocol type ids.
enum CType : int {
  kStop = 0,
  kTrue = 1,
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

constexpr int kMaxDepth = 64;

// A cursor over compact-protocol bytes with a sticky error: after the first
// failure every read returns zero and ok() is false, so parsers can read
// freely and check once per struct.
class Reader {
 public:
  explicit Reader(std::string_view b)
      : p_(reinterpret_cast<const uint8_t*>(b.data())), end_(p_ + b.size()), begin_(p_) {}

  bool ok() const { return err_.empty(); }
  const std::string& error() const { return err_; }
  size_t pos() const { return static_cast<size_t>(p_ - begin_); }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  void Fail(std::string what) {
    if (err_.empty()) err_ = std::move(what) + " at byte " + std::to_string(pos());
    p_ = end_;
  }

  uint8_t Byte() {
    if (p_ >= end_) {
      Fail("unexpected end of Thrift data");
      return 0;
    }
    return *p_++;
  }

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = Byte();
      if (!ok()) return 0;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    Fail("varint longer than 10 bytes");
    return 0;
  }

  int64_t Zigzag() {
    uint64_t v = Varint();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }

  int32_t I32() {
    int64_t v = Zigzag();
    if (v < INT32_MIN || v > INT32_MAX) {
      Fail("i32 out of range");
      return 0;
    }
    return static_cast<int32_t>(v);
  }

  std::string_view Binary() {
    uint64_t n = Varint();
    if (n > remaining()) {
      Fail("string length " + std::to_string(n) + " beyond the data");
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }

  // Next field of the current struct: false at its end (or on error).
  bool NextField(int16_t* last, int16_t* id, int* type) {
    uint8_t b = Byte();
    if (!ok() || b == kStop) return false;
    *type = b & 0x0f;
    int delta = b >> 4;
    if (delta != 0) {
      *id = static_cast<int16_t>(*last + delta);
    } else {
      int64_t v = Zigzag();
      if (v < INT16_MIN || v > INT16_MAX) {
        Fail("field id out of range");
        return false;
      }
      *id = static_cast<int16_t>(v);
    }
    *last = *id;
    return ok();
  }

  // A list or set header; the size is checked against the bytes left (each
  // element takes at least one byte).
  bool ListHeader(int* elem_type, uint64_t* size) {
    uint8_t b = Byte();
    if (!ok()) return false;
    *elem_type = b & 0x0f;
    *size = b >> 4;
    if (*size == 15) *size = Varint();
    if (*size > remaining()) {
      Fail("list of " + std::to_string(*size) + " elements beyond the data");
      return false;
    }
    return ok();
  }

  bool BoolField(int type) { return type == kTrue; }

  void Skip(int type, int depth) {
    if (depth > kMaxDepth) {
      Fail("Thrift nesting deeper than 64");
      return;
    }
    switch (type) {
      case kTrue:
      case kFalse:
        return;
      case kByte:
        Byte();
        return;
      case kI16:
      case kI32:
      case kI64:
        Varint();
        return;
      case kDouble:
        for (int i = 0; i < 8; ++i) Byte();
        return;
      case kBinary:
        Binary();
        return;
      case kList:
      case kSet: {
        int et = 0;
        uint64_t n = 0;
        if (!ListHeader(&et, &n)) return;
        for (uint64_t i = 0; i < n && ok(); ++i) SkipElem(et, depth + 1);
        return;
      }
      case kMap: {
        uint64_t n = Varint();
        if (n == 0) return;
        if (n > remaining()) {
          Fail("map beyond the data");
          return;
        }
        uint8_t kv = Byte();
        for (uint64_t i = 0; i < n && ok(); ++i) {
          SkipElem(kv >> 4, depth + 1);
          SkipElem(kv & 0x0f, depth + 1);
        }
        return;
      }
      case kStruct: {
        int16_t last = 0, id = 0;
        int t = 0;
        while (NextField(&last, &id, &t)) Skip(t, depth + 1);
        return;
      }
      default:
        Fail("unknown Thrift type " + std::to_string(type));
    }
  }

  // Elements of containers: booleans take a byte there.
  void SkipElem(int type, int depth) {
    if (type == kTrue || type == kFalse) {
      Byte();
      return;
    }
    Skip(type, depth);
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  std::string err_;
};

// Reads an i32 field's value when its wire type is right, else skips it.
int32_t ReadI32(Reader& r, int type) {
  if (type == kI32 || type == kI16 || type == kByte) return type == kByte ? r.Byte() : r.I32();
  r.Skip(type, 1);
  return 0;
}

int64_t ReadI64(Reader& r, int type) {
  if (type == kI64 || type == kI32 || type == kI16) return r.Zigzag();
  r.Skip(type, 1);
  return 0;
}

std::string ReadString(Reader& r, int type) {
  if (type != kBinary) {
    r.Skip(type, 1);
    return {};
  }
  return std::string(r.Binary());
}

void ParseTimeUnit(Reader& r, int32_t* unit) {
  int16_t last = 0, id = 0;
  int t = 0;
  while (r.NextField(&last, &id, &t)) {
    if (id >= 1 && id <= 3 && t == kStruct) *unit = id;
    r.Skip(t, 2);
  }
}

void ParseLogicalType(Reader& r, SchemaElement* e) {
  int16_t last = 0, id = 0;
  int t = 0;
  while (r.NextField(&last, &id, &t)) {
    if (t != kStruct) {
      r.Skip(t, 2);
      continue;
    }
    e->logical = id;
    int16_t l2 = 0, id2 = 0;
    int t2 = 0;
    while (r.NextField(&l2, &id2, &t2)) {
      if (id == kLogicalDecimal && id2 == 1) {
        e->logical_scale = ReadI32(r, t2);
      } else if (id == kLogicalDecimal && id2 == 2) {
        e->logical_precision = ReadI32(r, t2);
      } else if ((id == kLogicalTimestamp || id == kLogicalTime) && id2 == 2 && t2 == kStruct) {
        ParseTimeUnit(r, &e->time_unit);
      } else {
        r.Skip(t2, 3);
      }
    }
  }
}

void ParseSchemaElement(Reader& r, SchemaElement* e) {
  int16_t last = 0, id = 0;
  int t = 0;
  while (r.NextField(&last, &id, &t)) {
    switch (id) {
      case 1:
        e->type = ReadI32(r, t);
        break;
      case 2:
        e->type_length = ReadI32(r, t);
        break;
      case 3:
        e->repetition = ReadI32(r, t);
        break;
      case 4:
        e->name = ReadString(r, t);
        break;
      case 5:
        e->num_children = ReadI32(r, t);
        break;
      case 6:
        e->converted_type = ReadI32(r, t);
        break;
      case 7:
        e->scale = ReadI32(r, t);
        break;
      case 8:
        e->precision = ReadI32(r, t);
        break;
      case 10:
        if (t == kStruct)
          ParseLogicalType(r, e);
        else
          r.Skip(t, 1);
        break;
      default:
        r.Skip(t, 1);
    }
  }
}

void ParseColumnMeta(Reader& r, ColumnMeta* m) {
  int16_t last = 0, id = 0;
  int t = 0;
  while (r.NextField(&last, &id, &t)) {
    switch (id) {
      case 1:
        m->type = ReadI32(r, t);
        break;
      case 2:
      case 3: {
        if (t != kList) {
          r.Skip(t, 2);
          break;
        }
        int et = 0;
        uint64_t n = 0;
        if (!r.ListHeader(&et, &n)) break;
        for (uint64_t i = 0; i < n && r.ok(); ++i) {
          if (id == 2 && et == kI32) {
            m->encodings.push_back(r.I32());
          } else if (id == 3 && et == kBinary) {
            m->path.emplace_back(r.Binary());
          } else {
            r.SkipElem(et, 3);
          }
        }
        break;
      }
      case 4:
        m->codec = ReadI32(r, t);
        break;
      case 5:
        m->num_values = ReadI64(r, t);
        break;
      case 6:
        m->total_uncompressed_size = ReadI64(r, t);
        break;
      case 7:
        m->total_compressed_size = ReadI64(r, t);
        break;
      case 9:
        m->data_page_offset = ReadI64(r, t);
        break;
      case 11:
        m->dictionary_page_offset = ReadI64(r, t);
        break;
      default:
        r.Skip(t, 2);
    }
  }
}

void ParseColumnChunk(Reader& r, ColumnChunk* c) {
  int16_t last = 0, id = 0;
  int t = 0;
  while (r.NextField(&last, &id, &t)) {
    if (id == 1) {
      c->file_path = ReadString(r, t);
    } else if (id == 3 && t == kStruct) {
      c->has_meta = true;
      ParseColumnMeta(r, &c->meta);
    } else {
      r.Skip(t, 2);
    }
  }
}

void ParseRowGroup(Reader& r, RowGroup* g) {
  int16_t last = 0, id = 0;
  int t = 0;
  while (r.NextField(&last, &id, &t)) {
    if (id == 1 && t == kList) {
      int et = 0;
      uint64_t n = 0;
      if (!r.ListHeader(&et, &n)) break;
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        if (et != kStruct) {
          r.SkipElem(et, 2);
          continue;
        }
        g->columns.emplace_back();
        ParseColumnChunk(r, &g->columns.back());
      }
    } else if (id == 3) {
      g->num_rows = ReadI64(r, t);
    } else {
      r.Skip(t, 1);
    }
  }
}

Status Done(const Reader& r, std::string_view what) {
  if (r.ok()) return Status::Ok();
  return BadInput("corrupt " + std::string(what) + ": " + r.error());
}

}  // namespace

Status ParseFileMetaData(std::string_view bytes, FileMetaData* out) {
  *out = FileMetaData();
  Reader r(bytes);
  int16_t last = 0, id = 0;
  int t = 0;
  bool has_schema = false;
  while (r.NextField(&last, &id, &t)) {
    switch (id) {
      case 1:
        out->version = ReadI32(r, t);
        break;
      case 2:
      case 4: {
        if (t != kList) {
          r.Skip(t, 1);
          break;
        }
        int et = 0;
        uint64_t n = 0;
        if (!r.ListHeader(&et, &n)) break;
        for (uint64_t i = 0; i < n && r.ok(); ++i) {
          if (et != kStruct) {
            r.SkipElem(et, 1);
          } else if (id == 2) {
            has_schema = true;
            out->schema.emplace_back();
            ParseSchemaElement(r, &out->schema.back());
          } else {
            out->row_groups.emplace_back();
            ParseRowGroup(r, &out->row_groups.back());
          }
        }
        break;
      }
      case 3:
        out->num_rows = ReadI64(r, t);
        break;
      case 6:
        out->created_by = ReadString(r, t);
        break;
      default:
        r.Skip(t, 1);
    }
  }
  RETURN_IF_ERROR(Done(r, "footer (FileMetaData)"));
  if (!has_schema || out->schema.empty()) {
    return BadInput("corrupt footer (FileMetaData): no schema");
  }
  return Status::Ok();
}

Status ParsePageHeader(std::string_view bytes, PageHeader* out, size_t* header_len) {
  *out = PageHeader();
  Reader r(bytes);
  int16_t last = 0, id = 0;
  int t = 0;
  bool has_type = false;
  while (r.NextField(&last, &id, &t)) {
    switch (id) {
      case 1:
        out->type = ReadI32(r, t);
        has_type = true;
        break;
      case 2:
        out->uncompressed_size = ReadI32(r, t);
        break;
      case 3:
        out->compressed_size = ReadI32(r, t);
        break;
      case 5:
      case 7:
      case 8: {
        if (t != kStruct) {
          r.Skip(t, 1);
          break;
        }
        if (id == 5) out->has_data = true;
        if (id == 7) out->has_dict = true;
        if (id == 8) out->has_v2 = true;
        int16_t l2 = 0, id2 = 0;
        int t2 = 0;
        while (r.NextField(&l2, &id2, &t2)) {
          if (id == 5) {
            if (id2 == 1)
              out->num_values = ReadI32(r, t2);
            else if (id2 == 2)
              out->encoding = ReadI32(r, t2);
            else if (id2 == 3)
              out->def_encoding = ReadI32(r, t2);
            else if (id2 == 4)
              out->rep_encoding = ReadI32(r, t2);
            else
              r.Skip(t2, 2);
          } else if (id == 7) {
            if (id2 == 1)
              out->dict_num_values = ReadI32(r, t2);
            else if (id2 == 2)
              out->dict_encoding = ReadI32(r, t2);
            else
              r.Skip(t2, 2);
          } else {
            switch (id2) {
              case 1:
                out->num_values = ReadI32(r, t2);
                break;
              case 2:
                out->num_nulls = ReadI32(r, t2);
                break;
              case 3:
                out->num_rows = ReadI32(r, t2);
                break;
              case 4:
                out->encoding = ReadI32(r, t2);
                break;
              case 5:
                out->def_levels_len = ReadI32(r, t2);
                break;
              case 6:
                out->rep_levels_len = ReadI32(r, t2);
                break;
              case 7:
                if (t2 == kTrue || t2 == kFalse)
                  out->is_compressed = r.BoolField(t2);
                else
                  r.Skip(t2, 2);
                break;
              default:
                r.Skip(t2, 2);
            }
          }
        }
        break;
      }
      default:
        r.Skip(t, 1);
    }
  }
  RETURN_IF_ERROR(Done(r, "page header"));
  if (!has_type) return BadInput("corrupt page header: no page type");
  if (out->compressed_size < 0 || out->uncompressed_size < 0 || out->num_values < 0 ||
      out->dict_num_values < 0 || out->def_levels_len < 0 || out->rep_levels_len < 0) {
    return BadInput("corrupt page header: negative size");
  }
  *header_len = r.pos();
  return Status::Ok();
}

}  // namespace sagebox::io::parquet
