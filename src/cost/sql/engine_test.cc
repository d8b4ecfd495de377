#include "cost/sql/engine.h"

#include <gtest/gtest.h>

#include "core/testing/temp_dir.h"
#include "cost/ingest.h"
#include "cost/sql/functions.h"

namespace sagebox::sql {
namespace {

// A small CUR 1.0 (Athena snake_case) export: two billing periods.
constexpr char kCsv[] =
    "bill_payer_account_id,bill_billing_period_start_date,line_item_usage_account_id,"
    "line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,"
    "line_item_product_code,line_item_usage_type,line_item_operation,line_item_resource_id,"
    "line_item_usage_amount,line_item_unblended_rate,line_item_unblended_cost,"
    "line_item_blended_rate,line_item_blended_cost,line_item_line_item_description,"
    "resource_tags_user_team\n"
    "111,2024-01-01T00:00:00Z,222,Usage,2024-01-30T10:00:00Z,2024-01-30T11:00:00Z,"
    "AmazonSageMaker,USE1-Notebk:ml.t2.medium,RunInstance,nb-a,1,0.0464,0.0464,0.0464,0.0464,"
    "\"$0.0464 per hour, t2\",ml\n"
    "111,2024-01-01T00:00:00Z,222,Usage,2024-01-30T11:00:00Z,2024-01-30T12:00:00Z,"
    "AmazonSageMaker,USE1-Notebk:ml.t2.medium,RunInstance,nb-a,1,0.0464,0.0464,0.0464,0.0464,"
    "\"$0.0464 per hour, t2\",ml\n"
    "111,2024-02-01T00:00:00Z,222,Usage,2024-02-01T00:00:00Z,2024-02-01T01:00:00Z,"
    "AmazonSageMaker,USE1-Notebk:ml.t2.medium,RunInstance,nb-a,0.5,0.0464,0.0232,0.0464,0.0232,"
    "\"$0.0464 per hour, t2\",\n"
    "111,2024-02-01T00:00:00Z,333,Usage,2024-02-02T05:00:00Z,2024-02-02T06:00:00Z,"
    "AmazonSageMaker,USE1-Studio:KernelGateway-ml.t3.medium,RunInstance,app-b,1,0.05,0.05,0.05,"
    "0.05,KG,data\n"
    "111,2024-02-01T00:00:00Z,333,Tax,2024-02-01T00:00:00Z,2024-03-01T00:00:00Z,"
    "AmazonSageMaker,,,,0,,0.123456785,,0.123456785,Tax,\n"
    "111,2024-02-01T00:00:00Z,333,Usage,2024-02-03T00:00:00Z,2024-02-03T01:00:00Z,"
    "AmazonEC2,USE1-BoxUsage:t3.micro,RunInstances,i-1,1,0.0104,0.0104,0.0104,0.0104,EC2,\n";

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string csv = tmp_.Path("cur.csv");
    ASSERT_TRUE(Env::Default()->WriteFileAtomic(csv, kCsv).ok());
    store_ = tmp_.Path("store");
    auto r = cost::Ingest(Env::Default(), store_, {csv}, cost::IngestOptions{});
    ASSERT_TRUE(r.ok()) << r.status().message();
    auto st = store::Store::Open(Env::Default(), store_);
    ASSERT_TRUE(st.ok());
    st_ = std::move(*st);
  }

