#include "cost/parquet_billing_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cost/billing_reader.h"

namespace sagebox::cost {
namespace {

std::string Fixture(const std::string& rel) {
  return std::string(SAGEBOX_TESTDATA) + "/parquet/" + rel;
}

// Everything a LineItem says, as owned text, so rows can be compared after
// the reader moves on.
std::string Describe(const LineItem& it) {
  std::string s = std::to_string(it.billing_period) + "|" + std::to_string(it.usage_start) + "|" +
                  std::to_string(it.usage_end);
  for (std::string_view v :
       {it.payer_account, it.usage_account, it.line_item_type, it.product_code, it.usage_type,
        it.operation, it.region, it.availability_zone, it.resource_id, it.currency, it.pricing_term,
        it.savings_plan_arn, it.reservation_arn}) {
    s += "|" + std::string(v);
  }
  for (const Decimal& d :
       {it.usage_amount, it.unblended_cost, it.blended_cost, it.net_unblended_cost,
        it.amortized_cost, it.public_on_demand_cost, it.sp_effective_cost, it.sp_total_commitment,
        it.sp_used_commitment, it.sp_rate, it.ri_effective_cost, it.ri_unused_amortized_upfront,
        it.ri_unused_recurring}) {
    s += "|" + d.ToString();
  }
  std::vector<std::string> tags;
  for (const auto& [k, v] : it.tags) tags.push_back(std::string(k) + "=" + std::string(v));
  std::sort(tags.begin(), tags.end());
  for (const auto& t : tags) s += "|" + t;
  return s;
}

std::vector<std::string> ReadAll(const std::string& path, ExportFormat want) {
  auto r = OpenBillingReader(Env::Default(), path);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return {};
  EXPECT_EQ((*r)->format(), want) << path;
  std::vector<std::string> rows;
  LineItem it;
  for (;;) {
    auto more = (*r)->Next(&it);
    EXPECT_TRUE(more.ok()) << more.status().message();
    if (!more.ok() || !*more) break;
    rows.push_back(Describe(it));
  }
  return rows;
}

// Each Parquet file holds the CSV's rows in the same order: every LineItem,
// field by field (costs exact to 10 places, tags from MAP vs JSON text), is equal.
void ExpectSameRows(const std::string& csv, const std::vector<std::string>& parquet,
                    ExportFormat fmt, size_t want_rows) {
  std::vector<std::string> ref = ReadAll(Fixture(csv), fmt);
  ASSERT_EQ(ref.size(), want_rows);
  for (const auto& p : parquet) {
    std::vector<std::string> got = ReadAll(Fixture(p), fmt);
    ASSERT_EQ(got.size(), ref.size()) << p;
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(got[i], ref[i]) << p << " row " << i + 1;
  }
}

TEST(ParquetBillingReader, Cur2SameLineItemsAsCsv) {
  ExpectSameRows("cur2/csv/cur2-subset.csv.gz",
                 {"cur2/snappy-dict-double.parquet", "cur2/zstd-nodict-smallrg-dec18.parquet",
                  "cur2/gzip-dec38.parquet", "cur2/uncompressed-v2-double.parquet"},
                 ExportFormat::kCur2, 696);
}

TEST(ParquetBillingReader, FocusSameLineItemsAsCsv) {
  ExpectSameRows("focus/csv/focus-subset.csv.gz",
                 {"focus/snappy-dict-dec38.parquet", "focus/zstd-v2-smallrg-double.parquet"},
                 ExportFormat::kFocus, 575);
}

TEST(ParquetBillingReader, Cur1AthenaPartitions) {
  std::vector<std::string> ref =
      ReadAll(Fixture("cur1/csv/cur1-subset.csv.gz"), ExportFormat::kCur1Snake);
  std::vector<std::string> got = ReadAll(
      Fixture("cur1/athena/year=2024/month=1/cur1-00001.snappy.parquet"), ExportFormat::kCur1Snake);
  std::vector<std::string> feb = ReadAll(
      Fixture("cur1/athena/year=2024/month=2/cur1-00001.snappy.parquet"), ExportFormat::kCur1Snake);
  got.insert(got.end(), feb.begin(), feb.end());
  std::sort(ref.begin(), ref.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, ref);
  // Flat resource_tags_user_* columns become tags.
  bool tagged = false;
  for (const auto& r : got) tagged |= r.find("|team=") != std::string::npos;
  EXPECT_TRUE(tagged);
}

TEST(ParquetBillingReader, DoubleCostsKeepTheirDecimalText) {
  // The DOUBLE file's costs equal the DECIMAL(38,10) file's exactly: 0.1 read
  // from a double is 0.1, not 0.1000000000000000055.
  auto d = ReadAll(Fixture("cur2/snappy-dict-double.parquet"), ExportFormat::kCur2);
  auto x = ReadAll(Fixture("cur2/gzip-dec38.parquet"), ExportFormat::kCur2);
  EXPECT_EQ(d, x);
}

TEST(ParquetBillingReader, BadFilesAreBadInputNamingTheFile) {
  for (const char* f : {"bad/bad-magic.parquet", "bad/footer-beyond-file.parquet",
                        "bad/truncated.parquet", "bad/corrupt-page-header.parquet",
                        "bad/corrupt-gzip-page.parquet", "bad/lz4-codec.parquet"}) {
    auto r = OpenBillingReader(Env::Default(), Fixture(f));
    Status s = r.status();
    if (r.ok()) {
      LineItem it;
      for (;;) {
        auto more = (*r)->Next(&it);
        if (!more.ok()) {
          s = more.status();
          break;
        }
        if (!*more) break;
      }
    }
    EXPECT_EQ(s.code(), StatusCode::kBadInput) << f;
    EXPECT_NE(s.message().find(Fixture(f)), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace sagebox::cost
