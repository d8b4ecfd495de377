#include "http/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/time.h"

namespace sagebox::http {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << p;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TestData() { return SAGEBOX_TESTDATA "/sigv4"; }

std::vector<std::string> SplitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (const char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=a;b, Signature=..." -> {a, b}.
std::vector<std::string> SignedHeadersOf(const std::string& authz) {
  const size_t start = authz.find("SignedHeaders=") + 14;
  return SplitOn(authz.substr(start, authz.find(',', start) - start), ';');
}

// A .req file of the suite: "METHOD URI HTTP/1.1", "Name:value" lines, blank line, body.
SigV4Request ParseSuiteRequest(const std::string& text) {
  SigV4Request r;
  const size_t blank = text.find("\n\n");
  const std::string head = text.substr(0, blank);
  if (blank != std::string::npos) r.body = text.substr(blank + 2);
  std::vector<std::string> lines = SplitOn(head, '\n');
  const std::string& first = lines[0];
  r.method = first.substr(0, first.find(' '));
  const size_t uri_start = r.method.size() + 1;
  r.target = first.substr(uri_start, first.rfind(" HTTP/") - uri_start);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    r.headers.emplace_back(lines[i].substr(0, colon), lines[i].substr(colon + 1));
  }
  return r;
}

struct SuiteCase {
  std::string name;
  SigV4Request req;
  std::string creq, sts, authz;
};

std::vector<SuiteCase> LoadSuite() {
  std::vector<SuiteCase> out;
  for (const auto& e : fs::recursive_directory_iterator(TestData() + "/aws-sig-v4-test-suite")) {
    if (e.path().extension() != ".req") continue;
    fs::path base = e.path();
    base.replace_extension();
    SuiteCase c;
    c.name = base.filename().string();
    c.req = ParseSuiteRequest(ReadFile(e.path()));
    c.creq = ReadFile(base.string() + ".creq");
    c.sts = ReadFile(base.string() + ".sts");
    c.authz = ReadFile(base.string() + ".authz");
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const SuiteCase& a, const SuiteCase& b) { return a.name < b.name; });
  return out;
}

constexpr char kSuiteKey[] = "AKIDEXAMPLE";
constexpr char kSuiteSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

UnixSeconds SuiteTime() { return *ParseTimestamp("2015-08-30T12:36:00Z"); }

Credentials SuiteCreds() {
  Credentials c;
  c.secret_by_access_key[kSuiteKey] = kSuiteSecret;
  return c;
}

SigV4Options SuiteOptions() {
  SigV4Options o;
  o.service = "service";
  return o;
}

std::string Describe(const std::optional<AuthFailure>& f) {
  if (!f) return "accepted";
  return std::to_string(f->http_status) + " " + f->aws_type + ": " + f->message;
}

TEST(SigV4Suite, HasTheVectors) { EXPECT_EQ(LoadSuite().size(), 25u); }

TEST(SigV4Suite, CanonicalRequestStringToSignAndAuthorizationMatch) {
  for (const SuiteCase& c : LoadSuite()) {
    SCOPED_TRACE(c.name);
    const std::string creq = CanonicalRequest(c.req, SignedHeadersOf(c.authz));
    EXPECT_EQ(creq, c.creq);
    const std::string sts =
        StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", creq);
    EXPECT_EQ(sts, c.sts);
    const std::string sig = SignatureHex(kSuiteSecret, "20150830", "us-east-1", "service", sts);
    const std::string signed_headers =
        c.authz.substr(c.authz.find("SignedHeaders="),
                       c.authz.find(", Signature") - c.authz.find("SignedHeaders="));
    EXPECT_EQ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
                  signed_headers + ", Signature=" + sig,
              c.authz);
  }
}