  StatusOr<ResultSet> Run(const std::string& q) {
    Source src{"q", q};
    SqlOptions opt;
    opt.as_of = *ParseDate("2024-04-15");
    opt.table_name = "my_cur";
    return RunSql(*st_, src, opt);
  }
  std::string Csv(const std::string& q) {
    auto r = Run(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? ResultToCsv(*r) : "";
  }
  std::string Error(const std::string& q) {
    auto r = Run(q);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.status().message();
  }

  sagebox::testing::TempDir tmp_{"sql"};
  std::string store_;
  std::unique_ptr<store::Store> st_;
};

TEST_F(EngineTest, ArticleShapedQueryGroupsAndSumsExactly) {
  EXPECT_EQ(Csv(R"(SELECT bill_payer_account_id, line_item_resource_id AS arn,
      DATE_FORMAT((line_item_usage_start_date),'%Y-%m-%d') AS day,
      SUM(CAST(line_item_usage_amount AS DOUBLE)) AS hours,
      line_item_unblended_rate,
      SUM(CAST(line_item_unblended_cost AS DECIMAL(16,8))) AS cost,
      line_item_line_item_description
    FROM {$table_name}
    WHERE line_item_usage_start_date >= date_trunc('month', current_date - interval '3' month)
      AND line_item_product_code = 'AmazonSageMaker'
      AND line_item_line_item_type IN ('DiscountedUsage', 'Usage', 'SavingsPlanCoveredUsage')
      AND line_item_usage_type like '%Notebk%'
      AND line_item_operation = 'RunInstance' AND bill_payer_account_id = '111'
    GROUP BY bill_payer_account_id, line_item_resource_id, line_item_unblended_rate,
      DATE_FORMAT((line_item_usage_start_date),'%Y-%m-%d'), line_item_line_item_description
    ORDER BY line_item_resource_id, day)"),
            "bill_payer_account_id,arn,day,hours,line_item_unblended_rate,cost,"
            "line_item_line_item_description\n"
            "111,nb-a,2024-01-30,2.0,0.0464,0.09280000,\"$0.0464 per hour, t2\"\n"
            "111,nb-a,2024-02-01,0.5,0.0464,0.02320000,\"$0.0464 per hour, t2\"\n");
}

TEST_F(EngineTest, CurrentDateComesFromAsOf) {
  // 2024-04-15 - 2 months = 2024-02-15 -> February onwards.
  EXPECT_EQ(Csv("SELECT count(*) n FROM customer_all WHERE line_item_usage_start_date >= "
                "date_trunc('month', current_date - interval '2' month)"),
            "n\n4\n");
  EXPECT_EQ(Csv("SELECT current_date, date_trunc('month', current_date) - INTERVAL '1' MONTH AS m "
                "FROM my_cur LIMIT 1"),
            "_col0,m\n2024-04-15,2024-03-01\n");
}

TEST_F(EngineTest, DecimalCastRoundsHalfUpAndSumsStayExact) {
  EXPECT_EQ(Csv("SELECT line_item_line_item_type t, CAST(SUM(line_item_unblended_cost) AS "
                "DECIMAL(16,8)) c, SUM(line_item_unblended_cost) raw FROM customer_all GROUP BY 1 "
                "ORDER BY 1"),
            "t,c,raw\nTax,0.12345679,0.1234567850\nUsage,0.17640000,0.1764000000\n");
  EXPECT_EQ(Csv("SELECT CAST(-0.123456785 AS DECIMAL(16,8)), CAST(2.5 AS BIGINT), "
                "CAST(0.1 AS DOUBLE) + CAST(0.2 AS DOUBLE), 7 / 2, 7.0 / 2, 1.10 * 3 "
                "FROM customer_all LIMIT 1"),
            "_col0,_col1,_col2,_col3,_col4,_col5\n"
            "-0.12345679,3,0.30000000000000004,3,3.5,3.30\n");
  EXPECT_NE(Error("SELECT CAST(line_item_unblended_cost * 1000000000 AS DECIMAL(4,2)) FROM "
                  "customer_all")
                .find("to decimal(4,2): out of range"),
            std::string::npos);
  EXPECT_EQ(Csv("SELECT TRY_CAST('x' AS DECIMAL(4,2)) v FROM customer_all LIMIT 1"), "v\n\n");
}

TEST_F(EngineTest, TagsPartitionsAndPositions) {
  EXPECT_EQ(
      Csv("SELECT resource_tags_user_team, year, month, count(*), "
          "sum(line_item_usage_amount) FROM customer_all GROUP BY 1, 2, 3 ORDER BY 5 DESC, 1"),
      "resource_tags_user_team,year,month,_col3,_col4\n"
      "ml,2024,1,2,2.0000000000\n"
      ",2024,2,3,1.5000000000\n"
      "data,2024,2,1,1.0000000000\n");
  EXPECT_EQ(Csv("SELECT count(*) FROM customer_all WHERE year = '2024' AND (month BETWEEN '2' AND "
                "'3' OR month BETWEEN '02' AND '03')"),
            "_col0\n4\n");
}

TEST_F(EngineTest, CaseLikeInAndStringFunctions) {
  EXPECT_EQ(
      Csv("SELECT CASE WHEN line_item_usage_type LIKE '%Notebk%' THEN 'notebook' WHEN "
          "line_item_usage_type = '' THEN NULL ELSE split_part(line_item_usage_type, '-', 2) "
          "END kind, count(DISTINCT line_item_resource_id) n, max(line_item_usage_start_date) "
          "last FROM customer_all GROUP BY 1 ORDER BY 1 NULLS FIRST"),
      "kind,n,last\n"
      ",1,2024-02-01 00:00:00.000\n"
      "BoxUsage:t3.micro,1,2024-02-03 00:00:00.000\n"
      "Studio:KernelGateway,1,2024-02-02 05:00:00.000\n"
      "notebook,1,2024-02-01 00:00:00.000\n");
  EXPECT_EQ(Csv("SELECT upper(line_item_resource_id) || '/' || lower('AB'), length('héllo'), "
                "substr('abcdef', 2, 3), replace('a-b-c', '-'), "
                "from_iso8601_timestamp('2024-03-01T12:00:00Z') FROM customer_all WHERE "
                "line_item_resource_id NOT IN ('nb-a', 'i-1', '') LIMIT 1"),
            "_col0,_col1,_col2,_col3,_col4\nAPP-B/ab,5,bcd,abc,2024-03-01 12:00:00.000\n");
}

TEST_F(EngineTest, SelectStarHasTheAthenaColumns) {
  auto r = Run("SELECT * FROM customer_all WHERE line_item_product_code = 'AmazonEC2'");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->names.front(), "bill_payer_account_id");
  EXPECT_EQ(r->names.back(), "month");
  bool has_tag = false;
  for (const auto& n : r->names) has_tag = has_tag || n == "resource_tags_user_team";
  EXPECT_TRUE(has_tag);
  auto j = ResultToJson(*r);
  EXPECT_EQ(j["columns"][0]["type"], "varchar");
}

