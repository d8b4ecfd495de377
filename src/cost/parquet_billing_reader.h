// parquet_billing_reader.h: CUR 2.0, FOCUS and CUR 1.0 (Athena) Parquet
// exports as a BillingReader.
//
// The format is detected from the top-level column names and the columns are
// bound with the same tables as the CSV readers (billing_columns.h), so the
// same data gives the same LineItems from CSV or Parquet. Only the bound
// columns are decoded, one row group at a time. Values are taken by type:
// DECIMAL exactly; DOUBLE through its shortest round-trip text, so 0.1 stays
// 0.1; INT64/INT96 timestamps, DATE, or text; MAP(VARCHAR, VARCHAR) or JSON
// text tag columns.
//
// Errors are BadInput naming the file and, for values, the row and column.
// OpenBillingReader() in billing_reader.h calls this for files that start
// with "PAR1"; it is public for tests and tools.
//
// Thread-safety: one reader per thread.
#pragma once

#include <memory>
#include <string>

#include "core/env.h"
#include "core/status.h"
#include "cost/billing_reader.h"

namespace sagebox::cost {

// Opens a Parquet billing export. NotFound/IoError if unreadable; BadInput
// if it is not a valid Parquet file, matches no billing export or lacks a
// required column.
StatusOr<std::unique_ptr<BillingReader>> OpenParquetBillingReader(Env* env,
                                                                  const std::string& path);

}  // namespace sagebox::cost
