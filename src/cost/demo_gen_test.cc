// Tests of the demo billing data generator: layout, headers against real AWS
// samples, determinism, scaling, and the money invariants.
#include "cost/demo_gen.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/decimal.h"
#include "core/testing/temp_dir.h"
#include "core/time.h"

#ifndef SAGEBOX_TESTDATA
#define SAGEBOX_TESTDATA "tests/data"
#endif

namespace sagebox::cost {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string TestData(const std::string& rel) { return std::string(SAGEBOX_TESTDATA) + "/" + rel; }

std::string ReadFile(const std::string& path) {
  if (path.size() > 3 && path.substr(path.size() - 3) == ".gz") {
    gzFile f = gzopen(path.c_str(), "rb");
    EXPECT_NE(f, nullptr) << path;
    if (f == nullptr) return {};
    std::string out;
    char buf[1 << 16];
    int n = 0;
    while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    EXPECT_GE(n, 0) << path;
    gzclose(f);
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A parsed CSV file: fields are views into the file text (or into unescaped
// copies for quoted fields holding quotes). One record per line: the
// generator never writes newlines inside fields.
struct Table {
  std::string text;
  std::deque<std::string> unescaped;
  std::vector<std::string> header;
  std::vector<std::vector<std::string_view>> rows;

  size_t Col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  }

  // Splits text[pos, end) into fields.
  std::vector<std::string_view> Split(size_t pos, size_t end) {
    std::vector<std::string_view> out;
    out.reserve(header.size());
    for (;;) {
      if (pos < end && text[pos] == '"') {
        size_t i = pos + 1;
        bool doubled = false;
        while (i < end && !(text[i] == '"' && (i + 1 >= end || text[i + 1] != '"'))) {
          if (text[i] == '"') {
            doubled = true;
            ++i;
          }
          ++i;
        }
        std::string_view raw(text.data() + pos + 1, i - pos - 1);
        if (doubled) {
          std::string u;
          for (size_t k = 0; k < raw.size(); ++k) {
            u.push_back(raw[k]);
            if (raw[k] == '"') ++k;
          }
          unescaped.push_back(std::move(u));
          raw = unescaped.back();
        }
        out.push_back(raw);
        pos = i + 1;
      } else {
        size_t i = pos;
        while (i < end && text[i] != ',') ++i;
        out.emplace_back(text.data() + pos, i - pos);
        pos = i;
      }
      if (pos >= end) break;
      ++pos;  // the comma
    }
    return out;
  }
};

Table ReadCsv(const std::string& path) {
  Table t;
  t.text = ReadFile(path);
  size_t pos = 0;
  bool first = true;
  while (pos < t.text.size()) {
    size_t end = t.text.find('\n', pos);
    if (end == std::string::npos) end = t.text.size();
    size_t stop = end;
    if (stop > pos && t.text[stop - 1] == '\r') --stop;
    if (first) {
      for (std::string_view f : t.Split(pos, stop)) t.header.emplace_back(f);
      first = false;
    } else {
      t.rows.push_back(t.Split(pos, stop));
      EXPECT_EQ(t.rows.back().size(), t.header.size()) << path << " row " << t.rows.size();
    }
    pos = end + 1;
  }
  return t;
}

std::vector<std::string> CsvHeader(const std::string& path) {
  Table t;
  t.text = ReadFile(path);
  size_t end = t.text.find('\n');
  if (end == std::string::npos) end = t.text.size();
  if (end > 0 && t.text[end - 1] == '\r') --end;
  std::vector<std::string> out;
  for (std::string_view f : t.Split(0, end)) out.emplace_back(f);
  return out;
}

Decimal Num(std::string_view s) {
  Decimal d;
  if (s.empty() || s == "NULL") return d;
  EXPECT_TRUE(Decimal::Parse(s, &d)) << "not a number: '" << s << "'";
  return d;
}

std::vector<const DemoFileInfo*> DataFiles(const std::vector<DemoFileInfo>& files) {
  std::vector<const DemoFileInfo*> out;
  for (const DemoFileInfo& f : files) {
    if (!f.manifest) out.push_back(&f);
  }
  return out;
}

class DemoGenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Small but complete: every resource kind, two periods, the payer's
    // Savings Plan (more accounts and regions: RegionsAndAccounts).
    opt_.months = 2;
    opt_.accounts = 1;
    opt_.regions = 1;
  }
  std::vector<DemoFileInfo> Write(DemoFormat format, const std::string& sub,
                                  const DemoOptions& opt) {
    auto files = WriteDemoExport((dir_ / sub).string(), format, opt);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    if (!files.ok()) return {};
    return *files;
  }
  std::vector<DemoFileInfo> Write(DemoFormat format) {
    return Write(format, std::string(DemoFormatName(format)), opt_);
  }
  std::string Rel(const std::string& path, const std::string& sub) const {
    return fs::relative(path, dir_ / sub).generic_string();
  }

  sagebox::testing::TempDir tmp_{"demo_gen"};
  const fs::path dir_ = tmp_.path();
  DemoOptions opt_;
};

TEST(DemoFormatTest, NamesRoundTrip) {
  EXPECT_EQ(AllDemoFormats().size(), 5u);
  std::set<std::string_view> names;
  for (DemoFormat f : AllDemoFormats()) {
    names.insert(DemoFormatName(f));
    ASSERT_TRUE(DemoFormatFromName(DemoFormatName(f)).has_value());
    EXPECT_EQ(*DemoFormatFromName(DemoFormatName(f)), f);
  }
  EXPECT_EQ(names.size(), 5u);
  EXPECT_EQ(DemoFormatName(DemoFormat::kLegacyCsvGz), "legacy-csv-gz");
  EXPECT_FALSE(DemoFormatFromName("parquet").has_value());
}

TEST_F(DemoGenTest, RejectsBadOptions) {
  const auto bad = [&](auto mutate) {
    DemoOptions o = opt_;
    mutate(o);
    auto t = ComputeDemoTotals(o);
    EXPECT_FALSE(t.ok());
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << t.status().ToString();
    }
    auto w = WriteDemoExport((dir_ / "bad").string(), DemoFormat::kLegacyCsv, o);
    EXPECT_FALSE(w.ok());
  };
  bad([](DemoOptions& o) { o.start_month = "2024-13"; });
  bad([](DemoOptions& o) { o.start_month = "2024/01"; });
  bad([](DemoOptions& o) { o.start_month = "2024-1"; });
  bad([](DemoOptions& o) { o.months = 0; });
  bad([](DemoOptions& o) { o.accounts = 0; });
  bad([](DemoOptions& o) { o.regions = 9; });
  bad([](DemoOptions& o) { o.target_rows = -1; });
  bad([](DemoOptions& o) { o.report_name = "a/b"; });
  EXPECT_FALSE(fs::exists(dir_ / "bad" / "sagebox-demo"));
}

