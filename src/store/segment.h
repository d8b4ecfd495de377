// segment.h: one immutable columnar file of rows (a "segment").
//
// A segment holds rows in row groups of up to 64Ki rows. Each column is one
// of three types: dictionary-encoded strings (codes of 1, 2 or 4 bytes per
// row, chosen per chunk), int64 (timestamps), or exact decimals (8 bytes per
// row when every value of the chunk fits an int64, else 16). Every chunk
// carries a CRC32 so damage is reported as Corruption, not as wrong numbers.
// Chunks and dictionaries are zstd-compressed (level 1) when that makes them
// smaller: billing columns are mostly runs and zeros, so a store is a fraction
// of the gzip'd CSV it came from.
//
// Layout: "SBXSEG01" | chunks... | dictionaries... | footer JSON |
//         footer length (u64 LE) | "SBXEND01".
//
// Writers stream: memory holds one row group plus the dictionaries, so a
// segment of any size is written in bounded memory.
//
// Thread-safety: a SegmentWriter has one owner. A Segment is immutable once
// opened; its read methods may be called from several threads only if each
// passes its own output vectors (dictionaries are loaded at Open).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/decimal.h"
#include "core/env.h"
#include "core/status.h"

namespace sagebox::store {

enum class ColumnType : int { kString = 0, kInt64 = 1, kDecimal = 2 };

struct ColumnSpec {
  std::string name;
  ColumnType type;
};

class SegmentWriter {
 public:
  static constexpr size_t kDefaultRowGroupRows = 1 << 16;

  // Creates `path` (truncating it). IoError if it cannot.
  static StatusOr<std::unique_ptr<SegmentWriter>> Create(
      Env* env, const std::string& path, std::vector<ColumnSpec> columns,
      size_t row_group_rows = kDefaultRowGroupRows);
  ~SegmentWriter();

  // Index of column `name`, adding a string column if it does not exist yet
  // (rows written before read as ""). Used for tags, which vary per file.
  int StringColumn(std::string_view name);
  int FindColumn(std::string_view name) const;

  // Set values of the current row. Columns left unset read as "", 0 or 0.
  void SetString(int col, std::string_view v);
  void SetInt64(int col, int64_t v);
  void SetDecimal(int col, Decimal v);
  // Ends the current row. IoError if a full row group cannot be written.
  Status EndRow();
  // Writes the rest, the dictionaries and the footer (with `meta`), then
  // fsyncs and closes. Nothing is durable before this returns OK.
  Status Finish(const nlohmann::json& meta);

  int64_t rows() const { return rows_; }
  uint64_t bytes_written() const { return offset_; }

 private:
  struct Column;
  SegmentWriter() = default;
  Status FlushRowGroup();
  // Compresses `raw` if that helps, appends it, and describes it as
  // [offset, stored length, crc32 of stored bytes, codec, raw length].
  Status WriteBlock(std::string_view raw, nlohmann::json* desc);
  Status Write(std::string_view data);

  std::unique_ptr<WritableFile> file_;
  std::string path_;
  std::vector<std::unique_ptr<Column>> cols_;
  std::unordered_map<std::string, int> by_name_;
  size_t row_group_rows_ = kDefaultRowGroupRows;
  size_t group_rows_ = 0;  // rows in the current row group
  int64_t rows_ = 0;
  uint64_t offset_ = 0;
  nlohmann::json row_groups_ = nlohmann::json::array();
  std::string scratch_;
  std::string packed_;
  void* zstd_ = nullptr;  // ZSTD_CCtx*, reused across chunks
};

// NOLINTNEXTLINE(bugprone-exception-escape): only std::bad_alloc, as anywhere.
class Segment {
 public:
  // Opens and validates the footer; loads dictionaries. Corruption if the
  // file is not a complete segment.
  static StatusOr<std::shared_ptr<Segment>> Open(Env* env, const std::string& path);

  int64_t rows() const { return rows_; }
  size_t num_row_groups() const { return groups_.size(); }
  size_t row_group_rows(size_t rg) const { return groups_[rg].rows; }
  const nlohmann::json& meta() const { return meta_; }
  size_t num_columns() const { return cols_.size(); }
  const ColumnSpec& column(size_t i) const { return cols_[i]; }
  // -1 if the segment has no such column (older or narrower data).
  int FindColumn(std::string_view name) const;
  // The dictionary of a string column; code 0 is always "".
  const std::vector<std::string>& Dictionary(int col) const {
    return dicts_[static_cast<size_t>(col)];
  }

  // Read one column chunk. Corruption on a checksum mismatch.
  Status ReadCodes(size_t rg, int col, std::vector<uint32_t>* out) const;
  Status ReadInt64(size_t rg, int col, std::vector<int64_t>* out) const;
  Status ReadDecimal(size_t rg, int col, std::vector<int128>* out) const;

 private:
  struct Chunk {
    uint64_t offset = 0;
    uint32_t length = 0;
    uint32_t width = 0;
    uint32_t crc = 0;
    uint32_t codec = 0;       // 0 stored as is, 1 zstd
    uint64_t raw_length = 0;  // after decompression
  };
  struct Group {
    size_t rows = 0;
    std::vector<Chunk> chunks;
  };
  Status ReadChunk(size_t rg, int col, ColumnType want, std::string* buf, uint32_t* width) const;

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  std::vector<ColumnSpec> cols_;
  std::vector<Group> groups_;
  std::vector<std::vector<std::string>> dicts_;
  nlohmann::json meta_;
  int64_t rows_ = 0;
};

}  // namespace sagebox::store
