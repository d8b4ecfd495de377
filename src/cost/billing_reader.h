// billing_reader.h: reads AWS billing exports as a stream of LineItems.
//
// One interface for every export format. OpenBillingReader() opens a file
// (plain, .gz or .zip CSV, or Parquet), detects the format from the column
// names (not the file name) and returns a reader that maps each row to the
// canonical LineItem. Parquet files (CUR 2.0 / FOCUS / CUR 1.0 for Athena) are
// recognised by their "PAR1" magic and read by parquet_billing_reader.h.
//
// Errors are BadInput statuses that name file:line:column and say what was
// expected: an empty file, an unknown header, a missing required column, a
// ragged row, an unterminated quote, a bad number or timestamp, corrupt or
// truncated compression; for Parquet, a bad magic, a footer beyond the file,
// a corrupt page or an unsupported codec or encoding (naming the column, row
// group and page).
//
// Thread-safety: one reader per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"
#include "cost/line_item.h"

namespace sagebox::cost {

enum class ExportFormat { kLegacyCur, kCur1Snake, kCur2, kFocus };
std::string_view ExportFormatName(ExportFormat f);  // "legacy-cur", "cur1-athena", "cur2", "focus"

class BillingReader {
 public:
  virtual ~BillingReader() = default;
  virtual ExportFormat format() const = 0;
  // Fills *item with the next line item. Returns false at the end of the file.
  virtual StatusOr<bool> Next(LineItem* item) = 0;
  // Plain (decompressed) bytes consumed so far, and the compressed file's
  // progress, for progress displays.
  virtual uint64_t bytes_read() const = 0;
  virtual uint64_t file_bytes_read() const = 0;
  virtual uint64_t file_size() const = 0;
  virtual const std::string& name() const = 0;
};

// Opens `path` and reads its header. BadInput if the file is empty, not a
// billing export, or lacks a column the format requires.
StatusOr<std::unique_ptr<BillingReader>> OpenBillingReader(Env* env, const std::string& path);

}  // namespace sagebox::cost
