// Fuzz target for VerifySigV4: any bytes, split at '\0' into an Authorization
// value, an X-Amz-Date, a request target and a body, must not crash; a random
// signature must never verify (the key is known, so only a forgery could pass).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  std::string_view in(reinterpret_cast<const char*>(d), n);
  auto next = [&in] {
    const size_t cut = in.find('\0');
    const std::string_view part = in.substr(0, cut);
    in.remove_prefix(cut == std::string_view::npos ? in.size() : cut + 1);
    return std::string(part);
  };
  static const sagebox::http::Credentials creds = [] {
    sagebox::http::Credentials c;
    c.secret_by_access_key["AKID"] = "secret";
    return c;
  }();
  sagebox::http::SigV4Request req;
  req.method = "POST";
  const std::string auth = next();
  const std::string date = next();
  req.target = next();
  req.body = next();
  req.headers = {{"Host", "127.0.0.1:8080"}, {"X-Amz-Date", date}, {"Authorization", auth}};
  // The fuzzer's extra bytes become more headers ("name:value" per part).
  while (!in.empty()) {
    const std::string h = next();
    const size_t colon = h.find(':');
    req.headers.emplace_back(h.substr(0, colon),
                             colon == std::string::npos ? "" : h.substr(colon + 1));
  }
  const auto ts = sagebox::ParseTimestamp("2025-03-01T10:15:00Z");
  if (!sagebox::http::VerifySigV4(req, creds, *ts)) __builtin_trap();  // forged?
  sagebox::http::SigV4Options opt;
  opt.service = "service";
  (void)sagebox::http::VerifySigV4(req, creds, *ts, opt);
  (void)sagebox::http::CanonicalRequest(req, {"host", "x-amz-date", auth});
  return 0;
}