// Every single-byte change to a signed header value, the body or the
// signature must be rejected; the untouched request must be accepted.
TEST(SigV4Suite, VerifyAcceptsTheRequestAndRejectsAnyOneByteChange) {
  const Credentials creds = SuiteCreds();
  const SigV4Options opt = SuiteOptions();
  int rejected = 0;
  for (const SuiteCase& c : LoadSuite()) {
    SCOPED_TRACE(c.name);
    SigV4Request req = c.req;
    req.headers.emplace_back("Authorization", c.authz);
    EXPECT_EQ(Describe(VerifySigV4(req, creds, SuiteTime(), opt)), "accepted");

    for (size_t h = 0; h < req.headers.size(); ++h) {
      for (size_t i = 0; i < req.headers[h].second.size(); ++i) {
        SigV4Request t = req;
        t.headers[h].second[i] = static_cast<char>(t.headers[h].second[i] ^ 1);
        const bool is_signature =
            h + 1 == req.headers.size() && i >= t.headers[h].second.size() - 64;
        const bool is_auth = h + 1 == req.headers.size();
        if (is_auth && !is_signature) continue;  // the scope and names: other tests
        const auto f = VerifySigV4(t, creds, SuiteTime(), opt);
        EXPECT_TRUE(f.has_value()) << "header " << req.headers[h].first << " byte " << i;
        rejected += f.has_value();
        if (is_signature && f) {
          EXPECT_EQ(f->aws_type, "InvalidSignatureException");
        }
      }
    }
    for (size_t i = 0; i < req.body.size(); ++i) {
      SigV4Request t = req;
      t.body[i] = static_cast<char>(t.body[i] ^ 1);
      const auto f = VerifySigV4(t, creds, SuiteTime(), opt);
      ASSERT_TRUE(f.has_value()) << "body byte " << i;
      EXPECT_EQ(f->aws_type, "InvalidSignatureException");
      ++rejected;
    }
    SigV4Request appended = req;
    appended.body += "x";
    EXPECT_TRUE(VerifySigV4(appended, creds, SuiteTime(), opt).has_value());
  }
  EXPECT_GT(rejected, 2000);
}

TEST(SigV4Suite, HeaderNameCaseAndAuthorizationSpacingDoNotMatter) {
  for (const SuiteCase& c : LoadSuite()) {
    SCOPED_TRACE(c.name);
    SigV4Request req = c.req;
    for (auto& [name, value] : req.headers) {
      std::transform(name.begin(), name.end(), name.begin(),
                     [](char ch) { return static_cast<char>(std::toupper(ch)); });
    }
    req.headers.emplace_back("authorization", "  " + c.authz + " ");
    EXPECT_EQ(Describe(VerifySigV4(req, SuiteCreds(), SuiteTime(), SuiteOptions())), "accepted");
  }
}

// ---------------------------------------------------------------------------
// Requests botocore signed (tests/data/sigv4/botocore_sign.py).

struct BotocoreCase {
  std::string name;
  SigV4Request req;
  std::string access_key, secret_key;
  UnixSeconds signed_at = 0;
};

std::vector<BotocoreCase> LoadBotocore() {
  std::vector<BotocoreCase> out;
  for (const auto& e : fs::directory_iterator(TestData() + "/botocore")) {
    if (e.path().extension() != ".json") continue;
    const auto j = nlohmann::json::parse(ReadFile(e.path()), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << e.path();
    if (j.is_discarded()) continue;
    BotocoreCase c;
    c.name = e.path().stem().string();
    c.req.method = j.at("method").get<std::string>();
    c.req.target = j.at("target").get<std::string>();
    for (const auto& h : j.at("headers")) {
      c.req.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
    }
    c.req.body = j.at("body").get<std::string>();
    c.access_key = j.at("access_key").get<std::string>();
    c.secret_key = j.at("secret_key").get<std::string>();
    c.signed_at = j.at("signed_at_unix").get<int64_t>();
    EXPECT_EQ(ParseTimestamp(j.at("signed_at").get<std::string>()), c.signed_at);
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const BotocoreCase& a, const BotocoreCase& b) { return a.name < b.name; });
  return out;
}

Credentials CredsFor(const BotocoreCase& c, const std::string& secret) {
  Credentials creds;
  creds.secret_by_access_key[c.access_key] = secret;
  creds.secret_by_access_key["AKIAOTHERKEY00000000"] = "other-secret";
  return creds;
}

TEST(SigV4Botocore, AcceptsAtTheSigningTimeAndWithinFifteenMinutes) {
  const auto cases = LoadBotocore();
  ASSERT_EQ(cases.size(), 4u);
  for (const BotocoreCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Credentials creds = CredsFor(c, c.secret_key);
    EXPECT_EQ(Describe(VerifySigV4(c.req, creds, c.signed_at)), "accepted");
    EXPECT_EQ(Describe(VerifySigV4(c.req, creds, c.signed_at + 900)), "accepted");
    EXPECT_EQ(Describe(VerifySigV4(c.req, creds, c.signed_at - 900)), "accepted");
  }
}