TEST_F(DemoGenTest, UnwritableDirectoryIsIoError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  auto w = WriteDemoExport((dir_ / "file" / "sub").string(), DemoFormat::kCur2Csv, opt_);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kIoError);
  EXPECT_NE(w.status().message().find("file"), std::string::npos) << w.status().message();
}

TEST_F(DemoGenTest, SameSeedSameBytesOtherSeedOtherBytes) {
  opt_.months = 1;
  for (DemoFormat f : {DemoFormat::kLegacyCsvGz, DemoFormat::kCur2Csv, DemoFormat::kFocusCsv}) {
    const auto a = Write(f, "a", opt_);
    const auto b = Write(f, "b", opt_);
    ASSERT_EQ(a.size(), b.size());
    ASSERT_FALSE(a.empty());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(Rel(a[i].path, "a"), Rel(b[i].path, "b"));
      EXPECT_EQ(a[i].bytes, b[i].bytes);
      EXPECT_TRUE(ReadFile(a[i].path) == ReadFile(b[i].path)) << a[i].path;
    }
    DemoOptions other = opt_;
    other.seed = 7;
    const auto c = Write(f, "c", other);
    ASSERT_FALSE(c.empty());
    EXPECT_FALSE(ReadFile(a.front().path) == ReadFile(c.front().path));
    fs::remove_all(dir_);
  }
}

