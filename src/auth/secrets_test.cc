#include "auth/secrets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/testing/temp_dir.h"

namespace sagebox::auth {
namespace {

TEST(SecretsTest, ParseMasterKeyAcceptsHexAndBase64) {
  std::string key(32, '\0');
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(i * 7 + 250);
  for (const std::string& text :
       {HexEncode(key), Base64Encode(key), Base64UrlEncode(key), "  " + HexEncode(key) + "\n"}) {
    SCOPED_TRACE(text);
    auto parsed = ParseMasterKey(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, key);
  }
}

TEST(SecretsTest, ParseMasterKeyRejectsOtherLengthsAndJunk) {
  for (std::string_view text :
       {"", "abc", "00112233", "not a key at all, not a key at all!!!!!!!!!",
        "zz00000000000000000000000000000000000000000000000000000000000000"}) {
    auto parsed = ParseMasterKey(text);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
  }
  // 31 bytes in base64 is too short.
  EXPECT_FALSE(ParseMasterKey(Base64Encode(std::string(31, 'k'))).ok());
  EXPECT_FALSE(ParseMasterKey(Base64Encode(std::string(33, 'k'))).ok());
}

TEST(SecretsTest, LoadOrCreateMasterKeyCreatesAPrivateFileOnceAndRereadsIt) {
  testing::TempDir dir("auth_key");
  std::string path = dir.Path("master.key");
  auto first = LoadOrCreateMasterKey(Env::Default(), path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), kMasterKeySize);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateMasterKey(Env::Default(), path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  // No temp files are left beside it.
  auto names = Env::Default()->ListDir(dir.path());
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"master.key"});
}

TEST(SecretsTest, LoadOrCreateMasterKeyReadsTextAndRejectsJunk) {
  testing::TempDir dir("auth_key");
  std::string key(32, 'q');
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Path("hex.key"), HexEncode(key) + "\n").ok());
  auto loaded = LoadOrCreateMasterKey(Env::Default(), dir.Path("hex.key"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, key);
  ASSERT_TRUE(Env::Default()->WriteFileAtomic(dir.Path("bad.key"), "short").ok());
  EXPECT_EQ(LoadOrCreateMasterKey(Env::Default(), dir.Path("bad.key")).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(
      LoadOrCreateMasterKey(Env::Default(), dir.Path("no/such/dir/master.key")).status().code(),
      StatusCode::kIoError);
}

TEST(SecretsTest, SealOpensOnlyWithTheSameKeyAndContext) {
  std::string key = RandomBytes(kMasterKeySize);
  auto sealed = SealSecret(key, "access_key:A", "the secret");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("the secret"), std::string::npos);
  auto opened = OpenSecret(key, "access_key:A", *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "the secret");
  EXPECT_EQ(OpenSecret(RandomBytes(kMasterKeySize), "access_key:A", *sealed).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenSecret(key, "access_key:B", *sealed).status().code(), StatusCode::kUnauthenticated);
  std::string altered = *sealed;
  altered.back() = static_cast<char>(altered.back() ^ 1);
  EXPECT_EQ(OpenSecret(key, "access_key:A", altered).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(OpenSecret(key, "access_key:A", "short").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(SealSecret("short key", "c", "x").status().code(), StatusCode::kInvalidArgument);
  // A fresh nonce each time: sealing twice gives different bytes.
  EXPECT_NE(*SealSecret(key, "c", "x"), *SealSecret(key, "c", "x"));
}

TEST(SecretsTest, HelpersAgreeWithKnownValues) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode("\x01\xff"), "01ff");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "abcd"));
  std::string s = RandomString(1000, "AB");
  EXPECT_EQ(s.find_first_not_of("AB"), std::string::npos);
  EXPECT_NE(s.find('A'), std::string::npos);
  EXPECT_NE(s.find('B'), std::string::npos);
}

}  // namespace
}  // namespace sagebox::auth