TEST(SigV4Botocore, RejectsWrongSecretUnknownKeyTamperedBodyAndLateRequests) {
  for (const BotocoreCase& c : LoadBotocore()) {
    SCOPED_TRACE(c.name);
    const Credentials creds = CredsFor(c, c.secret_key);

    std::string wrong = c.secret_key;
    wrong.back() = static_cast<char>(wrong.back() ^ 1);
    auto f = VerifySigV4(c.req, CredsFor(c, wrong), c.signed_at);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->http_status, 400);
    EXPECT_EQ(f->aws_type, "InvalidSignatureException");
    EXPECT_EQ(f->message.rfind("The request signature we calculated does not match", 0), 0u);

    Credentials other;
    other.secret_by_access_key["AKIAOTHERKEY00000000"] = c.secret_key;
    f = VerifySigV4(c.req, other, c.signed_at);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->http_status, 400);
    EXPECT_EQ(f->aws_type, "UnrecognizedClientException");
    EXPECT_EQ(f->message, "The security token included in the request is invalid.");

    SigV4Request tampered = c.req;
    const size_t digit = tampered.body.find_first_of("0123456789");
    ASSERT_NE(digit, std::string::npos);
    tampered.body[digit] = tampered.body[digit] == '9' ? '8' : '9';  // another date, still JSON
    f = VerifySigV4(tampered, creds, c.signed_at);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->aws_type, "InvalidSignatureException");

    SigV4Request retargeted = c.req;
    for (auto& [name, value] : retargeted.headers) {
      if (name == "X-Amz-Target") value = "AWSInsightsIndexService.GetDimensionValues";
    }
    EXPECT_TRUE(VerifySigV4(retargeted, creds, c.signed_at).has_value());

    f = VerifySigV4(c.req, creds, c.signed_at + 16 * 60);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->http_status, 400);
    EXPECT_EQ(f->aws_type, "InvalidSignatureException");
    EXPECT_EQ(f->message.rfind("Signature expired: ", 0), 0u) << f->message;

    f = VerifySigV4(c.req, creds, c.signed_at - 16 * 60);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->message.rfind("Signature not yet current: ", 0), 0u) << f->message;
  }
}

TEST(SigV4Botocore, UnsignedHeadersMayChange) {
  // botocore does not sign User-Agent or amz-sdk-*; proxies may rewrite them.
  for (const BotocoreCase& c : LoadBotocore()) {
    SCOPED_TRACE(c.name);
    SigV4Request req = c.req;
    for (auto& [name, value] : req.headers) {
      if (name == "User-Agent") value = "something else";
    }
    req.headers.emplace_back("X-Forwarded-For", "10.0.0.1");
    EXPECT_EQ(Describe(VerifySigV4(req, CredsFor(c, c.secret_key), c.signed_at)), "accepted");
  }
}

TEST(SigV4Botocore, TheOperationHeaderMustBeSignedWhenRequired) {
  SigV4Options must;
  must.must_sign = {"x-amz-target"};
  for (const BotocoreCase& c : LoadBotocore()) {
    SCOPED_TRACE(c.name);
    // botocore signs X-Amz-Target: accepted with the requirement.
    EXPECT_EQ(Describe(VerifySigV4(c.req, CredsFor(c, c.secret_key), c.signed_at, must)),
              "accepted");
  }
  // A suite request (validly signed, but without X-Amz-Target) is refused once it is
  // required, and accepted without the requirement.
  int found = 0;
  for (const SuiteCase& v : LoadSuite()) {
    if (v.name != "post-vanilla") continue;
    ++found;
    SigV4Request req = v.req;
    req.headers.emplace_back("Authorization", v.authz);
    EXPECT_EQ(Describe(VerifySigV4(req, SuiteCreds(), SuiteTime(), SuiteOptions())), "accepted");
    SigV4Options o = SuiteOptions();
    o.must_sign = {"x-amz-target"};
    auto f = VerifySigV4(req, SuiteCreds(), SuiteTime(), o);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->aws_type, "IncompleteSignatureException");
    EXPECT_NE(f->message.find("x-amz-target"), std::string::npos);
  }
  EXPECT_EQ(found, 1);
}

