// parquet_thrift.h: decodes the Thrift compact-protocol structures of a
// Parquet file: the footer (FileMetaData) and page headers.
//
// Written from the public format description (apache/parquet-format,
// src/main/thrift/parquet.thrift, and the Thrift compact protocol spec,
// apache/thrift doc/specs/thrift-compact-protocol.md). Only the fields a
// reader needs are kept; every other field is skipped by type, so files from
// newer writers still parse. Parsing never reads past the given bytes: any
// truncation, impossible length or nesting deeper than 64 levels is a
// BadInput status whose message says what was being read (the caller adds
// the file name).
//
// Thread-safety: pure functions over byte spans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::io::parquet {

// parquet.thrift enum Type.
enum PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

// parquet.thrift enum Encoding.
enum Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

// parquet.thrift enum CompressionCodec.
enum Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

// parquet.thrift enum ConvertedType (the ones a reader acts on).
enum ConvertedType : int32_t {
  kConvUtf8 = 0,
  kConvMap = 1,
  kConvMapKeyValue = 2,
  kConvList = 3,
  kConvDecimal = 5,
  kConvDate = 6,
  kConvTimestampMillis = 9,
  kConvTimestampMicros = 10,
};

// parquet.thrift union LogicalType: the id of the member that is set.
enum LogicalKind : int32_t {
  kLogicalNone = 0,
  kLogicalString = 1,
  kLogicalMap = 2,
  kLogicalList = 3,
  kLogicalEnum = 4,
  kLogicalDecimal = 5,
  kLogicalDate = 6,
  kLogicalTime = 7,
  kLogicalTimestamp = 8,
  kLogicalInteger = 10,
  kLogicalJson = 12,
};

enum TimeUnit : int32_t { kUnitNone = 0, kMillis = 1, kMicros = 2, kNanos = 3 };

struct SchemaElement {
  int32_t type = -1;  // PhysicalType; -1 for a group
  int32_t type_length = 0;
  int32_t repetition = 0;  // 0 required, 1 optional, 2 repeated
  std::string name;
  int32_t num_children = 0;
  int32_t converted_type = -1;
  int32_t scale = 0;
  int32_t precision = 0;
  int32_t logical = kLogicalNone;
  int32_t logical_scale = 0;  // DECIMAL
  int32_t logical_precision = 0;
  int32_t time_unit = kUnitNone;  // TIMESTAMP / TIME
};

struct ColumnMeta {
  int32_t type = 0;
  std::vector<int32_t> encodings;
  std::vector<std::string> path;
  int32_t codec = kUncompressed;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  int64_t dictionary_page_offset = -1;  // -1: absent
};

struct ColumnChunk {
  std::string file_path;  // set when the chunk lives in another file (unsupported)
  bool has_meta = false;
  ColumnMeta meta;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t num_rows = 0;
};

struct FileMetaData {
  int32_t version = 0;
  std::vector<SchemaElement> schema;  // depth-first, root first
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::string created_by;
};

enum PageType : int32_t { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };

struct PageHeader {
  int32_t type = -1;
  int32_t uncompressed_size = 0;
  int32_t compressed_size = 0;
  // DataPageHeader (v1) or DataPageHeaderV2.
  bool has_data = false;
  bool has_v2 = false;
  int32_t num_values = 0;
  int32_t encoding = kPlain;
  int32_t def_encoding = kRle;
  int32_t rep_encoding = kRle;
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  int32_t def_levels_len = 0;  // v2: bytes of (uncompressed) levels
  int32_t rep_levels_len = 0;
  bool is_compressed = true;
  // DictionaryPageHeader.
  bool has_dict = false;
  int32_t dict_num_values = 0;
  int32_t dict_encoding = kPlain;
};

// Parses a serialized FileMetaData (the footer without its length and magic).
// BadInput says what was malformed.
Status ParseFileMetaData(std::string_view bytes, FileMetaData* out);

// Parses the page header at the start of `bytes`; *header_len is its size.
// BadInput if it is truncated or malformed.
Status ParsePageHeader(std::string_view bytes, PageHeader* out, size_t* header_len);

}  // namespace sagebox::io::parquet
