#include "cost/parquet_billing_reader.h"

#include <charconv>
#include <cmath>
#include <unordered_map>

#include "cost/billing_columns.h"
#include "io/parquet_reader.h"

namespace sagebox::cost {

namespace {

namespace pq = io::parquet;
using internal::Field;

// How a column's values are read.
enum class Kind { kString, kInt, kBool, kDouble, kDecimalInt, kDecimalBytes, kTimestamp, kDate };

struct Column {
  std::string name;  // top-level name, for messages
  bool is_map = false;
  size_t leaf = 0;        // the value column; for a map the key column
  size_t value_leaf = 0;  // maps only
  const pq::LeafColumn* lc = nullptr;
  const pq::LeafColumn* vlc = nullptr;
  Kind kind = Kind::kString;
  int scale = 0;           // DECIMAL
  int64_t per_second = 1;  // TIMESTAMP units per second
  pq::ColumnData data, vdata;
  size_t lvl = 0, val = 0, vval = 0;
  int64_t cur = -1;  // value index of the current row, -1 when null
  std::vector<std::pair<std::string_view, std::string_view>> entries;  // maps: this row's
};

Kind KindOf(const pq::SchemaElement& e, int* scale, int64_t* per_second) {
  bool dec = e.logical == pq::kLogicalDecimal || e.converted_type == pq::kConvDecimal;
  *scale = e.logical == pq::kLogicalDecimal ? e.logical_scale : e.scale;
  switch (e.type) {
    case pq::kByteArray:
    case pq::kFixedLenByteArray:
      return dec ? Kind::kDecimalBytes : Kind::kString;
    case pq::kInt32:
      if (dec) return Kind::kDecimalInt;
      if (e.logical == pq::kLogicalDate || e.converted_type == pq::kConvDate) return Kind::kDate;
      return Kind::kInt;
    case pq::kInt64: {
      if (dec) return Kind::kDecimalInt;
      int unit = e.logical == pq::kLogicalTimestamp             ? e.time_unit
                 : e.converted_type == pq::kConvTimestampMillis ? pq::kMillis
                 : e.converted_type == pq::kConvTimestampMicros ? pq::kMicros
                                                                : pq::kUnitNone;
      if (unit == pq::kUnitNone) return Kind::kInt;
      *per_second = unit == pq::kMillis ? 1000 : unit == pq::kMicros ? 1'000'000 : 1'000'000'000;
      return Kind::kTimestamp;
    }
    case pq::kInt96:  // decoded as Unix seconds
      *per_second = 1;
      return Kind::kTimestamp;
    case pq::kFloat:
    case pq::kDouble:
      return Kind::kDouble;
    default:
      return Kind::kBool;
  }
}

class ParquetBillingReader final : public BillingReader {
 public:
  explicit ParquetBillingReader(std::unique_ptr<pq::ParquetFile> f) : file_(std::move(f)) {}

  Status Init() {
    std::vector<std::string> names;
    for (const auto& t : file_->top_fields()) names.push_back(t.name);
    ASSIGN_OR_RETURN(fmt_, internal::DetectFormat(names, name()));
    RETURN_IF_ERROR(internal::BindColumns(fmt_, names, name(), &cols_));
    field_col_.fill(-1);
    std::unordered_map<int, int> by_top;
    auto add = [&](int top, bool map_ok) -> StatusOr<int> {
      auto it = by_top.find(top);
      if (it != by_top.end()) return it->second;
      const pq::TopField& t = file_->top_fields()[static_cast<size_t>(top)];
      Column c;
      c.name = t.name;
      const auto& leaves = file_->leaves();
      if (!t.is_group && leaves[t.leaves[0]].max_rep == 0) {
        c.leaf = t.leaves[0];
        c.lc = &leaves[c.leaf];
        c.kind = KindOf(c.lc->elem, &c.scale, &c.per_second);
      } else if (map_ok && t.leaves.size() == 2 && leaves[t.leaves[0]].max_rep == 1 &&
                 leaves[t.leaves[1]].max_rep == 1 &&
                 leaves[t.leaves[0]].elem.type == pq::kByteArray &&
                 leaves[t.leaves[1]].elem.type == pq::kByteArray) {
        c.is_map = true;
        c.leaf = t.leaves[0];
        c.value_leaf = t.leaves[1];
        c.lc = &leaves[c.leaf];
        c.vlc = &leaves[c.value_leaf];
      } else {
        return BadInput(name() + ": column '" + t.name + "' is a nested " +
                        (map_ok ? "group (expected a MAP(VARCHAR, VARCHAR) or JSON text)"
                                : "group or list (expected a plain value)"));
      }
      columns_.push_back(std::move(c));
      int ci = static_cast<int>(columns_.size() - 1);
      by_top[top] = ci;
      return ci;
    };
    for (int f = 0; f < internal::kNumFields; ++f) {
      int top = cols_.idx[static_cast<size_t>(f)];
      if (top < 0) continue;
      ASSIGN_OR_RETURN(field_col_[static_cast<size_t>(f)], add(top, f == internal::kTagsJson));
    }
    for (const auto& [top, key] : cols_.tag_cols) {
      ASSIGN_OR_RETURN(int ci, add(top, false));
      tag_cols_.emplace_back(ci, key);
    }
    return Status::Ok();
  }