TEST(SigV4Botocore, ExpiredMessageHasAwsShape) {
  const auto cases = LoadBotocore();
  const auto it = std::find_if(cases.begin(), cases.end(), [](const BotocoreCase& c) {
    return c.name == "get-cost-and-usage-monthly";
  });
  ASSERT_NE(it, cases.end());
  const auto f = VerifySigV4(it->req, CredsFor(*it, it->secret_key), it->signed_at + 16 * 60);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->message,
            "Signature expired: 20250301T101500Z is now earlier than 20250301T101600Z "
            "(20250301T103100Z - 15 min.)");
}

// ---------------------------------------------------------------------------
// Pieces and malformed input.

TEST(SigV4Pieces, HashesMatchKnownValues) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  const std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
  ASSERT_EQ(mac.size(), 32u);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (const char ch : mac) {
    const auto b = static_cast<unsigned char>(ch);
    hex += kDigits[b >> 4];
    hex += kDigits[b & 15];
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

std::string CanonicalPathAndQuery(const std::string& target) {
  SigV4Request r{"GET", target, {}, ""};
  const std::string creq = CanonicalRequest(r, {});
  const std::vector<std::string> lines = SplitOn(creq, '\n');
  return lines[1] + " " + lines[2];
}

TEST(SigV4Pieces, CanonicalPathAndQuery) {
  EXPECT_EQ(CanonicalPathAndQuery(""), "/ ");
  EXPECT_EQ(CanonicalPathAndQuery("?b=2&a=1"), "/ a=1&b=2");
  EXPECT_EQ(CanonicalPathAndQuery("/a/./b/../c//d/"), "/a/c/d/ ");
  EXPECT_EQ(CanonicalPathAndQuery("/../.."), "/ ");
  // The path as sent is encoded once more (what botocore signs for "/a%20b").
  EXPECT_EQ(CanonicalPathAndQuery("/a%20b"), "/a%2520b ");
  // Query parameters are decoded and re-encoded, so %7E and ~ agree, and a
  // name without '=' gets an empty value.
  EXPECT_EQ(CanonicalPathAndQuery("/?x=%7e&flag&a=b%20c"), "/ a=b%20c&flag=&x=~");
  EXPECT_EQ(CanonicalPathAndQuery("/?a=1+1&b=%zz&c=%4"), "/ a=1%2B1&b=%25zz&c=%254");
  EXPECT_EQ(CanonicalPathAndQuery("/?&&a=1&"), "/ a=1");
}

// A request signed with our own pieces (the suite proved them) for the
// malformed-input tests below.
struct Signed {
  SigV4Request req;
  Credentials creds;
  UnixSeconds now = 0;
};

Signed MakeSigned(const std::string& amz_date = "20250301T101500Z",
                  const std::string& service = "ce", const std::string& scope_date = "",
                  const std::vector<std::string>& signed_headers = {"content-type", "host",
                                                                    "x-amz-date"}) {
  Signed s;
  s.req.method = "POST";
  s.req.target = "/";
  s.req.body = R"({"Granularity":"MONTHLY"})";
  s.req.headers = {{"Host", "127.0.0.1:8080"},
                   {"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Date", amz_date}};
  const std::string date = scope_date.empty() ? amz_date.substr(0, 8) : scope_date;
  const std::string scope = date + "/us-west-2/" + service + "/aws4_request";
  const std::string sig =
      SignatureHex("secret", date, "us-west-2", service,
                   StringToSign(amz_date, scope, CanonicalRequest(s.req, signed_headers)));
  std::string names;
  for (const auto& n : signed_headers) names += (names.empty() ? "" : ";") + n;
  s.req.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/" + scope +
                                                  ", SignedHeaders=" + names +
                                                  ", Signature=" + sig);
  s.creds.secret_by_access_key["AKID"] = "secret";
  s.now = *ParseTimestamp("2025-03-01T10:15:00Z");
  return s;
}

std::string SetAuth(Signed* s, const std::string& value) {
  s->req.headers.back().second = value;
  return Describe(VerifySigV4(s->req, s->creds, s->now));
}

