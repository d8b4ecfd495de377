// csv_reader.h: a streaming RFC 4180 CSV reader for billing exports.
//
// Reads records one at a time from a ByteSource with bounded memory (one
// buffer of a few MiB; a record longer than the buffer grows it). Handles
// quoted fields with "" escapes and embedded newlines, CRLF and LF line ends,
// and a UTF-8 byte order mark. Every record knows the physical line it
// starts on, so format readers can report file:line:column.
//
// Field views stay valid until the next call to Next().
//
// Thread-safety: one reader per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "io/byte_source.h"

namespace sagebox::io {

class CsvReader {
 public:
  explicit CsvReader(ByteSource* src, size_t buffer_size = 4 << 20);

  // Reads the next record. Returns false at the end of input. BadInput for an
  // unterminated quoted field or stray text after a closing quote; the
  // message names file:line:column.
  StatusOr<bool> Next();

  size_t num_fields() const { return fields_.size(); }
  std::string_view field(size_t i) const { return fields_[i]; }
  const std::vector<std::string_view>& fields() const { return fields_; }
  // 1-based physical line where the current record starts.
  uint64_t line() const { return record_line_; }
  // 1-based column (byte offset in its line) where field i starts.
  uint64_t column(size_t i) const;
  // "file:line:col" for field i of the current record.
  std::string Location(size_t i) const;
  // Plain bytes consumed so far.
  uint64_t bytes_read() const { return consumed_base_ + pos_; }
  const std::string& name() const { return src_->name(); }
  ByteSource* source() const { return src_; }

 private:
  // Parses one record starting at pos_. Returns 1 on success, 0 if the
  // buffer ran out before the record ended, -1 on error (status_ set).
  int ParseRecord();
  // Reads more input. BadInput from the source gets this reader's line:col.
  Status Refill();
  Status RefillInner();

  ByteSource* src_;
  std::vector<char> buf_;
  size_t pos_ = 0;  // start of the next record in buf_
  size_t end_ = 0;  // valid bytes in buf_
  bool eof_ = false;
  bool first_ = true;
  uint64_t consumed_base_ = 0;  // plain bytes before buf_[0]
  uint64_t line_ = 1;           // physical line at pos_
  uint64_t record_line_ = 0;
  size_t record_start_ = 0;
  std::vector<std::string_view> fields_;
  std::vector<size_t> starts_;                      // offsets in buf_ of each field's first byte
  std::string arena_;                               // unescaped text of fields that had ""
  std::vector<std::pair<size_t, size_t>> escaped_;  // (field index, arena offset)
  Status status_;
};

}  // namespace sagebox::io
