#include "auth/request.h"

#include <gtest/gtest.h>

namespace sagebox::auth {
namespace {

TEST(BearerTokenTest, AcceptsTheSchemeInAnyCaseAndSpaces) {
  EXPECT_EQ(BearerToken("Bearer sbx_abc"), "sbx_abc");
  EXPECT_EQ(BearerToken("bearer sbx_abc"), "sbx_abc");
  EXPECT_EQ(BearerToken("BEARER\tsbx_abc"), "sbx_abc");
  EXPECT_EQ(BearerToken("  Bearer    sbx_abc  "), "sbx_abc");
  EXPECT_EQ(BearerToken("Bearer a-b.c_d~e+f/g=="), "a-b.c_d~e+f/g==");
}

TEST(BearerTokenTest, RejectsEverythingElse) {
  EXPECT_EQ(BearerToken(""), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer    "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearersbx_abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(BearerToken("AWS4-HMAC-SHA256 Credential=AK/x"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer two tokens"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer tok,en"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer =abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer ab=c"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer \"quoted\""), std::nullopt);
}

TEST(SessionCookieTest, FindsTheSessionAmongOtherCookies) {
  EXPECT_EQ(SessionIdFromCookie("sagebox_session=abc"), "abc");
  EXPECT_EQ(SessionIdFromCookie("theme=dark; sagebox_session=abc; lang=en"), "abc");
  EXPECT_EQ(SessionIdFromCookie("theme=dark;sagebox_session=abc"), "abc");
  EXPECT_EQ(SessionIdFromCookie("  sagebox_session = abc  ;"), "abc");
  EXPECT_EQ(SessionIdFromCookie("sagebox_session=\"abc\""), "abc");
  // Two cookies of that name (two paths): the first non-empty one.
  EXPECT_EQ(SessionIdFromCookie("sagebox_session=; sagebox_session=def"), "def");
  EXPECT_EQ(SessionIdFromCookie("sagebox_session=abc; sagebox_session=def"), "abc");
}

TEST(SessionCookieTest, AbsentOrEmptyIsNullopt) {
  EXPECT_EQ(SessionIdFromCookie(""), std::nullopt);
  EXPECT_EQ(SessionIdFromCookie(";;"), std::nullopt);
  EXPECT_EQ(SessionIdFromCookie("sagebox_session="), std::nullopt);
  EXPECT_EQ(SessionIdFromCookie("sagebox_session=\"\""), std::nullopt);
  EXPECT_EQ(SessionIdFromCookie("sagebox_session"), std::nullopt);
  // Names are exact: neither a prefix, a suffix nor another case is the session.
  EXPECT_EQ(SessionIdFromCookie("sagebox_session_old=abc"), std::nullopt);
  EXPECT_EQ(SessionIdFromCookie("x_sagebox_session=abc"), std::nullopt);
  EXPECT_EQ(SessionIdFromCookie("Sagebox_Session=abc"), std::nullopt);
}

TEST(SessionCookieTest, SetCookieValues) {
  EXPECT_EQ(SessionCookie("abc", 3600, false),
            "sagebox_session=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionCookie("abc", 60, true),
            "sagebox_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(ClearSessionCookie(false),
            "sagebox_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  // What the server sets, the browser sends back as "name=value" and the parser reads.
  std::string set = SessionCookie("id-123_x", 60, true);
  EXPECT_EQ(SessionIdFromCookie(set.substr(0, set.find(';'))), "id-123_x");
}

}  // namespace
}  // namespace sagebox::auth
