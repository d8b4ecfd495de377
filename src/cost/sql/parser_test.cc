#include "cost/sql/parser.h"

#include <gtest/gtest.h>

namespace sagebox::sql {
namespace {

Select ParseOk(std::string_view text) {
  Source src{"q", text};
  auto r = Parse(src);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(*r) : Select{};
}

std::string ParseErr(std::string_view text) {
  Source src{"q", text};
  auto r = Parse(src);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

TEST(ParserTest, PrecedenceFollowsTrino) {
  auto s = ParseOk("SELECT a + b * c - d, NOT x = 1 AND y OR z, -2 * e FROM t");
  ASSERT_EQ(s.items.size(), 3u);
  EXPECT_EQ(ExprKey(*s.items[0].expr), "((a + (b * c)) - d)");
  EXPECT_EQ(ExprKey(*s.items[1].expr), "(((not (x = 1)) and y) or z)");
  EXPECT_EQ(ExprKey(*s.items[2].expr), "(-2 * e)");
}

TEST(ParserTest, ArticleQueryShape) {
  auto s = ParseOk(R"(SELECT
      line_item_resource_id AS notebook_arn,
      DATE_FORMAT((line_item_usage_start_date),'%Y-%m-%d') AS day,
      SUM(CAST(line_item_unblended_cost AS DECIMAL(16,8))) AS cost
    FROM {$table_name}
    WHERE line_item_usage_start_date >= date_trunc('month',current_date - interval '3' month)
      AND line_item_line_item_type  IN ('DiscountedUsage', 'Usage')
      AND line_item_usage_type like '%Notebk%'
    GROUP BY line_item_resource_id, DATE_FORMAT((line_item_usage_start_date),'%Y-%m-%d')
    ORDER BY line_item_resource_id, day DESC LIMIT 10;)");
  ASSERT_EQ(s.items.size(), 3u);
  EXPECT_EQ(s.items[0].alias, "notebook_arn");
  EXPECT_EQ(ExprKey(*s.items[1].expr), "date_format(line_item_usage_start_date, '%Y-%m-%d')");
  EXPECT_EQ(ExprKey(*s.items[2].expr), "sum(cast(line_item_unblended_cost as decimal(16,8)))");
  EXPECT_TRUE(s.table_is_placeholder);
  EXPECT_EQ(s.table, "table_name");
  ASSERT_TRUE(s.where);
  EXPECT_EQ(ExprKey(*s.where),
            "(((line_item_usage_start_date >= date_trunc('month', (current_date() - interval '3' "
            "month))) and (line_item_line_item_type in ('DiscountedUsage', 'Usage'))) and "
            "(line_item_usage_type like '%Notebk%'))");
  ASSERT_EQ(s.group_by.size(), 2u);
  EXPECT_EQ(ExprKey(*s.group_by[1]), ExprKey(*s.items[1].expr));
  ASSERT_EQ(s.order_by.size(), 2u);
  EXPECT_TRUE(s.order_by[1].desc);
  EXPECT_EQ(s.limit, 10);
}

TEST(ParserTest, AliasesWithoutAsAndQuoted) {
  auto s = ParseOk(
      "SELECT CASE WHEN a = 'x' THEN 'y' ELSE a END charge_type, round(sum(c),2) "
      "\"Hourly Commitment\" FROM db.customer_all GROUP BY 1");
  EXPECT_EQ(s.items[0].alias, "charge_type");
  EXPECT_EQ(s.items[1].alias, "Hourly Commitment");
  EXPECT_EQ(s.table, "customer_all");
}

TEST(ParserTest, QuotedFunctionNamesAndCasts) {
  auto s = ParseOk(
      "SELECT \"date_trunc\"('month', current_date) - INTERVAL '1' MONTH, "
      "TRY_CAST(x AS decimal(8, 2)), x NOT BETWEEN 1 AND 2, y IS NOT NULL, "
      "z NOT LIKE 'a!%' ESCAPE '!' FROM t");
  EXPECT_EQ(ExprKey(*s.items[0].expr),
            "(date_trunc('month', current_date()) - interval '1' month)");
  EXPECT_EQ(ExprKey(*s.items[1].expr), "try_cast(x as decimal(8,2))");
  EXPECT_EQ(ExprKey(*s.items[2].expr), "(x not between 1 and 2)");
  EXPECT_EQ(ExprKey(*s.items[3].expr), "(y is not null)");
  EXPECT_EQ(ExprKey(*s.items[4].expr), "(z not like 'a!%' escape '!')");
}

TEST(ParserTest, UnsupportedConstructsPointAtTheirToken) {
  EXPECT_EQ(ParseErr("SELECT a FROM t JOIN u ON a = b"),
            "q:1:17: not supported: joins (one table only) (cost sql runs single-table SELECT ... "
            "WHERE ... GROUP BY ... ORDER BY ... LIMIT)\n"
            "  SELECT a FROM t JOIN u ON a = b\n"
            "                  ^");
  EXPECT_NE(ParseErr("WITH x AS (SELECT 1) SELECT * FROM x").find("q:1:1: not supported: WITH"),
            std::string::npos);
  EXPECT_NE(ParseErr("SELECT a FROM t UNION SELECT b FROM t").find("q:1:17: not supported: set"),
            std::string::npos);
  EXPECT_NE(ParseErr("SELECT sum(a) OVER () FROM t").find("q:1:15: not supported: window"),
            std::string::npos);
  EXPECT_NE(
      ParseErr("SELECT a FROM t WHERE a IN (SELECT b FROM t)").find("q:1:29: not supported: subq"),
      std::string::npos);
  EXPECT_NE(ParseErr("SELECT a FROM t WHERE ${date_filter}")
                .find("q:1:23: placeholder ${date_filter} of the CUR Query Library"),
            std::string::npos);
}

TEST(ParserTest, SyntaxErrorsSayWhatWasExpected) {
  EXPECT_NE(ParseErr("SELECT a,\nFROM t").find("q:2:1: expected an expression, found 'FROM'"),
            std::string::npos);
  EXPECT_NE(ParseErr("SELECT a FROM t WHERE (a = 1").find("q:1:29: expected ')', found the end"),
            std::string::npos);
  EXPECT_NE(ParseErr("SELECT a FROM t LIMIT x").find("q:1:23: expected a whole number after LIMIT"),
            std::string::npos);
  EXPECT_NE(ParseErr("SELECT CASE a END FROM t").find("expected WHEN"), std::string::npos);
  EXPECT_NE(ParseErr("SELECT a FROM t extra junk").find("q:1:23: expected the end of the query"),
            std::string::npos);
}

TEST(ParserTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "SELECT " + std::string(5000, '(') + "1" + std::string(5000, ')') + " FROM t";
  EXPECT_FALSE(ParseErr(deep).empty());
  std::string chain = "SELECT 1";
  for (int i = 0; i < 3000; ++i) chain += " + 1";
  EXPECT_NE(ParseErr(chain + " FROM t").find("query too long"), std::string::npos);
}

}  // namespace
}  // namespace sagebox::sql