TEST(SigV4Verify, AcceptsAnyRegion) {
  Signed s = MakeSigned();
  EXPECT_EQ(Describe(VerifySigV4(s.req, s.creds, s.now)), "accepted");
}

TEST(SigV4Verify, MissingAuthorization) {
  Signed s = MakeSigned();
  s.req.headers.pop_back();
  EXPECT_EQ(Describe(VerifySigV4(s.req, s.creds, s.now)),
            "403 MissingAuthenticationTokenException: Missing Authentication Token");
}

TEST(SigV4Verify, MalformedAuthorizationIsIncomplete) {
  for (const std::string bad : {
           "",
           "AWS4-HMAC-SHA256",
           "AWS4-HMAC-SHA256 ",
           "Bearer abc",
           "AWS4-HMAC-SHA256X Credential=AKID/20250301/us-west-2/ce/aws4_request",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request, "
           "SignedHeaders=host;x-amz-date",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request, "
           "SignedHeaders=host;x-amz-date, Signature=",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request, "
           "Credential=AKID/20250301/us-west-2/ce/aws4_request, SignedHeaders=host;x-amz-date, "
           "Signature=00",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301/ce/aws4_request, "
           "SignedHeaders=host;x-amz-date, Signature=00",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301//ce/aws4_request, "
           "SignedHeaders=host;x-amz-date, Signature=00",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request, "
           "SignedHeaders=host;;x-amz-date, Signature=00",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request, "
           "SignedHeaders=x-amz-date, Signature=00",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request, "
           "SignedHeaders=host, Signature=00",
           "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request, "
           "SignedHeaders=host;x-amz-date, Signature=00, Extra=1",
       }) {
    SCOPED_TRACE(bad);
    Signed s = MakeSigned();
    EXPECT_EQ(SetAuth(&s, bad).rfind("400 IncompleteSignatureException: ", 0), 0u)
        << SetAuth(&s, bad);
  }
}

TEST(SigV4Verify, IncompleteNamesWhatIsMissing) {
  Signed s = MakeSigned();
  EXPECT_EQ(SetAuth(&s, "AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request"),
            "400 IncompleteSignatureException: Authorization header requires 'Signature' "
            "parameter. Authorization header requires 'SignedHeaders' parameter. "
            "Authorization=AWS4-HMAC-SHA256 Credential=AKID/20250301/us-west-2/ce/aws4_request");
}

TEST(SigV4Verify, TwoAuthorizationHeaders) {
  Signed s = MakeSigned();
  s.req.headers.push_back(s.req.headers.back());
  EXPECT_EQ(Describe(VerifySigV4(s.req, s.creds, s.now)),
            "400 IncompleteSignatureException: The request has more than one Authorization "
            "header.");
}

TEST(SigV4Verify, XAmzDateMissingOrMalformed) {
  for (const std::string bad : {"", "2025-03-01T10:15:00Z", "20250229T101500Z", "20250301T241500Z",
                                "20250301T101500", "2025030IT101500Z", " 20250301T101500Z+"}) {
    SCOPED_TRACE(bad);
    Signed s = MakeSigned();
    s.req.headers[2].second = bad;
    const auto f = VerifySigV4(s.req, s.creds, s.now);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->aws_type, "IncompleteSignatureException") << f->message;
  }
  Signed s = MakeSigned();
  s.req.headers.erase(s.req.headers.begin() + 2);
  const auto f = VerifySigV4(s.req, s.creds, s.now);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->aws_type, "IncompleteSignatureException");
  EXPECT_EQ(
      f->message.rfind("Authorization header requires existence of a 'X-Amz-Date' header.", 0), 0u);
}

TEST(SigV4Verify, ScopeDateServiceAndTerminator) {
  Signed s = MakeSigned("20250301T101500Z", "ce", "20250302");
  EXPECT_EQ(Describe(VerifySigV4(s.req, s.creds, s.now)),
            "400 InvalidSignatureException: Date in Credential scope does not match YYYYMMDD "
            "from ISO-8601 version of date from HTTP: '20250302' != '20250301', from "
            "'X-Amz-Date'.");
  s = MakeSigned("20250301T101500Z", "s3");
  EXPECT_EQ(Describe(VerifySigV4(s.req, s.creds, s.now)),
            "400 InvalidSignatureException: Credential should be scoped to correct service: "
            "'ce'. ");
  s = MakeSigned();
  std::string auth = s.req.headers.back().second;
  auth.replace(auth.find("aws4_request"), 12, "aws5_request");
  EXPECT_EQ(SetAuth(&s, auth),
            "400 InvalidSignatureException: Credential should be scoped with a valid "
            "terminator: 'aws4_request', not 'aws5_request'.");
}