TEST_F(EngineTest, HavingOrderByAggregateAndLimit) {
  EXPECT_EQ(Csv("SELECT line_item_usage_account_id a FROM customer_all GROUP BY 1 HAVING "
                "sum(line_item_unblended_cost) > 0.1 ORDER BY sum(line_item_unblended_cost) DESC"),
            "a\n333\n222\n");
  EXPECT_EQ(Csv("SELECT line_item_resource_id FROM customer_all ORDER BY "
                "line_item_usage_start_date DESC LIMIT 2"),
            "line_item_resource_id\ni-1\napp-b\n");
}

TEST_F(EngineTest, ErrorsNameTheProblemAndItsPlace) {
  EXPECT_EQ(Error("SELECT line_item_normalized_usage_amount FROM customer_all"),
            "q:1:8: column 'line_item_normalized_usage_amount' is not in the billing table (the "
            "store keeps the CUR columns listed by 'sagebox cost sql --columns')\n"
            "  SELECT line_item_normalized_usage_amount FROM customer_all\n"
            "         ^");
  EXPECT_NE(Error("SELECT a FROM other_table").find("q:1:15: unknown table 'other_table'"),
            std::string::npos);
  EXPECT_NE(Error("SELECT approx_distinct(line_item_resource_id) FROM customer_all")
                .find("q:1:8: function approx_distinct() is not supported"),
            std::string::npos);
  EXPECT_NE(Error("SELECT line_item_usage_type, count(*) FROM customer_all")
                .find("q:1:8: column 'line_item_usage_type' must appear in GROUP BY"),
            std::string::npos);
  EXPECT_NE(Error("SELECT * FROM customer_all WHERE line_item_usage_start_date > '2024-01-01'")
                .find("cannot compare timestamp with varchar"),
            std::string::npos);
  EXPECT_NE(Error("SELECT 1 / 0 FROM customer_all").find("q:1:10: division by zero"),
            std::string::npos);
  EXPECT_NE(Error("SELECT resource_tags_user_owner FROM customer_all")
                .find("tag columns: resource_tags_user_team"),
            std::string::npos);
  EXPECT_NE(Error("SELECT sum(line_item_unblended_cost) FROM customer_all WHERE "
                  "sum(line_item_unblended_cost) > 1")
                .find("q:1:62: aggregate functions are not allowed in WHERE"),
            std::string::npos);
}

