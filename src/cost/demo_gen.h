// demo_gen.h: a deterministic generator of realistic SageMaker billing data.
//
// Writes the same underlying line items as any of the AWS billing export
// formats sagebox reads (legacy CUR CSV, CUR 1.0 for Athena, CUR 2.0, FOCUS
// 1.0), in AWS's own delivery layout with manifests, so `sagebox demo`, the
// tests and the benchmarks have realistic input without an AWS account. The
// scenario follows the seed articles: always-on and working-hours notebook
// instances (ml.t2.medium at $0.0464/h, one GPU notebook), Studio
// KernelGateway and Data Wrangler apps, daily processing job families
// (`features-daily-001`, ...), Data Wrangler jobs, training (on-demand and
// Spot), always-on endpoints, a partial-upfront SageMaker Savings Plan, a
// little S3/EC2/CloudTrail, credits and tax, across several accounts and
// regions. Everything derives from `DemoOptions::seed`: the same options give
// byte-identical files.
//
// Rows are streamed: memory is bounded by the number of simulated resources,
// never by the number of rows, so 10M-row exports are fine. Money is computed
// in exact 10^-10 units (Decimal), never in floating point; for every hourly
// instance line UnblendedCost == UsageAmount * UnblendedRate exactly.
//
// Format notes (what a reader of these files will see):
//  - Legacy CUR CSV: slash headers (`lineItem/UsageType`,
//    `resourceTags/user:team`), timestamps `2024-01-01T00:00:00Z`, numbers as
//    AWS (Java) writes them: `1.0`, `0.0464`, `4.32E-8`; optional numbers of
//    lines they do not apply to are left empty.
//  - CUR 1.0 for Athena (as CSV): the legacy columns renamed the way Athena
//    does (`line_item_usage_type`, `resource_tags_user_team`), timestamps
//    `2024-01-01T00:00Z`.
//  - CUR 2.0 CSV: the real 127-column schema, `product`, `resource_tags`,
//    `cost_category`, `discount` as JSON text, timestamps
//    `2024-01-01T00:00:00.000Z`, rates as 10-decimal strings.
//  - FOCUS 1.0 with AWS columns: quoted strings, `NULL` for nulls, 11-decimal
//    costs, timestamps `2024-01-01 00:00:00`. Savings Plans follow the FOCUS
//    1.0 commitment-discount model: no SavingsPlanNegation rows; covered
//    usage has BilledCost 0 and EffectiveCost = the Savings Plan effective
//    cost; fees are ChargeCategory "Purchase" with EffectiveCost 0; each hour's
//    unused commitment is an extra "Usage" row with CommitmentDiscountStatus
//    "Unused" (BilledCost 0, EffectiveCost = unused amount). So sum(BilledCost)
//    equals the CUR unblended total and sum(EffectiveCost) the CUR amortized
//    total.
//
// Thread-safety: no shared state; concurrent calls are safe as long as they
// write to different directories.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"

namespace sagebox::cost {

enum class DemoFormat {
  kLegacyCsv,    // legacy CUR, CSV
  kLegacyCsvGz,  // legacy CUR, CSV gzip-compressed (what AWS delivers)
  kCur1Snake,    // CUR 1.0 for Athena: snake_case columns, year=/month= folders
  kCur2Csv,      // CUR 2.0 (Data Exports), CSV
  kFocusCsv,     // FOCUS 1.0 with AWS columns (Data Exports), CSV
};

// "legacy-csv", "legacy-csv-gz", "cur1-snake", "cur2-csv", "focus-csv".
std::string_view DemoFormatName(DemoFormat format);
// Inverse of DemoFormatName; nullopt for an unknown name.
std::optional<DemoFormat> DemoFormatFromName(std::string_view name);
// Every format, in enum order.
const std::vector<DemoFormat>& AllDemoFormats();

struct DemoOptions {
  uint64_t seed = 42;
  std::string start_month = "2024-01";  // first billing period, YYYY-MM
  int months = 3;                       // 1..120 billing periods
  int accounts = 3;                     // 1..50 linked accounts; the first is the payer
  int regions = 2;                      // 1..8: us-east-1, us-west-2, eu-west-1, ...
  // 0: the natural size of the scenario (tens of thousands of line items
  // for the defaults). >0: resources are replicated to reach about this many
  // CUR line items over all periods.
  int64_t target_rows = 0;
  // 0: one data file per billing period; >0: start a new numbered data file
  // after this many rows, as AWS splits big reports.
  int64_t max_rows_per_file = 0;
  // Gzip the data files of any format (kLegacyCsvGz always does).
  bool gzip = false;
  // Report (legacy, CUR 1.0) or export (CUR 2.0, FOCUS) name.
  std::string report_name = "sagebox-demo";
};

struct DemoFileInfo {
  std::string path;  // the file written
  DemoFormat format = DemoFormat::kLegacyCsv;
  int64_t rows = 0;   // data rows, header excluded; 0 for manifests
  int64_t bytes = 0;  // size on disk
  bool manifest = false;
  std::string billing_period;  // "2024-01"
  // Data files: sum of lineItem/UnblendedCost over the file's rows (FOCUS:
  // of BilledCost, which has the same total per billing period).
  Decimal unblended_cost;
};

// What the generator produced for one billing period, for tests and
// benchmarks that check an ingest against the truth.
struct DemoPeriodTotals {
  std::string billing_period;  // "2024-01"
  int64_t line_items = 0;      // rows of the CUR formats (legacy, CUR 1.0, CUR 2.0)
  int64_t focus_rows = 0;      // rows of the FOCUS format
  Decimal unblended_cost;      // sum of lineItem/UnblendedCost (== FOCUS BilledCost)
  Decimal amortized_cost;      // Cost Explorer amortized (== FOCUS EffectiveCost)
  Decimal sp_covered_cost;     // unblended of SavingsPlanCoveredUsage lines
  Decimal sp_negation_cost;    // unblended of SavingsPlanNegation lines (== -covered)
  Decimal tax_cost;            // unblended of Tax lines
  Decimal credit_cost;         // unblended of Credit lines (negative)
};

// Writes one export in `format` under `dir` (created if missing; existing
// files of the same names are overwritten), in AWS's delivery layout:
//  legacy:  <dir>/<report>/<YYYYMMDD-YYYYMMDD>/<assemblyId>/<report>-<n>.csv[.gz]
//           and <dir>/<report>/<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json
//  CUR 1.0: <dir>/<report>/year=YYYY/month=M/<report>-0000<n>.csv[.gz]
//  CUR 2.0, FOCUS:
//           <dir>/<export>/data/BILLING_PERIOD=YYYY-MM/<export>-0000<n>.csv[.gz]
//           and <dir>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json
// Returns the files written (data files and manifests) in order.
// Fails with InvalidArgument for bad options and IoError (naming the path)
// when a directory or file cannot be created or written; files already
// written are left in place.
StatusOr<std::vector<DemoFileInfo>> WriteDemoExport(const std::string& dir, DemoFormat format,
                                                    const DemoOptions& opt);

// Runs the generator without writing anything and returns, per billing
// period, the exact totals WriteDemoExport's files contain for the same
// options (any format). Fails with InvalidArgument for bad options.
StatusOr<std::vector<DemoPeriodTotals>> ComputeDemoTotals(const DemoOptions& opt);

// The header of `format`'s data files, column by column.
std::vector<std::string> DemoColumns(DemoFormat format);

}  // namespace sagebox::cost