TEST(SigV4Verify, SkewBoundaries) {
  Signed s = MakeSigned();
  EXPECT_FALSE(VerifySigV4(s.req, s.creds, s.now + 900));
  EXPECT_FALSE(VerifySigV4(s.req, s.creds, s.now - 900));
  EXPECT_TRUE(VerifySigV4(s.req, s.creds, s.now + 901));
  EXPECT_EQ(Describe(VerifySigV4(s.req, s.creds, s.now - 901)),
            "400 InvalidSignatureException: Signature not yet current: 20250301T101500Z is "
            "still later than 20250301T101459Z (20250301T095959Z + 15 min.)");
  SigV4Options strict;
  strict.max_skew_seconds = 60;
  EXPECT_FALSE(VerifySigV4(s.req, s.creds, s.now + 60, strict));
  EXPECT_TRUE(VerifySigV4(s.req, s.creds, s.now + 61, strict));
}

TEST(SigV4Verify, ContentSha256MustMatchTheBody) {
  Signed s = MakeSigned();
  s.req.headers.emplace_back("X-Amz-Content-Sha256", Sha256Hex(s.req.body));
  EXPECT_EQ(Describe(VerifySigV4(s.req, s.creds, s.now)), "accepted");  // not signed, but right
  s.req.headers.back().second = Sha256Hex("other");
  EXPECT_EQ(Describe(VerifySigV4(s.req, s.creds, s.now)),
            "400 InvalidSignatureException: The provided 'x-amz-content-sha256' header does not "
            "match what was computed.");
  s.req.headers.back().second = "UNSIGNED-PAYLOAD";
  EXPECT_TRUE(VerifySigV4(s.req, s.creds, s.now));

  // Signed over x-amz-content-sha256, as some SDKs do.
  Signed t = MakeSigned("20250301T101500Z", "ce", "",
                        {"content-type", "host", "x-amz-content-sha256", "x-amz-date"});
  EXPECT_EQ(Describe(VerifySigV4(t.req, t.creds, t.now)),
            "400 InvalidSignatureException: The request is missing the signed header "
            "'x-amz-content-sha256'.");
  t.req.headers.insert(t.req.headers.begin(), {"x-amz-content-sha256", ""});
  EXPECT_TRUE(VerifySigV4(t.req, t.creds, t.now));  // present now, but not the body's hash
}

TEST(SigV4Verify, SignatureMustBeExact) {
  Signed s = MakeSigned();
  std::string auth = s.req.headers.back().second;
  for (const std::string& changed : {auth + "0", auth.substr(0, auth.size() - 1),
                                     auth.substr(0, auth.size() - 64) + std::string(64, '0')}) {
    const auto f = VerifySigV4(
        [&] {
          SigV4Request r = s.req;
          r.headers.back().second = changed;
          return r;
        }(),
        s.creds, s.now);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->aws_type, "InvalidSignatureException");
  }
  // Upper-case hex is not what AWS signers send; it does not match.
  std::string upper = auth;
  for (size_t i = upper.size() - 64; i < upper.size(); ++i) {
    upper[i] = static_cast<char>(std::toupper(upper[i]));
  }
  if (upper != auth) {
    SigV4Request r = s.req;
    r.headers.back().second = upper;
    EXPECT_TRUE(VerifySigV4(r, s.creds, s.now));
  }
}

TEST(SigV4Verify, ChangedMethodPathOrQueryIsRejected) {
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"PUT", "/"}, {"POST", "/x"}, {"POST", "/?a=1"}, {"post", "/"}}) {
    Signed s = MakeSigned();
    s.req.method = method;
    s.req.target = target;
    EXPECT_TRUE(VerifySigV4(s.req, s.creds, s.now)) << method << " " << target;
  }
}

TEST(SigV4Verify, EmptyCredentialsAcceptNothing) {
  Signed s = MakeSigned();
  EXPECT_EQ(Describe(VerifySigV4(s.req, Credentials{}, s.now)),
            "400 UnrecognizedClientException: The security token included in the request is "
            "invalid.");
}