  ExportFormat format() const override { return fmt_; }
  uint64_t bytes_read() const override { return file_->bytes_read(); }
  uint64_t file_bytes_read() const override { return file_->bytes_read(); }
  uint64_t file_size() const override { return file_->size(); }
  const std::string& name() const override { return file_->name(); }

  StatusOr<bool> Next(LineItem* it) override {
    while (row_in_rg_ >= rows_in_rg_) {
      if (rg_ >= file_->num_row_groups()) return false;
      RETURN_IF_ERROR(LoadRowGroup(rg_++));
    }
    for (Column& c : columns_) RETURN_IF_ERROR(Advance(c));
    ++row_in_rg_;
    ++row_;
    RETURN_IF_ERROR(internal::MapRow(fmt_, cols_.idx, *this, it));
    return true;
  }

  // The row accessor for internal::MapRow.
  std::string_view Str(Field f) {
    const Column* c = Col(f);
    if (c == nullptr || c->cur < 0) return {};
    auto i = static_cast<size_t>(c->cur);
    if (c->kind == Kind::kString) {
      std::string_view v = c->data.values.bytes[i];
      if (fmt_ == ExportFormat::kFocus && v == "NULL") return {};
      return v;
    }
    // A number where text is expected (an id written as an integer): its text.
    std::string& t = text_[static_cast<size_t>(f)];
    if (c->kind == Kind::kDouble) {
      t = DoubleText(c->data.values.doubles[i]);
    } else if (c->kind == Kind::kDecimalInt || c->kind == Kind::kDecimalBytes) {
      Decimal d;
      t = NumAt(*c, &d).ok() ? d.ToString() : "";
    } else {
      t = std::to_string(c->data.values.ints[i]);
    }
    return t;
  }

  bool Present(Field f) {
    const Column* c = Col(f);
    if (c == nullptr || c->cur < 0) return false;
    return c->kind != Kind::kString || !internal::IsNull(Str(f));
  }

  Status Num(Field f, Decimal* out) {
    *out = Decimal();
    const Column* c = Col(f);
    if (c == nullptr || c->cur < 0) return Status::Ok();
    return NumAt(*c, out);
  }

  Status Time(Field f, UnixSeconds* out, bool required) {
    *out = 0;
    const Column* c = Col(f);
    if (c == nullptr) return Status::Ok();
    if (c->cur < 0 || (c->kind == Kind::kString &&
                       internal::IsNull(c->data.values.bytes[static_cast<size_t>(c->cur)]))) {
      if (!required) return Status::Ok();
      return BadInput(Where(*c) + ": expected a timestamp, found null");
    }
    auto i = static_cast<size_t>(c->cur);
    switch (c->kind) {
      case Kind::kTimestamp: {
        int64_t v = c->data.values.ints[i];
        int64_t s = v / c->per_second;
        if (v % c->per_second < 0) --s;
        *out = s;
        return Status::Ok();
      }
      case Kind::kDate:
        *out = c->data.values.ints[i] * 86400;
        return Status::Ok();
      case Kind::kString: {
        std::string_view v = c->data.values.bytes[i];
        auto t = ParseTimestamp(v);
        if (!t) {
          return BadInput(Where(*c) + ": expected a timestamp like 2024-01-01T00:00:00Z, found '" +
                          std::string(v.substr(0, 60)) + "'");
        }
        *out = *t;
        return Status::Ok();
      }
      default:
        return BadInput(Where(*c) + ": expected a timestamp, found a column of numbers");
    }
  }

