// parquet_reader.h: reads Parquet files column chunk by column chunk.
//
// ParquetFile::Open() checks the magic, reads and decodes the footer and
// flattens the schema into leaf columns with their maximum definition and
// repetition levels. ReadColumn() then decodes one leaf of one row group:
// its pages (data page v1 and v2, dictionary pages), decompressed
// (UNCOMPRESSED, SNAPPY, GZIP, ZSTD), with levels and values decoded (see
// parquet_encoding.h). A caller reads only the leaves it needs, one row group
// at a time, so memory is bounded by a row group's needed columns.
//
// Every malformed input (bad magic, a footer length beyond the file, a
// truncated or corrupt page, an unsupported codec or encoding) is a BadInput
// status naming the file and, for pages, the column, row group and page.
//
// Thread-safety: one ParquetFile per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/env.h"
#include "core/status.h"
#include "io/parquet_encoding.h"
#include "io/parquet_thrift.h"

namespace sagebox::io::parquet {

struct LeafColumn {
  std::vector<std::string> path;  // field names below the root
  int16_t max_def = 0;
  int16_t max_rep = 0;
  SchemaElement elem;  // the leaf's own schema element
  size_t top = 0;      // index into ParquetFile::top_fields()
};

// A child of the schema root: a primitive column or a group (MAP, LIST,
// struct) whose leaves are listed.
struct TopField {
  std::string name;
  bool is_group = false;
  int32_t converted_type = -1;
  int32_t logical = kLogicalNone;
  std::vector<size_t> leaves;
};

// One decoded column chunk. `def`/`rep` hold a level per entry (empty when
// the column's maximum level is 0); `values` the non-null values in order.
// Byte values are views into `storage`, valid until the next ReadColumn
// into this object or its destruction.
struct ColumnData {
  int physical_type = 0;
  size_t num_levels = 0;
  std::vector<int16_t> def;
  std::vector<int16_t> rep;
  Values values;
  std::deque<std::string> storage;
  void Clear();
};

class ParquetFile {
 public:
  // Opens `path` and decodes its footer. NotFound/IoError if unreadable;
  // BadInput for a file that is not Parquet or whose footer is corrupt.
  static StatusOr<std::unique_ptr<ParquetFile>> Open(Env* env, const std::string& path);

  const std::string& name() const { return name_; }
  uint64_t size() const { return size_; }
  const FileMetaData& meta() const { return meta_; }
  const std::vector<LeafColumn>& leaves() const { return leaves_; }
  const std::vector<TopField>& top_fields() const { return top_; }
  size_t num_row_groups() const { return meta_.row_groups.size(); }
  int64_t num_rows(size_t rg) const { return meta_.row_groups[rg].num_rows; }
  // Column bytes read so far (compressed), plus the footer.
  uint64_t bytes_read() const { return bytes_read_; }

  // Decodes leaf `leaf` of row group `rg` into *out. BadInput naming file,
  // column, row group and page for anything malformed or unsupported.
  Status ReadColumn(size_t rg, size_t leaf, ColumnData* out);

 private:
  ParquetFile() = default;
  Status BuildSchema();
  Status ReadPages(const ColumnMeta& m, const LeafColumn& leaf, std::string_view raw,
                   ColumnData* out, std::string* where);

  std::string name_;
  uint64_t size_ = 0;
  uint64_t data_end_ = 0;  // where the footer starts
  uint64_t bytes_read_ = 0;
  std::unique_ptr<RandomAccessFile> file_;
  FileMetaData meta_;
  std::vector<LeafColumn> leaves_;
  std::vector<TopField> top_;
};

// Decompresses one page. BadInput if the data is corrupt, does not inflate to
// exactly `size` bytes, or the codec is unsupported.
Status Decompress(int codec, std::string_view in, size_t size, std::string* out);

// An unscaled DECIMAL value at `scale` as a Decimal (rounded half away from
// zero to Decimal's 10 places, like Decimal::Parse). False if it overflows.
bool DecimalFromUnscaled(int128 unscaled, int scale, Decimal* out);
// A DOUBLE as the Decimal its shortest round-trip text (std::to_chars) parses
// to, so a cost written as 0.1 is 0.1, not 0.1000000000000000055. False for
// NaN, infinities and values beyond Decimal's range.
bool DoubleToDecimal(double v, Decimal* out);

// The same for a big-endian two's-complement byte string (FIXED_LEN_BYTE_ARRAY
// and BYTE_ARRAY decimals); false if longer than 16 bytes or overflowing.
bool DecimalFromBigEndian(std::string_view bytes, int scale, Decimal* out);

}  // namespace sagebox::io::parquet