// ---------------------------------------------------------------------------
// Signing: the signer must reproduce the suite's and botocore's Authorization
// headers exactly, and the verifier must accept what it signs.

// The request without the headers SignSigV4 adds itself.
SigV4Request Unsigned(const SigV4Request& req, std::string* token) {
  SigV4Request out = req;
  out.headers.clear();
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char ch) { return static_cast<char>(std::tolower(ch)); });
    if (lower == "x-amz-security-token") {
      *token = value;
    } else if (lower != "x-amz-date" && lower != "authorization") {
      out.headers.emplace_back(name, value);
    }
  }
  return out;
}

std::string AuthorizationOf(const SigV4Request& req) {
  for (const auto& [name, value] : req.headers) {
    if (name == "Authorization") return value;
  }
  return "(none)";
}

TEST(SigV4Sign, ReproducesEverySuiteSignature) {
  for (const SuiteCase& c : LoadSuite()) {
    SCOPED_TRACE(c.name);
    SigV4Key key{kSuiteKey, kSuiteSecret, ""};
    SigV4Request req = Unsigned(c.req, &key.session_token);
    SignSigV4(&req, key, "us-east-1", "service", SuiteTime());
    EXPECT_EQ(AuthorizationOf(req), c.authz);
    EXPECT_EQ(Describe(VerifySigV4(req, SuiteCreds(), SuiteTime(), SuiteOptions())), "accepted");
  }
}

TEST(SigV4Sign, ReproducesBotocoreOverTheHeadersItSigned) {
  for (const BotocoreCase& c : LoadBotocore()) {
    SCOPED_TRACE(c.name);
    SigV4Key key{c.access_key, c.secret_key, ""};
    SigV4Request req = Unsigned(c.req, &key.session_token);
    std::string authz;
    for (const auto& [name, value] : c.req.headers) {
      if (name == "Authorization") authz = value;
    }
    const std::vector<std::string> names = SignedHeadersOf(authz);
    std::erase_if(req.headers, [&](const auto& h) {
      std::string lower = h.first;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](char ch) { return static_cast<char>(std::tolower(ch)); });
      return std::find(names.begin(), names.end(), lower) == names.end();
    });
    const std::string region =
        authz.substr(authz.find('/') + 10, authz.find("/ce/") - authz.find('/') - 10);
    SignSigV4(&req, key, region, "ce", c.signed_at);
    EXPECT_EQ(AuthorizationOf(req), authz);
  }
}

TEST(SigV4Sign, SessionTokenIsSignedAndStaleAuthReplaced) {
  SigV4Request req;
  req.method = "POST";
  req.target = "/endpoints/my-endpoint/invocations";
  req.headers = {{"Host", "runtime.sagemaker.eu-west-1.amazonaws.com"},
                 {"Content-Type", "application/json"},
                 {"X-Amz-Date", "19990101T000000Z"},
                 {"Authorization", "stale"}};
  req.body = R"({"text_inputs": ["a"]})";
  const SigV4Key key{"AKIDEXAMPLE", kSuiteSecret, "TOKEN/+="};
  SignSigV4(&req, key, "eu-west-1", "sagemaker", SuiteTime());
  ASSERT_EQ(req.headers.size(), 5u);
  EXPECT_EQ(req.headers[2].second, "20150830T123600Z");
  EXPECT_EQ(req.headers[3],
            (std::pair<std::string, std::string>{"X-Amz-Security-Token", "TOKEN/+="}));
  EXPECT_NE(AuthorizationOf(req).find("Credential=AKIDEXAMPLE/20150830/eu-west-1/sagemaker/"
                                      "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                                      "x-amz-security-token, Signature="),
            std::string::npos)
      << AuthorizationOf(req);
  SigV4Options opt;
  opt.service = "sagemaker";
  EXPECT_EQ(Describe(VerifySigV4(req, SuiteCreds(), SuiteTime(), opt)), "accepted");
  req.headers[3].second = "TOKEN/+=x";  // the token is covered by the signature
  EXPECT_NE(Describe(VerifySigV4(req, SuiteCreds(), SuiteTime(), opt)), "accepted");
}

}  // namespace
}  // namespace sagebox::http