  Status Tags(LineItem* it) {
    it->tags.clear();
    for (const auto& [ci, key] : tag_cols_) {
      const Column& c = columns_[static_cast<size_t>(ci)];
      if (c.cur < 0 || c.kind != Kind::kString) continue;
      std::string_view v = c.data.values.bytes[static_cast<size_t>(c.cur)];
      if (!internal::IsNull(v)) it->tags.emplace_back(key, v);
    }
    int j = field_col_[internal::kTagsJson];
    if (j < 0) return Status::Ok();
    const Column& c = columns_[static_cast<size_t>(j)];
    if (c.is_map) {
      for (const auto& [k, v] : c.entries) {
        if (!v.empty()) it->tags.emplace_back(NormalizedKey(k), v);
      }
      return Status::Ok();
    }
    if (c.cur < 0 || c.kind != Kind::kString) return Status::Ok();
    std::string_view v = c.data.values.bytes[static_cast<size_t>(c.cur)];
    if (internal::IsNull(v) || v == "{}") return Status::Ok();
    arena_.clear();
    spans_.clear();
    if (!internal::ParseFlatJsonObject(v, &arena_, &spans_) || spans_.size() % 2 != 0) {
      return BadInput(Where(c) + ": expected a JSON object of tags like {\"user:team\":\"ml\"}");
    }
    for (size_t k = 0; k < spans_.size(); k += 2) {
      std::string_view val =
          std::string_view(arena_).substr(spans_[k + 1].first, spans_[k + 1].second);
      if (!val.empty()) {
        it->tags.emplace_back(
            NormalizedKey(std::string_view(arena_).substr(spans_[k].first, spans_[k].second)), val);
      }
    }
    return Status::Ok();
  }

 private:
  const Column* Col(Field f) const {
    int i = field_col_[static_cast<size_t>(f)];
    return i < 0 ? nullptr : &columns_[static_cast<size_t>(i)];
  }

  std::string Where(const Column& c) const {
    return name() + ": row " + std::to_string(row_) + " (row group " + std::to_string(rg_ - 1) +
           "), column '" + c.name + "'";
  }

  // Shortest text that reads back as the same double, so a cost written as
  // 0.1 is 0.1, not 0.1000000000000000055511151231257827.
  static std::string DoubleText(double v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  }

  Status NumAt(const Column& c, Decimal* out) const {
    auto i = static_cast<size_t>(c.cur);
    switch (c.kind) {
      case Kind::kDouble: {
        double v = c.data.values.doubles[i];
        if (!pq::DoubleToDecimal(v, out)) {
          return BadInput(Where(c) + ": expected a number, found " + DoubleText(v));
        }
        return Status::Ok();
      }
      case Kind::kDecimalInt:
        if (!pq::DecimalFromUnscaled(c.data.values.ints[i], c.scale, out)) {
          return BadInput(Where(c) + ": DECIMAL out of range");
        }
        return Status::Ok();
      case Kind::kDecimalBytes:
        if (!pq::DecimalFromBigEndian(c.data.values.bytes[i], c.scale, out)) {
          return BadInput(Where(c) + ": DECIMAL out of range");
        }
        return Status::Ok();
      case Kind::kInt:
      case Kind::kBool:
        *out = Decimal::FromInt(c.data.values.ints[i]);
        return Status::Ok();
      case Kind::kString: {
        std::string_view v = c.data.values.bytes[i];
        if (internal::IsNull(v)) return Status::Ok();
        if (!Decimal::Parse(v, out)) {
          return BadInput(Where(c) + ": expected a number, found '" + std::string(v.substr(0, 60)) +
                          "'");
        }
        return Status::Ok();
      }
      default:
        return BadInput(Where(c) + ": expected a number, found a timestamp column");
    }
  }