TEST_F(DemoGenTest, LegacyLayoutAndManifest) {
  const auto files = Write(DemoFormat::kLegacyCsv);
  ASSERT_EQ(files.size(), 4u);  // data file + manifest per period
  const std::regex data_re(R"(sagebox-demo/(\d{8}-\d{8})/([0-9a-f-]{36})/sagebox-demo-1\.csv)");
  const std::vector<std::string> ranges = {"20240101-20240201", "20240201-20240301"};
  for (size_t p = 0; p < 2; ++p) {
    const DemoFileInfo& data = files[2 * p];
    const DemoFileInfo& man = files[2 * p + 1];
    ASSERT_FALSE(data.manifest);
    ASSERT_TRUE(man.manifest);
    EXPECT_EQ(data.billing_period, p == 0 ? "2024-01" : "2024-02");
    std::smatch m;
    const std::string rel = Rel(data.path, "legacy-csv");
    ASSERT_TRUE(std::regex_match(rel, m, data_re)) << rel;
    EXPECT_EQ(m[1].str(), ranges[p]);
    EXPECT_EQ(Rel(man.path, "legacy-csv"),
              "sagebox-demo/" + ranges[p] + "/sagebox-demo-Manifest.json");
    EXPECT_EQ(static_cast<int64_t>(fs::file_size(data.path)), data.bytes);

    const Json j = Json::parse(ReadFile(man.path));
    EXPECT_EQ(j["assemblyId"], m[2].str());
    EXPECT_EQ(j["account"], "111111111111");
    EXPECT_EQ(j["reportName"], "sagebox-demo");
    EXPECT_EQ(j["compression"], "None");
    EXPECT_EQ(j["billingPeriod"]["start"],
              p == 0 ? "20240101T000000.000Z" : "20240201T000000.000Z");
    EXPECT_EQ(j["billingPeriod"]["end"], p == 0 ? "20240201T000000.000Z" : "20240301T000000.000Z");
    ASSERT_EQ(j["reportKeys"].size(), 1u);
    EXPECT_EQ(j["reportKeys"][0], rel);
    const auto header = CsvHeader(data.path);
    ASSERT_EQ(j["columns"].size(), header.size());
    for (size_t i = 0; i < header.size(); ++i) {
      EXPECT_EQ(j["columns"][i]["category"].get<std::string>() + "/" +
                    j["columns"][i]["name"].get<std::string>(),
                header[i]);
    }
  }
}

TEST_F(DemoGenTest, LegacyGzipHoldsTheSameCsv) {
  const auto plain = Write(DemoFormat::kLegacyCsv);
  const auto gz = Write(DemoFormat::kLegacyCsvGz);
  ASSERT_EQ(plain.size(), gz.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    if (plain[i].manifest) {
      EXPECT_EQ(Json::parse(ReadFile(gz[i].path))["compression"], "GZIP");
      continue;
    }
    EXPECT_TRUE(gz[i].path.size() > 7 && gz[i].path.substr(gz[i].path.size() - 7) == ".csv.gz");
    EXPECT_LT(gz[i].bytes * 5, plain[i].bytes);
    EXPECT_TRUE(ReadFile(gz[i].path) == ReadFile(plain[i].path));
    EXPECT_EQ(gz[i].rows, plain[i].rows);
  }
}

TEST_F(DemoGenTest, LegacyHeaderUsesRealColumnNames) {
  const auto real =
      CsvHeader(TestData("real/focus-converters/sample-anonymous-aws-export-dataset.csv"));
  ASSERT_GT(real.size(), 90u);
  const std::set<std::string> known(real.begin(), real.end());
  // Columns AWS adds when resource ids, instance details and tags are on.
  const std::set<std::string> extras = {"lineItem/ResourceId", "product/instanceType",
                                        "resourceTags/user:project", "resourceTags/user:team"};
  const auto ours = DemoColumns(DemoFormat::kLegacyCsv);
  for (const std::string& c : ours) {
    EXPECT_TRUE(known.count(c) || extras.count(c)) << c;
  }
  for (const char* must : {"identity/LineItemId", "lineItem/UsageType", "lineItem/UnblendedCost",
                           "savingsPlan/SavingsPlanEffectiveCost", "pricing/publicOnDemandCost"}) {
    EXPECT_TRUE(std::find(ours.begin(), ours.end(), must) != ours.end()) << must;
  }
  for (const std::string& c : extras) {
    EXPECT_TRUE(std::find(ours.begin(), ours.end(), c) != ours.end()) << c;
  }
}

TEST_F(DemoGenTest, Cur1SnakeLayoutAndNames) {
  const auto files = Write(DemoFormat::kCur1Snake);
  ASSERT_EQ(files.size(), 2u);  // no manifests
  EXPECT_EQ(Rel(files[0].path, "cur1-snake"),
            "sagebox-demo/year=2024/month=1/sagebox-demo-00001.csv");
  EXPECT_EQ(Rel(files[1].path, "cur1-snake"),
            "sagebox-demo/year=2024/month=2/sagebox-demo-00001.csv");
  const auto header = CsvHeader(files[0].path);
  EXPECT_EQ(header, DemoColumns(DemoFormat::kCur1Snake));
  const auto cur2 = CsvHeader(TestData("real/ola-raji-cur2/data/ha-project-CUR-daily-1-00001.csv"));
  const std::set<std::string> known(cur2.begin(), cur2.end());
  // Athena names of legacy columns that CUR 2.0 folds into maps.
  const std::set<std::string> athena_only = {"product_product_name", "product_region",
                                             "product_servicename", "resource_tags_user_project",
                                             "resource_tags_user_team"};
  for (const std::string& c : header) {
    EXPECT_TRUE(known.count(c) || athena_only.count(c)) << c;
  }
  EXPECT_EQ(header[0], "identity_line_item_id");
  // Legacy and Athena CSVs carry the same rows.
  const auto legacy = Write(DemoFormat::kLegacyCsv);
  EXPECT_EQ(ReadCsv(files[0].path).rows.size(), ReadCsv(legacy[0].path).rows.size());
}

