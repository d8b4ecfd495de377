#include "http/sigv4.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstddef>

#include "core/strings.h"

namespace sagebox::http {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// AWS's messages (as its JSON services send them) where we know them.
constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsWhitespace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWhitespace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; a '%' not followed by two hex digits stays literal.
// '+' stays '+': SigV4 clients encode spaces as %20.
std::string UriDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Removes empty, "." and ".." segments, keeping a leading and a trailing
// '/' (botocore's remove_dot_segments, which AWS services match).
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = end + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) out += '/';
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      const size_t eq = piece.find('=');
      std::string name;
      std::string value;
      UriEncode(UriDecode(piece.substr(0, eq)), false, &name);
      if (eq != std::string_view::npos) UriEncode(UriDecode(piece.substr(eq + 1)), false, &value);
      params.emplace_back(std::move(name), std::move(value));
    }
    start = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

// The canonical value of header `name`: each value trimmed with inner runs of
// whitespace made one space (botocore: ' '.join(value.split())), repeats
// joined by ',' in the order received.
std::string CanonicalHeaderValue(const SigV4Request& req, std::string_view name) {
  std::string out;
  bool first = true;
  for (const auto& [n, v] : req.headers) {
    if (!EqualsIgnoreCase(n, name)) continue;
    if (!first) out += ',';
    first = false;
    bool pending_space = false;
    for (const char c : Trim(v)) {
      if (IsWhitespace(c)) {
        pending_space = true;
        continue;
      }
      if (pending_space) out += ' ';
      pending_space = false;
      out += c;
    }
  }
  return out;
}

// The values of header `name` (any case), in order.
std::vector<std::string_view> HeaderValues(const SigV4Request& req, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : req.headers) {
    if (EqualsIgnoreCase(n, name)) out.emplace_back(v);
  }
  return out;
}

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view digits) {
  int v = 0;
  for (const char c : digits) v = v * 10 + (c - '0');
  return v;
}

// "20150830T123600Z" (ISO 8601 basic format, UTC), strictly.
std::optional<UnixSeconds> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z' || !AllDigits(s.substr(0, 8)) ||
      !AllDigits(s.substr(9, 6))) {
    return std::nullopt;
  }
  const int y = ToInt(s.substr(0, 4));
  const int mo = ToInt(s.substr(4, 2));
  const int d = ToInt(s.substr(6, 2));
  const int h = ToInt(s.substr(9, 2));
  const int mi = ToInt(s.substr(11, 2));
  const int se = ToInt(s.substr(13, 2));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  const Days days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int ry = 0;
  unsigned rm = 0;
  unsigned rd = 0;
  CivilFromDays(days, &ry, &rm, &rd);
  if (ry != y || rm != static_cast<unsigned>(mo) || rd != static_cast<unsigned>(d)) {
    return std::nullopt;  // 20150231
  }
  return static_cast<UnixSeconds>(days) * 86400 + h * 3600 + mi * 60 + se;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

AuthFailure Failure(int status, std::string type, std::string message) {
  return AuthFailure{status, std::move(type), std::move(message)};
}

AuthFailure Incomplete(std::string message) {
  return Failure(400, "IncompleteSignatureException", std::move(message));
}

AuthFailure Invalid(std::string message) {
  return Failure(400, "InvalidSignatureException", std::move(message));
}

// The header echoed in messages, cut short: it is the sender's own text.
std::string Echo(std::string_view s) {
  constexpr size_t kMax = 256;
  return s.size() <= kMax ? std::string(s) : std::string(s.substr(0, kMax)) + "...";
}

struct ParsedAuthorization {
  std::string_view credential;
  std::string_view signed_headers;
  std::string_view signature;
};

std::optional<AuthFailure> ParseAuthorization(std::string_view value, ParsedAuthorization* out) {
  value = Trim(value);
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm ||
      (value.size() > kAlgorithm.size() && !IsWhitespace(value[kAlgorithm.size()]))) {
    const std::string_view alg = value.substr(0, value.find(' '));
    return Incomplete("Unsupported AWS 'algorithm': '" + Echo(alg) +
                      "'; sagebox accepts AWS4-HMAC-SHA256 (Signature Version 4)");
  }
  bool seen_credential = false;
  bool seen_signed_headers = false;
  bool seen_signature = false;
  for (std::string_view part : Split(value.substr(kAlgorithm.size()), ',')) {
    part = Trim(part);
    const size_t eq = part.find('=');
    const std::string_view name = part.substr(0, eq);
    const std::string_view v = eq == std::string_view::npos ? "" : Trim(part.substr(eq + 1));
    std::string_view* slot = nullptr;
    bool* seen = nullptr;
    if (name == "Credential") {
      slot = &out->credential;
      seen = &seen_credential;
    } else if (name == "SignedHeaders") {
      slot = &out->signed_headers;
      seen = &seen_signed_headers;
    } else if (name == "Signature") {
      slot = &out->signature;
      seen = &seen_signature;
    } else {
      return Incomplete("Authorization header has an unexpected parameter '" + Echo(name) +
                        "'. Authorization=" + Echo(value));
    }
    if (*seen) {
      return Incomplete("Authorization header repeats the '" + std::string(name) +
                        "' parameter. Authorization=" + Echo(value));
    }
    *seen = true;
    *slot = v;
  }
  std::string missing;
  if (!seen_credential || out->credential.empty()) {
    missing += "Authorization header requires 'Credential' parameter. ";
  }
  if (!seen_signature || out->signature.empty()) {
    missing += "Authorization header requires 'Signature' parameter. ";
  }
  if (!seen_signed_headers || out->signed_headers.empty()) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (!missing.empty()) return Incomplete(missing + "Authorization=" + Echo(value));
  return std::nullopt;
}

}  // namespace