TEST_F(EngineTest, RowsThatNeedNoSortingStreamToTheSink) {
  std::vector<std::string> got;
  SqlOptions opt;
  opt.as_of = *ParseDate("2024-04-15");
  opt.row_sink = [&](const ResultSet& head, std::vector<Value>& row) {
    EXPECT_EQ(head.names.size(), 1u);
    got.push_back(ToText(row[0]));
    return Status::Ok();
  };
  Source src{"q",
             "SELECT line_item_resource_id FROM customer_all WHERE line_item_resource_id <> '' "
             "LIMIT 3"};
  auto r = RunSql(*st_, src, opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->streamed);
  EXPECT_TRUE(r->rows.empty());
  EXPECT_EQ(got, (std::vector<std::string>{"nb-a", "nb-a", "nb-a"}));
  // ORDER BY needs every row first: collected, not streamed.
  got.clear();
  Source sorted{"q", "SELECT line_item_resource_id FROM customer_all ORDER BY 1 DESC LIMIT 1"};
  auto r2 = RunSql(*st_, sorted, opt);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->streamed);
  EXPECT_TRUE(got.empty());
  ASSERT_EQ(r2->rows.size(), 1u);
  EXPECT_EQ(ToText(r2->rows[0][0]), "nb-a");
}

TEST(ValueTest, TextForms) {
  EXPECT_EQ(DoubleText(24), "24.0");
  EXPECT_EQ(DoubleText(0.0464), "0.0464");
  EXPECT_EQ(DoubleText(1e7), "1.0E7");
  EXPECT_EQ(DoubleText(1.5e-4), "1.5E-4");
  EXPECT_EQ(DoubleText(-1234.5), "-1234.5");
  EXPECT_EQ(DecimalText(-5, 3), "-0.005");
  EXPECT_EQ(DecimalText(1113600000, 8), "11.13600000");
  int128 x = 0;
  ASSERT_TRUE(Rescale(-1234565, 6, 5, &x));
  EXPECT_EQ(static_cast<int64_t>(x), -123457);
  ASSERT_TRUE(ParseDecimalText("4.32E-8", 10, &x));
  EXPECT_EQ(static_cast<int64_t>(x), 432);
  EXPECT_FALSE(ParseDecimalText("1e40", 0, &x));
  EXPECT_FALSE(ParseDecimalText("", 2, &x));
}

TEST(FunctionsTest, DateFormatLikeAndMonths) {
  int64_t t = *ParseTimestamp("2024-02-29T13:05:09Z");
  EXPECT_EQ(DateFormat(t, "%Y-%m-%d %H:%i:%s %p %b %W %j %e %c %y %%"),
            "2024-02-29 13:05:09 PM Feb Thursday 060 29 2 24 %");
  std::vector<LikeToken> p;
  std::string err;
  ASSERT_TRUE(CompileLike("%Studio_DW:%", false, "", &p, &err));
  EXPECT_TRUE(LikeMatch(p, "USE1-Studio_DW:KernelGateway"));
  EXPECT_TRUE(LikeMatch(p, "USE1-StudioXDW:KernelGateway"));  // _ is any one character
  EXPECT_FALSE(LikeMatch(p, "USE1-Studio:KernelGateway"));
  ASSERT_TRUE(CompileLike("a!%b", true, "!", &p, &err));
  EXPECT_TRUE(LikeMatch(p, "a%b"));
  EXPECT_FALSE(LikeMatch(p, "axb"));
  EXPECT_EQ(AddMonths(*ParseDate("2024-01-31"), 1), *ParseDate("2024-02-29"));
  EXPECT_EQ(AddMonths(*ParseDate("2024-03-31"), -13), *ParseDate("2023-02-28"));
}

}  // namespace
}  // namespace sagebox::sql
