#include "http/credentials.h"

#include <gtest/gtest.h>

#include <string>

#include "core/testing/temp_dir.h"

namespace sagebox::http {
namespace {

Credentials ParseOk(const std::string& text) {
  auto c = ParseCredentials(text, "creds");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : Credentials{};
}

// The message of the BadInput error `text` gives.
std::string ParseError(const std::string& text) {
  auto c = ParseCredentials(text, "creds");
  EXPECT_FALSE(c.ok());
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), StatusCode::kBadInput) << c.status().ToString();
  return c.status().message();
}

TEST(Credentials, ReadsEverySectionWithBothKeysAndTheToken) {
  const Credentials c = ParseOk(
      "[default]\n"
      "aws_access_key_id = AKIDEFAULT\n"
      "aws_secret_access_key = secret/default+1\n"
      "region = us-east-1\n"
      "\n"
      "[ci]\n"
      "aws_access_key_id = AKICI\n"
      "aws_secret_access_key = secret-ci\n"
      "sagebox_dashboard_token = tok-123\n"
      "[profile-without-keys]\n"
      "region = eu-west-1\n");
  EXPECT_FALSE(c.empty());
  ASSERT_EQ(c.secret_by_access_key.size(), 2u);
  EXPECT_EQ(c.secret_by_access_key.at("AKIDEFAULT"), "secret/default+1");
  EXPECT_EQ(c.secret_by_access_key.at("AKICI"), "secret-ci");
  EXPECT_EQ(c.dashboard_token, "tok-123");
}

TEST(Credentials, AcceptsTheSyntaxTheAwsCliAccepts) {
  // No spaces, many spaces, ':' as delimiter, names in upper case, tabs,
  // comments with '#' and ';' (also indented), CRLF, a BOM, an empty file end.
  const Credentials c = ParseOk(
      "\xEF\xBB\xBF# my keys\r\n"
      "; another comment\r\n"
      "[a]\r\n"
      "aws_access_key_id=AK1\r\n"
      "aws_secret_access_key    =    S1   \r\n"
      "  # indented comment\r\n"
      "[ b ]\n"
      "AWS_ACCESS_KEY_ID: AK2\n"
      "Aws_Secret_Access_Key\t=\tS2#not-a-comment\n"
      "[token-only]\n"
      "sagebox_dashboard_token=t\n");
  EXPECT_EQ(c.secret_by_access_key.size(), 2u);
  EXPECT_EQ(c.secret_by_access_key.at("AK1"), "S1");
  // Python's RawConfigParser has no inline comments: '#' belongs to the value.
  EXPECT_EQ(c.secret_by_access_key.at("AK2"), "S2#not-a-comment");
  EXPECT_EQ(c.dashboard_token, "t");
}

TEST(Credentials, IgnoresNestedSubSettings) {
  const Credentials c = ParseOk(
      "[default]\n"
      "aws_access_key_id = AK\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "  addressing_style = path\n"
      "aws_secret_access_key = S\n");
  EXPECT_EQ(c.secret_by_access_key.at("AK"), "S");
  EXPECT_TRUE(c.dashboard_token.empty());
}

TEST(Credentials, SameKeyTwiceWithTheSameSecretIsFine) {
  const Credentials c = ParseOk(
      "[default]\naws_access_key_id = AK\naws_secret_access_key = S\n"
      "[copy]\naws_access_key_id = AK\naws_secret_access_key = S\n");
  EXPECT_EQ(c.secret_by_access_key.size(), 1u);
}

TEST(Credentials, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(ParseError("[default]\naws_access_key_id = AK\n  \nnonsense\n"),
            "creds:4:1: expected 'name = value' or a '[section]' header");
  EXPECT_EQ(ParseError("aws_access_key_id = AK\n"),
            "creds:1:1: expected a '[section]' header (e.g. [default]) before the first setting");
  EXPECT_EQ(ParseError("[default]\n  aws_access_key_id = AK\naws_secret_access_key = S\n[x\n"),
            "creds:4:1: expected a section header '[name]'");
  EXPECT_EQ(ParseError("[]\n"), "creds:1:1: empty section name '[]'");
  EXPECT_EQ(ParseError("[default]\n = v\n"), "creds:2:2: expected an option name before '='");
}

