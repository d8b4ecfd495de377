// parquet_encoding.h: the value and level encodings of Parquet data pages.
//
// Written from the public spec (apache/parquet-format, Encodings.md): PLAIN,
// the RLE/bit-packed hybrid (levels, dictionary indices, booleans),
// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY. Every
// decoder checks lengths against the bytes it was given; running out or an
// impossible header is a BadInput status saying what was being decoded (the
// caller adds file, column and page).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::io::parquet {

// Decoded non-null values of one column, by physical type:
//   BOOLEAN, INT32, INT64 -> ints; INT96 -> ints as Unix seconds (floor);
//   FLOAT, DOUBLE -> doubles; BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY -> bytes
// (views into page buffers owned by whoever holds the Values).
struct Values {
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string_view> bytes;
  size_t size(int physical_type) const;
  void clear() {
    ints.clear();
    doubles.clear();
    bytes.clear();
  }
};

// Bits needed for values 0..max_value (0 for 0).
int BitWidth(uint64_t max_value);

// Decodes `n` values of the RLE/bit-packed hybrid (without a length prefix).
// *consumed (optional) is the bytes used. BadInput if the data ends first or
// a value exceeds 32 bits.
Status DecodeRleHybrid(std::string_view data, int bit_width, size_t n, uint32_t* out,
                       size_t* consumed = nullptr);
Status DecodeLevels(std::string_view data, int bit_width, size_t n, int16_t* out);

// Appends `n` PLAIN values of `type` (type_length for FIXED_LEN_BYTE_ARRAY).
// *consumed is the bytes used.
Status DecodePlain(std::string_view data, int type, int type_length, size_t n, Values* out,
                   size_t* consumed);

// Decodes a whole DELTA_BINARY_PACKED stream, appending its values (at most
// `limit`) to *out; *consumed is its length in bytes.
Status DecodeDeltaBinaryPacked(std::string_view data, size_t limit, std::vector<int64_t>* out,
                               size_t* consumed);

// DELTA_LENGTH_BYTE_ARRAY: appends views into `data`.
Status DecodeDeltaLengthByteArray(std::string_view data, size_t limit,
                                  std::vector<std::string_view>* out, size_t* consumed);

// DELTA_BYTE_ARRAY (front coding): the values are rebuilt into *storage
// (cleared and sized once, so the appended views stay valid while it lives).
Status DecodeDeltaByteArray(std::string_view data, size_t limit, std::string* storage,
                            std::vector<std::string_view>* out);

}  // namespace sagebox::io::parquet