void UriEncode(std::string_view s, bool keep_slash, std::string* out) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out->push_back(ch);
    } else {
      out->push_back('%');
      out->push_back(kDigits[c >> 4]);
      out->push_back(kDigits[c & 15]);
    }
  }
}

std::string FormatAmzDate(UnixSeconds t) {
  const Days days = DayOf(t);
  const int64_t secs = t - static_cast<int64_t>(days) * 86400;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  CivilFromDays(days, &y, &m, &d);
  return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}Z", y, m, d, secs / 3600, secs / 60 % 60,
                     secs % 60);
}

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    return {};  // only on allocation failure inside OpenSSL; an empty hash matches nothing
  }
  return Hex(md.data(), len);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (key.size() > static_cast<size_t>(INT32_MAX) ||
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(),
           &len) == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(md.data()), len};
}

std::string CanonicalRequest(const SigV4Request& req,
                             const std::vector<std::string>& signed_headers) {
  const std::string_view target = req.target;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);

  std::string out = req.method;
  out += '\n';
  UriEncode(NormalizePath(path), true, &out);
  out += '\n';
  out += CanonicalQuery(query);
  out += '\n';
  for (const std::string& name : signed_headers) {
    out += AsciiLower(name);
    out += ':';
    out += CanonicalHeaderValue(req, name);
    out += '\n';
  }
  out += '\n';
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) out += ';';
    out += AsciiLower(signed_headers[i]);
  }
  out += '\n';
  out += Sha256Hex(req.body);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += Sha256Hex(canonical_request);
  return out;
}