TEST(Credentials, SectionWithOnlyOneKeyIsAnError) {
  EXPECT_EQ(ParseError("[ok]\naws_access_key_id = A\naws_secret_access_key = S\n"
                       "[half]\nregion = x\naws_access_key_id = B\n"),
            "creds:6:1: section [half] has aws_access_key_id but no aws_secret_access_key");
  EXPECT_EQ(ParseError("[half]\naws_secret_access_key = S\n[ok]\naws_access_key_id = A\n"
                       "aws_secret_access_key = S\n"),
            "creds:2:1: section [half] has aws_secret_access_key but no aws_access_key_id");
}

TEST(Credentials, EmptyValuesAreErrors) {
  EXPECT_EQ(ParseError("[d]\naws_access_key_id =\naws_secret_access_key = S\n"),
            "creds:2:20: empty value in section [d]");
  EXPECT_EQ(ParseError("[d]\naws_access_key_id = A\naws_secret_access_key = S\n"
                       "sagebox_dashboard_token =   \n"),
            "creds:4:26: empty sagebox_dashboard_token");
}

TEST(Credentials, DuplicatesAreErrors) {
  EXPECT_EQ(ParseError("[d]\naws_access_key_id = A\naws_secret_access_key = S\n[d]\n"),
            "creds:4:1: duplicate section [d]");
  EXPECT_EQ(ParseError("[d]\naws_access_key_id = A\nAWS_ACCESS_KEY_ID = B\n"),
            "creds:3:1: duplicate option 'aws_access_key_id' in section [d]");
  EXPECT_EQ(ParseError("[a]\naws_access_key_id = A\naws_secret_access_key = S\n"
                       "sagebox_dashboard_token = t1\n"
                       "[b]\nsagebox_dashboard_token = t2\n"),
            "creds:6:1: a second sagebox_dashboard_token (the first is on line 4)");
  EXPECT_EQ(ParseError("[a]\naws_access_key_id = A\naws_secret_access_key = S\n"
                       "[b]\naws_access_key_id = A\naws_secret_access_key = OTHER\n"),
            "creds:5:21: access key A appears again with a different aws_secret_access_key");
}

TEST(Credentials, ContinuationLinesAreRejected) {
  EXPECT_EQ(ParseError("[d]\naws_access_key_id = A\n  B\naws_secret_access_key = S\n"),
            "creds:3:3: an indented line continues the value of 'aws_access_key_id'; write the "
            "value on one line");
}

TEST(Credentials, NoKeyPairAtAllIsAnError) {
  const std::string expected =
      "creds:1:1: expected at least one [section] with both aws_access_key_id and "
      "aws_secret_access_key (an AWS shared-credentials file)";
  EXPECT_EQ(ParseError(""), expected);
  EXPECT_EQ(ParseError("# nothing\n\n"), expected);
  EXPECT_EQ(ParseError("[d]\nsagebox_dashboard_token = t\nregion = us-east-1\n"), expected);
}

TEST(Credentials, LoadReadsThroughEnv) {
  sagebox::testing::TempDir dir("creds");
  const std::string path = dir.Path("credentials");
  ASSERT_TRUE(Env::Default()
                  ->WriteFileAtomic(path,
                                    "[default]\naws_access_key_id = AK\n"
                                    "aws_secret_access_key = S\n")
                  .ok());
  auto c = LoadCredentials(Env::Default(), path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->secret_by_access_key.at("AK"), "S");

  auto missing = LoadCredentials(Env::Default(), dir.Path("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  EXPECT_NE(missing.status().message().find(dir.Path("nope")), std::string::npos);

  ASSERT_TRUE(Env::Default()->WriteFileAtomic(path, "[default]\nbroken\n").ok());
  auto bad = LoadCredentials(Env::Default(), path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(path + ":2:1: ", 0), 0u) << bad.status().message();
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  // "ab" vs "ab\0": the padding byte must not make them equal.
  EXPECT_FALSE(ConstantTimeEquals("ab", std::string("ab\0", 3)));
}

}  // namespace
}  // namespace sagebox::http