  std::string_view NormalizedKey(std::string_view raw) {
    auto it = key_cache_.find(std::string(raw));
    if (it == key_cache_.end()) {
      it = key_cache_.emplace(std::string(raw), NormalizeTagKey(raw)).first;
    }
    return it->second;  // nodes are stable: the view outlives rehashing
  }

  Status LoadRowGroup(size_t g) {
    const int64_t rows = file_->num_rows(g);
    for (Column& c : columns_) {
      RETURN_IF_ERROR(file_->ReadColumn(g, c.leaf, &c.data));
      c.lvl = c.val = c.vval = 0;
      c.cur = -1;
      size_t have = c.lc->max_def > 0 ? c.data.num_levels : c.data.values.size(c.lc->elem.type);
      if (c.is_map) {
        RETURN_IF_ERROR(file_->ReadColumn(g, c.value_leaf, &c.vdata));
        size_t starts = 0;
        for (int16_t r : c.data.rep) starts += r == 0;
        if (c.vdata.num_levels != c.data.num_levels || c.data.rep.size() != c.data.num_levels) {
          return BadInput(name() + ": row group " + std::to_string(g) + ", column '" + c.name +
                          "': map keys and values differ in count");
        }
        have = starts;
      }
      if (have != static_cast<uint64_t>(rows)) {
        return BadInput(name() + ": row group " + std::to_string(g) + ", column '" + c.name +
                        "' holds " + std::to_string(have) + " values for " + std::to_string(rows) +
                        " rows (corrupt file)");
      }
    }
    rows_in_rg_ = rows;
    row_in_rg_ = 0;
    return Status::Ok();
  }

  Status Advance(Column& c) {
    const pq::ColumnData& d = c.data;
    if (!c.is_map) {
      if (c.lc->max_def == 0) {
        c.cur = static_cast<int64_t>(c.val++);
      } else {
        c.cur = d.def[c.lvl++] == c.lc->max_def ? static_cast<int64_t>(c.val++) : -1;
      }
      return Status::Ok();
    }
    // A map row: entries from here up to the next repetition level 0.
    c.entries.clear();
    c.cur = -1;
    const size_t n = d.num_levels;
    size_t k = c.lvl;
    do {
      if (d.def[k] == c.lc->max_def) {
        if (c.val >= d.values.bytes.size()) return BadInput(Where(c) + ": map keys run out");
        std::string_view key = d.values.bytes[c.val++];
        std::string_view v;
        if (c.vdata.def[k] == c.vlc->max_def) {
          if (c.vval >= c.vdata.values.bytes.size()) {
            return BadInput(Where(c) + ": map values run out");
          }
          v = c.vdata.values.bytes[c.vval++];
        }
        c.entries.emplace_back(key, v);
        c.cur = 0;
      } else if (c.vdata.def[k] == c.vlc->max_def) {
        return BadInput(Where(c) + ": map value without a key");
      }
      ++k;
    } while (k < n && d.rep[k] != 0);
    c.lvl = k;
    return Status::Ok();
  }

  std::unique_ptr<pq::ParquetFile> file_;
  ExportFormat fmt_ = ExportFormat::kCur2;
  internal::BoundColumns cols_;
  std::vector<Column> columns_;
  std::array<int, internal::kNumFields> field_col_{};
  std::vector<std::pair<int, std::string>> tag_cols_;
  std::array<std::string, internal::kNumFields> text_;
  std::unordered_map<std::string, std::string> key_cache_;
  std::string arena_;
  std::vector<std::pair<size_t, size_t>> spans_;
  size_t rg_ = 0;
  int64_t rows_in_rg_ = 0;
  int64_t row_in_rg_ = 0;
  int64_t row_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<BillingReader>> OpenParquetBillingReader(Env* env,
                                                                  const std::string& path) {
  ASSIGN_OR_RETURN(auto f, pq::ParquetFile::Open(env, path));
  auto r = std::make_unique<ParquetBillingReader>(std::move(f));
  RETURN_IF_ERROR(r->Init());
  return std::unique_ptr<BillingReader>(std::move(r));
}

}  // namespace sagebox::cost