TEST_F(DemoGenTest, Cur2LayoutManifestAndRealHeader) {
  const auto files = Write(DemoFormat::kCur2Csv);
  ASSERT_EQ(files.size(), 4u);
  const auto real_header =
      CsvHeader(TestData("real/ola-raji-cur2/data/ha-project-CUR-daily-1-00001.csv"));
  const Json real_manifest = Json::parse(
      ReadFile(TestData("real/ola-raji-cur2/data/ha-project-CUR-daily-1-Manifest.json")));
  for (size_t p = 0; p < 2; ++p) {
    const std::string period = p == 0 ? "2024-01" : "2024-02";
    const DemoFileInfo& data = files[2 * p];
    const DemoFileInfo& man = files[2 * p + 1];
    const std::string rel = Rel(data.path, "cur2-csv");
    EXPECT_EQ(rel, "sagebox-demo/data/BILLING_PERIOD=" + period + "/sagebox-demo-00001.csv");
    EXPECT_EQ(Rel(man.path, "cur2-csv"),
              "sagebox-demo/metadata/BILLING_PERIOD=" + period + "/sagebox-demo-Manifest.json");
    EXPECT_EQ(CsvHeader(data.path), real_header);
    const Json j = Json::parse(ReadFile(man.path));
    EXPECT_TRUE(j["executionId"].is_string());
    EXPECT_EQ(j["exportArn"].get<std::string>().rfind("arn:aws:bcm-data-exports:", 0), 0u);
    EXPECT_EQ(j["columns"], real_manifest["columns"]);
    ASSERT_EQ(j["dataFiles"].size(), 1u);
    const std::string key = j["dataFiles"][0];
    EXPECT_EQ(key.rfind("s3://", 0), 0u);
    EXPECT_EQ(key.substr(key.size() - rel.size()), rel);
  }
  // Map columns are JSON text.
  const Table t = ReadCsv(files[0].path);
  bool tagged = false;
  for (const char* col : {"product", "resource_tags", "cost_category", "discount", "tags"}) {
    std::set<std::string_view> seen;
    const size_t c = t.Col(col);
    for (const auto& row : t.rows) {
      if (!seen.insert(row[c]).second) continue;
      const Json m = Json::parse(row[c]);
      EXPECT_TRUE(m.is_object()) << col;
      if (std::string(col) == "resource_tags" && m.contains("user_team")) tagged = true;
    }
  }
  EXPECT_TRUE(tagged);
}

