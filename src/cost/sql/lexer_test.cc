#include "cost/sql/lexer.h"

#include <gtest/gtest.h>

#include "cost/sql/parser.h"

namespace sagebox::sql {
namespace {

std::vector<Token> LexOk(std::string_view text) {
  Source src{"q", text};
  auto r = Lex(src);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : std::vector<Token>{};
}

TEST(LexerTest, TokensCarryLineAndColumn) {
  auto t = LexOk("SELECT a,\n  'it''s' -- comment\n  /* block\n */ \"Quoted \"\"x\"\"\" >= 1.5e3");
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[0].text, "SELECT");
  EXPECT_EQ(t[2].kind, Tok::kSymbol);
  EXPECT_EQ(t[3].kind, Tok::kString);
  EXPECT_EQ(t[3].text, "it's");
  EXPECT_EQ(t[3].line, 2);
  EXPECT_EQ(t[3].col, 3);
  EXPECT_EQ(t[4].kind, Tok::kQuotedIdent);
  EXPECT_EQ(t[4].text, "Quoted \"x\"");
  EXPECT_EQ(t[4].line, 4);
  EXPECT_EQ(t[5].text, ">=");
  EXPECT_EQ(t[6].kind, Tok::kNumber);
  EXPECT_EQ(t[6].text, "1.5e3");
  EXPECT_EQ(t[7].kind, Tok::kEnd);
}

TEST(LexerTest, TablePlaceholdersAreOneToken) {
  auto t = LexOk("FROM {$table_name} ${table_name}");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[1].kind, Tok::kPlaceholder);
  EXPECT_EQ(t[1].text, "table_name");
  EXPECT_EQ(t[1].raw, "{$table_name}");
  EXPECT_EQ(t[2].kind, Tok::kPlaceholder);
  EXPECT_EQ(t[2].raw, "${table_name}");
}

TEST(LexerTest, ErrorsPointAtTheToken) {
  Source src{"q.sql", "SELECT a\nFROM t WHERE x = 'open"};
  auto r = Lex(src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kBadInput);
  EXPECT_EQ(r.status().message(),
            "q.sql:2:18: unterminated string (expected a closing ')\n"
            "  FROM t WHERE x = 'open\n"
            "                   ^");
  Source bad{"q", "SELECT a # b"};
  auto r2 = Lex(bad);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("q:1:10: unexpected character '#'"), std::string::npos);
  Source com{"q", "SELECT /* never closed"};
  EXPECT_FALSE(Lex(com).ok());
}

}  // namespace
}  // namespace sagebox::sql