std::string SignatureHex(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view string_to_sign) {
  const std::string k_date = HmacSha256("AWS4" + std::string(secret), date);
  const std::string k_region = HmacSha256(k_date, region);
  const std::string k_service = HmacSha256(k_region, service);
  const std::string k_signing = HmacSha256(k_service, "aws4_request");
  const std::string sig = HmacSha256(k_signing, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

void SignSigV4(SigV4Request* req, const SigV4Key& key, std::string_view region,
               std::string_view service, UnixSeconds now) {
  const std::string amz_date = FormatAmzDate(now);
  std::erase_if(req->headers, [](const auto& h) {
    const std::string name = AsciiLower(h.first);
    return name == "x-amz-date" || name == "authorization" || name == "x-amz-security-token";
  });
  req->headers.emplace_back("X-Amz-Date", amz_date);
  if (!key.session_token.empty())
    req->headers.emplace_back("X-Amz-Security-Token", key.session_token);
  std::vector<std::string> names;
  names.reserve(req->headers.size());
  for (const auto& h : req->headers) names.push_back(AsciiLower(h.first));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  const std::string sts = StringToSign(amz_date, scope, CanonicalRequest(*req, names));
  std::string signed_headers;
  for (const std::string& n : names) {
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += n;
  }
  req->headers.emplace_back(
      "Authorization",
      fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                  key.access_key_id, scope, signed_headers,
                  SignatureHex(key.secret_access_key, date, region, service, sts)));
}

std::optional<AuthFailure> VerifySigV4(const SigV4Request& req, const Credentials& creds,
                                       UnixSeconds now, const SigV4Options& opt) {
  return VerifySigV4(
      req,
      [&creds](std::string_view key) -> std::optional<std::string> {
        auto it = creds.secret_by_access_key.find(std::string(key));
        if (it == creds.secret_by_access_key.end()) return std::nullopt;
        return it->second;
      },
      now, opt);
}

std::optional<AuthFailure> VerifySigV4(const SigV4Request& req, const SecretLookup& secret_of,
                                       UnixSeconds now, const SigV4Options& opt) {
  const std::vector<std::string_view> auth_headers = HeaderValues(req, "authorization");
  if (auth_headers.empty()) {
    return Failure(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  if (auth_headers.size() > 1) {
    return Incomplete("The request has more than one Authorization header.");
  }
  ParsedAuthorization auth;
  if (auto failure = ParseAuthorization(auth_headers[0], &auth)) return failure;

  // Credential=AKID/yyyymmdd/region/service/aws4_request
  const std::vector<std::string_view> scope_parts = Split(auth.credential, '/');
  if (scope_parts.size() != 5 ||
      std::any_of(scope_parts.begin(), scope_parts.end(), [](auto p) { return p.empty(); })) {
    return Incomplete(
        "Credential must have the form <access key>/<yyyymmdd>/<region>/<service>/"
        "aws4_request, not '" +
        Echo(auth.credential) + "'.");
  }
  const std::string_view access_key = scope_parts[0];
  const std::string_view scope_date = scope_parts[1];
  const std::string_view region = scope_parts[2];
  const std::string_view service = scope_parts[3];
  if (scope_parts[4] != "aws4_request") {
    return Invalid("Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                   Echo(scope_parts[4]) + "'.");
  }

  const std::vector<std::string_view> dates = HeaderValues(req, "x-amz-date");
  if (dates.size() != 1) {
    return Incomplete(std::string(dates.empty() ? "Authorization header requires existence of a "
                                                  "'X-Amz-Date' header."
                                                : "The request has more than one X-Amz-Date "
                                                  "header.") +
                      " Authorization=" + Echo(auth_headers[0]));
  }
  const std::string_view amz_date = Trim(dates[0]);
  const std::optional<UnixSeconds> signed_at = ParseAmzDate(amz_date);
  if (!signed_at) {
    return Incomplete("Date must be in ISO-8601 'basic format'. Got '" + Echo(amz_date) +
                      "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }

  std::vector<std::string> signed_headers;
  bool host_signed = false;
  bool date_signed = false;
  for (const std::string_view h : Split(auth.signed_headers, ';')) {
    if (h.empty()) {
      return Incomplete("SignedHeaders has an empty name. Authorization=" + Echo(auth_headers[0]));
    }
    host_signed = host_signed || EqualsIgnoreCase(h, "host");
    date_signed = date_signed || EqualsIgnoreCase(h, "x-amz-date");
    signed_headers.emplace_back(h);
  }
  if (!host_signed) {
    return Incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (!date_signed) {
    return Incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  for (const std::string& must : opt.must_sign) {
    if (std::none_of(signed_headers.begin(), signed_headers.end(),
                     [&](const std::string& h) { return EqualsIgnoreCase(h, must); })) {
      return Incomplete("'" + must + "' must be a 'SignedHeader' in the AWS Authorization.");
    }
  }
  for (const std::string& h : signed_headers) {
    // A signer cannot have seen a header that is not here (a proxy dropped it).
    if (HeaderValues(req, h).empty()) {
      return Invalid("The request is missing the signed header '" + Echo(h) + "'.");
    }
  }

  const std::optional<std::string> secret = secret_of(access_key);
  if (!secret) {
    return Failure(400, "UnrecognizedClientException",
                   "The security token included in the request is invalid.");
  }
  if (scope_date != amz_date.substr(0, 8)) {
    return Invalid(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
        "date from HTTP: '" +
        Echo(scope_date) + "' != '" + std::string(amz_date.substr(0, 8)) + "', from 'X-Amz-Date'.");
  }
  if (service != opt.service) {
    return Invalid("Credential should be scoped to correct service: '" + opt.service + "'. ");
  }
  const std::string minutes = std::to_string(opt.max_skew_seconds / 60) + " min.)";
  if (*signed_at < now - opt.max_skew_seconds) {
    return Invalid("Signature expired: " + std::string(amz_date) + " is now earlier than " +
                   FormatAmzDate(now - opt.max_skew_seconds) + " (" + FormatAmzDate(now) + " - " +
                   minutes);
  }
  if (*signed_at > now + opt.max_skew_seconds) {
    return Invalid("Signature not yet current: " + std::string(amz_date) + " is still later than " +
                   FormatAmzDate(now + opt.max_skew_seconds) + " (" + FormatAmzDate(now) + " + " +
                   minutes);
  }

  const std::string body_hash = Sha256Hex(req.body);
  for (const std::string_view sent : HeaderValues(req, "x-amz-content-sha256")) {
    if (!ConstantTimeEquals(Trim(sent), body_hash)) {
      return Invalid(
          "The provided 'x-amz-content-sha256' header does not match what was "
          "computed.");
    }
  }

  const std::string scope = std::string(scope_date) + "/" + std::string(region) + "/" +
                            std::string(service) + "/aws4_request";
  const std::string expected =
      SignatureHex(*secret, scope_date, region, service,
                   StringToSign(amz_date, scope, CanonicalRequest(req, signed_headers)));
  if (expected.empty() || !ConstantTimeEquals(auth.signature, expected)) {
    return Invalid(std::string(kSignatureMismatch));
  }
  return std::nullopt;
}

}  // namespace sagebox::http