TEST_F(DemoGenTest, FocusLayoutAndSampleHeader) {
  const auto files = Write(DemoFormat::kFocusCsv);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(Rel(files[0].path, "focus-csv"),
            "sagebox-demo/data/BILLING_PERIOD=2024-01/sagebox-demo-00001.csv");
  EXPECT_EQ(Rel(files[1].path, "focus-csv"),
            "sagebox-demo/metadata/BILLING_PERIOD=2024-01/sagebox-demo-Manifest.json");
  auto sample = CsvHeader(TestData("real/focus-sample-data/FOCUS-1.0/focus_sample.csv"));
  sample.erase(std::remove(sample.begin(), sample.end(), "Id"),
               sample.end());  // the sample's own row id
  const auto ours = CsvHeader(files[0].path);
  std::vector<std::string> focus_only, x_cols;
  for (const std::string& c : ours) (c.rfind("x_", 0) == 0 ? x_cols : focus_only).push_back(c);
  EXPECT_EQ(focus_only, sample);
  EXPECT_EQ(x_cols, (std::vector<std::string>{"x_CostCategories", "x_Discounts", "x_Operation",
                                              "x_ServiceCode", "x_UsageType"}));
  const Json j = Json::parse(ReadFile(files[1].path));
  ASSERT_EQ(j["columns"].size(), ours.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_EQ(j["columns"][i]["name"], ours[i]);

  const Table t = ReadCsv(files[0].path);
  std::set<std::string> categories;
  bool sagemaker = false;
  for (const auto& row : t.rows) {
    categories.insert(std::string(row[t.Col("ChargeCategory")]));
    EXPECT_TRUE(ParseTimestamp(row[t.Col("ChargePeriodStart")]).has_value());
    if (row[t.Col("x_ServiceCode")] == "AmazonSageMaker" &&
        row[t.Col("ServiceName")] == "Amazon SageMaker" &&
        row[t.Col("ChargeCategory")] == "Usage") {
      sagemaker = true;
    }
    const std::string_view tags = row[t.Col("Tags")];
    if (tags != "NULL") {
      EXPECT_TRUE(Json::parse(tags).contains("user:team")) << tags;
    }
  }
  EXPECT_TRUE(sagemaker);
  EXPECT_EQ(categories, (std::set<std::string>{"Usage", "Purchase", "Tax", "Credit"}));
}

TEST_F(DemoGenTest, FocusSavingsPlanModel) {
  const auto files = Write(DemoFormat::kFocusCsv);
  const Table t = ReadCsv(files[0].path);
  int used = 0, unused = 0, purchases = 0;
  for (const auto& row : t.rows) {
    const std::string_view status = row[t.Col("CommitmentDiscountStatus")];
    const Decimal billed = Num(row[t.Col("BilledCost")]);
    const Decimal effective = Num(row[t.Col("EffectiveCost")]);
    if (status == "Used") {
      ++used;
      EXPECT_TRUE(billed.is_zero());
      EXPECT_GT(effective, Decimal());
      EXPECT_LT(effective, Num(row[t.Col("ListCost")]));  // cheaper than on demand
      EXPECT_EQ(row[t.Col("PricingCategory")], "Committed");
    } else if (status == "Unused") {
      ++unused;
      EXPECT_TRUE(billed.is_zero());
      EXPECT_GT(effective, Decimal());
    }
    if (row[t.Col("ChargeCategory")] == "Purchase") {
      ++purchases;
      EXPECT_TRUE(effective.is_zero());
      EXPECT_GT(billed, Decimal());
      EXPECT_NE(row[t.Col("CommitmentDiscountId")], "NULL");
    }
  }
  EXPECT_GT(used, 100);
  EXPECT_GT(unused, 0);
  EXPECT_EQ(purchases, 31 * 24 + 1);  // hourly recurring fees and the upfront fee
}

TEST_F(DemoGenTest, TotalsAgreeAcrossFormatsAndWithComputeDemoTotals) {
  const auto totals = ComputeDemoTotals(opt_);
  ASSERT_TRUE(totals.ok()) << totals.status().ToString();
  ASSERT_EQ(totals->size(), 2u);
  struct Spec {
    DemoFormat format;
    const char* cost;
    const char* type;
  };
  for (const Spec& s :
       {Spec{DemoFormat::kLegacyCsv, "lineItem/UnblendedCost", "lineItem/LineItemType"},
        Spec{DemoFormat::kLegacyCsvGz, "lineItem/UnblendedCost", "lineItem/LineItemType"},
        Spec{DemoFormat::kCur1Snake, "line_item_unblended_cost", "line_item_line_item_type"},
        Spec{DemoFormat::kCur2Csv, "line_item_unblended_cost", "line_item_line_item_type"},
        Spec{DemoFormat::kFocusCsv, "BilledCost", "ChargeCategory"}}) {
    SCOPED_TRACE(std::string(DemoFormatName(s.format)));
    const auto files = Write(s.format);
    const auto data = DataFiles(files);
    ASSERT_EQ(data.size(), 2u);
    for (size_t p = 0; p < 2; ++p) {
      const DemoPeriodTotals& want = (*totals)[p];
      EXPECT_EQ(data[p]->billing_period, want.billing_period);
      const Table t = ReadCsv(data[p]->path);
      const size_t cost = t.Col(s.cost);
      Decimal sum, effective, tax, credit;
      for (const auto& row : t.rows) {
        sum += Num(row[cost]);
        if (row[t.Col(s.type)] == "Tax") tax += Num(row[cost]);
        if (row[t.Col(s.type)] == "Credit") credit += Num(row[cost]);
        if (s.format == DemoFormat::kFocusCsv) effective += Num(row[t.Col("EffectiveCost")]);
      }
      EXPECT_EQ(sum.ToString(), want.unblended_cost.ToString());
      EXPECT_EQ(data[p]->unblended_cost.ToString(), want.unblended_cost.ToString());
      EXPECT_EQ(tax.ToString(), want.tax_cost.ToString());
      EXPECT_EQ(credit.ToString(), want.credit_cost.ToString());
      EXPECT_LT(credit, Decimal());
      EXPECT_EQ(data[p]->rows, static_cast<int64_t>(t.rows.size()));
      if (s.format == DemoFormat::kFocusCsv) {
        EXPECT_EQ(static_cast<int64_t>(t.rows.size()), want.focus_rows);
        EXPECT_EQ(effective.ToString(), want.amortized_cost.ToString());
      } else {
        EXPECT_EQ(static_cast<int64_t>(t.rows.size()), want.line_items);
      }
    }
    fs::remove_all(dir_);
  }
}

TEST_F(DemoGenTest, SavingsPlanNegationEqualsCoveredUsage) {
  const auto totals = ComputeDemoTotals(opt_);
  ASSERT_TRUE(totals.ok());
  for (const DemoPeriodTotals& t : *totals) {
    EXPECT_GT(t.sp_covered_cost, Decimal());
    EXPECT_EQ(t.sp_covered_cost + t.sp_negation_cost, Decimal());
    EXPECT_LT(t.amortized_cost, t.unblended_cost + t.sp_covered_cost);
  }
  const auto files = Write(DemoFormat::kLegacyCsv);
  int upfront = 0;
  for (const DemoFileInfo* f : DataFiles(files)) {
    const Table t = ReadCsv(f->path);
    const size_t type = t.Col("lineItem/LineItemType"), cost = t.Col("lineItem/UnblendedCost");
    std::map<std::string, Decimal> net;  // hour + resource -> covered + negation
    int covered = 0, negations = 0, fees = 0;
    for (const auto& row : t.rows) {
      const std::string_view ty = row[type];
      const std::string key = std::string(row[t.Col("lineItem/UsageStartDate")]) + " " +
                              std::string(row[t.Col("lineItem/ResourceId")]);
      if (ty == "SavingsPlanCoveredUsage") {
        ++covered;
        net[key] += Num(row[cost]);
        EXPECT_LT(Num(row[t.Col("savingsPlan/SavingsPlanEffectiveCost")]), Num(row[cost]));
        EXPECT_FALSE(row[t.Col("savingsPlan/SavingsPlanARN")].empty());
      } else if (ty == "SavingsPlanNegation") {
        ++negations;
        net[key] += Num(row[cost]);
        EXPECT_LT(Num(row[cost]), Decimal());
      } else if (ty == "SavingsPlanRecurringFee") {
        ++fees;
        EXPECT_LE(Num(row[t.Col("savingsPlan/UsedCommitment")]),
                  Num(row[t.Col("savingsPlan/TotalCommitmentToDate")]));
        EXPECT_GT(Num(row[t.Col("savingsPlan/TotalCommitmentToDate")]), Decimal());
      } else if (ty == "SavingsPlanUpfrontFee") {
        ++upfront;
        EXPECT_EQ(f->billing_period, "2024-01");
      } else {
        EXPECT_TRUE(row[t.Col("savingsPlan/SavingsPlanARN")].empty()) << ty;
      }
    }
    EXPECT_GT(covered, 0);
    EXPECT_EQ(covered, negations);
    EXPECT_EQ(fees, f->billing_period == "2024-01" ? 31 * 24 : 29 * 24);
    for (const auto& [key, v] : net) EXPECT_TRUE(v.is_zero()) << key;
  }
  EXPECT_EQ(upfront, 1);
}

TEST_F(DemoGenTest, HourlyCostIsAmountTimesRateAndNumbersLookLikeAws) {
  const auto files = Write(DemoFormat::kLegacyCsv);
  int hourly = 0, scientific = 0, empty_rate = 0, fractional = 0;
  for (const DemoFileInfo* f : DataFiles(files)) {
    const Table t = ReadCsv(f->path);
    const size_t amount = t.Col("lineItem/UsageAmount"), rate = t.Col("lineItem/UnblendedRate"),
                 cost = t.Col("lineItem/UnblendedCost"), unit = t.Col("pricing/unit");
    for (const auto& row : t.rows) {
      EXPECT_TRUE(ParseTimestamp(row[t.Col("lineItem/UsageStartDate")]).has_value());
      EXPECT_EQ(row[t.Col("lineItem/UsageStartDate")].size(), 20u);  // 2024-01-01T00:00:00Z
      if (row[cost].find("E-") != std::string::npos) {
        ++scientific;
        EXPECT_LT(Num(row[cost]), Num("0.001"));
      }
      const std::string::size_type dot = row[cost].find('.');
      if (dot != std::string::npos && row[cost].find('E') == std::string::npos) {
        EXPECT_LE(row[cost].size() - dot - 1, 10u) << row[cost];
      }
      if (row[rate].empty()) ++empty_rate;
      if (row[unit] != "Hrs" || row[rate].empty()) continue;
      ++hourly;
      const Decimal a = Num(row[amount]), r = Num(row[rate]);
      if (a != Decimal::FromInt(1)) ++fractional;
      // amount has 3 decimals and rate 6, so the product is exact.
      const int128 product = a.raw() * r.raw() / Decimal::kOne;
      EXPECT_EQ(product * Decimal::kOne, a.raw() * r.raw());
      EXPECT_EQ(Decimal::FromRaw(product), Num(row[cost]))
          << row[amount] << " * " << row[rate] << " != " << row[cost];
    }
  }
  EXPECT_GT(hourly, 1000);
  EXPECT_GT(fractional, 10);  // job hours split at hour boundaries
  EXPECT_GT(scientific, 0);
  EXPECT_GT(empty_rate, 0);  // tax and credit lines leave rates empty, as AWS does
}

TEST_F(DemoGenTest, SeedArticleScenario) {
  DemoOptions o = opt_;
  o.months = 1;
  o.accounts = 1;
  o.regions = 1;
  const auto files = Write(DemoFormat::kLegacyCsv, "seed", o);
  const Table t = ReadCsv(files[0].path);
  const size_t res = t.Col("lineItem/ResourceId"), ut = t.Col("lineItem/UsageType"),
               rate = t.Col("lineItem/UnblendedRate"), type = t.Col("lineItem/LineItemType"),
               start = t.Col("lineItem/UsageStartDate"), cost = t.Col("lineItem/UnblendedCost"),
               team = t.Col("resourceTags/user:team");
  std::map<std::string, int> dev_hours_per_day;
  bool studio = false, dw_app = false, dw_job = false, spot = false, endpoint = false, ec2 = false,
       s3 = false;
  std::set<std::string> first_run_hours;
  Decimal sagemaker, untagged;
  for (const auto& row : t.rows) {
    if (row[res] == "arn:aws:sagemaker:us-east-1:111111111111:notebook-instance/dev-notebook" &&
        row[ut] == "USE1-Notebk:ml.t2.medium" && row[type] != "SavingsPlanNegation") {
      EXPECT_EQ(row[rate], "0.0464");
      ++dev_hours_per_day[std::string(row[start].substr(0, 10))];
    }
    if (row[ut] == "USE1-Studio:KernelGateway-ml.t3.medium") {
      studio = true;
      EXPECT_EQ(row[res],
                "arn:aws:sagemaker:us-east-1:111111111111:app/d-domain1234/user1/"
                "KernelGateway/datascience-1-0-ml-t3-medium-1abf3407f667f989be9d86559395");
      if (row[type] != "SavingsPlanNegation") {
        EXPECT_EQ(row[rate], "0.05");
      }
    }
    if (row[ut] == "USE1-Studio_DW:KernelGateway-ml.m5.4xlarge") {
      dw_app = true;
      EXPECT_EQ(row[rate], "0.922");
    }
    if (row[res] == "arn:aws:sagemaker:us-east-1:111111111111:processing-job/features-daily-001" &&
        row[ut] == "USE1-Processing:ml.m5.xlarge") {
      first_run_hours.insert(std::string(row[start]));
    }
    dw_job |= row[ut] == "USE1-processing_DW:ml.m5.4xlarge";
    spot |= row[ut] == "USE1-Train-Spot:ml.p3.2xlarge";
    endpoint |= row[ut] == "USE1-Host:ml.g4dn.xlarge" &&
                row[res] == "arn:aws:sagemaker:us-east-1:111111111111:endpoint/idle-endpoint";
    ec2 |= row[t.Col("lineItem/ProductCode")] == "AmazonEC2";
    s3 |= row[ut] == "TimedStorage-ByteHrs";  // no region prefix means us-east-1
    if (row[t.Col("lineItem/ProductCode")] == "AmazonSageMaker" &&
        (row[type] == "Usage" || row[type] == "SavingsPlanCoveredUsage")) {
      sagemaker += Num(row[cost]);
      if (row[team].empty()) untagged += Num(row[cost]);
    }
  }
  ASSERT_EQ(dev_hours_per_day.size(), 31u);
  for (const auto& [day, hours] : dev_hours_per_day) EXPECT_EQ(hours, 24) << day;
  EXPECT_TRUE(studio && dw_app && dw_job && spot && endpoint && ec2 && s3);
  // The first run of the daily family starts at 02:00 on the second day (the
  // spec's CloudWatch example) and is billed in hourly slices.
  ASSERT_FALSE(first_run_hours.empty());
  EXPECT_EQ(*first_run_hours.begin(), "2024-01-02T02:00:00Z");
  EXPECT_EQ(first_run_hours.rbegin()->substr(0, 11), "2024-01-02T");
  // Some spend is untagged, most is not.
  EXPECT_GT(untagged.ToDouble(), 0.05 * sagemaker.ToDouble());
  EXPECT_LT(untagged.ToDouble(), 0.5 * sagemaker.ToDouble());
}

TEST_F(DemoGenTest, RegionsAndAccounts) {
  DemoOptions o = opt_;
  o.months = 1;
  o.accounts = 3;
  o.regions = 3;
  const auto files = Write(DemoFormat::kFocusCsv, "regions", o);
  const Table t = ReadCsv(files[0].path);
  std::set<std::string> accounts, regions;
  bool eu = false;
  for (const auto& row : t.rows) {
    accounts.insert(std::string(row[t.Col("SubAccountId")]));
    const std::string_view r = row[t.Col("RegionId")];
    if (r != "NULL") regions.insert(std::string(r));
    eu |= row[t.Col("x_UsageType")] == "EU-Notebk:VolumeUsage.gp2";
    EXPECT_EQ(row[t.Col("BillingAccountId")], "111111111111");
  }
  EXPECT_EQ(accounts, (std::set<std::string>{"111111111111", "222222222222", "333333333333"}));
  EXPECT_EQ(regions, (std::set<std::string>{"us-east-1", "us-west-2", "eu-west-1"}));
  EXPECT_TRUE(eu);
}

TEST_F(DemoGenTest, RowCountsScaleWithTarget) {
  const auto natural = ComputeDemoTotals(DemoOptions{});
  ASSERT_TRUE(natural.ok());
  int64_t n0 = 0;
  for (const auto& t : *natural) n0 += t.line_items;
  EXPECT_GT(n0, 20'000);
  EXPECT_LT(n0, 200'000);
  for (int64_t target : {100'000, 300'000}) {
    DemoOptions o;
    o.target_rows = target;
    const auto totals = ComputeDemoTotals(o);
    ASSERT_TRUE(totals.ok());
    int64_t n = 0;
    for (const auto& t : *totals) n += t.line_items;
    EXPECT_GT(n, target * 9 / 10) << target;
    EXPECT_LT(n, target * 11 / 10) << target;
  }
  // And the files hold what the totals say.
  DemoOptions o = opt_;
  o.target_rows = 60'000;
  const auto totals = ComputeDemoTotals(o);
  ASSERT_TRUE(totals.ok());
  const auto files = Write(DemoFormat::kCur1Snake, "scaled", o);
  int64_t rows = 0, want = 0;
  for (const auto& f : files) rows += f.rows;
  for (const auto& t : *totals) want += t.line_items;
  EXPECT_EQ(rows, want);
  EXPECT_GT(rows, 54'000);
  EXPECT_LT(rows, 66'000);
}

TEST_F(DemoGenTest, SplitsLargePeriodsIntoNumberedFiles) {
  DemoOptions o = opt_;
  o.max_rows_per_file = 1000;
  const auto files = Write(DemoFormat::kLegacyCsvGz, "split", o);
  const auto totals = ComputeDemoTotals(o);
  ASSERT_TRUE(totals.ok());
  std::map<std::string, std::vector<const DemoFileInfo*>> by_period;
  for (const DemoFileInfo& f : files) {
    if (!f.manifest) by_period[f.billing_period].push_back(&f);
  }
  ASSERT_EQ(by_period.size(), 2u);
  for (const DemoFileInfo& f : files) {
    if (!f.manifest) continue;
    const Json j = Json::parse(ReadFile(f.path));
    const auto& data = by_period[f.billing_period];
    ASSERT_GT(data.size(), 1u);
    ASSERT_EQ(j["reportKeys"].size(), data.size());
    int64_t rows = 0;
    Decimal cost;
    for (size_t i = 0; i < data.size(); ++i) {
      EXPECT_LE(data[i]->rows, 1000);
      rows += data[i]->rows;
      cost += data[i]->unblended_cost;
      const std::string key = j["reportKeys"][i];
      EXPECT_TRUE(fs::exists(dir_ / "split" / key)) << key;
      EXPECT_NE(key.find("sagebox-demo-" + std::to_string(i + 1) + ".csv.gz"), std::string::npos)
          << key;
      EXPECT_EQ(CsvHeader(data[i]->path), DemoColumns(DemoFormat::kLegacyCsvGz));
    }
    const auto& want = f.billing_period == "2024-01" ? (*totals)[0] : (*totals)[1];
    EXPECT_EQ(rows, want.line_items);
    EXPECT_EQ(cost, want.unblended_cost);
  }
}

}  // namespace
}  // namespace sagebox::cost
