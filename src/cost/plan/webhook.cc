#include "cost/plan/webhook.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <thread>

namespace sagebox::plan {

namespace {

struct Url {
  std::string origin;  // scheme://host[:port]
  std::string path;    // /... (at least "/")
};

bool SplitUrl(const std::string& url, Url* out) {
  size_t s = url.find("://");
  if (s == std::string::npos) return false;
  std::string scheme = url.substr(0, s);
  if (scheme != "http" && scheme != "https") return false;
  size_t p = url.find('/', s + 3);
  std::string host = url.substr(s + 3, p == std::string::npos ? std::string::npos : p - s - 3);
  if (host.empty()) return false;
  out->origin = scheme + "://" + host;
  out->path = p == std::string::npos ? "/" : url.substr(p);
  return true;
}

bool Retryable(int status) {
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

}  // namespace

DeliveryResult PostJson(const std::string& url, const std::string& body,
                        const WebhookOptions& opt) {
  DeliveryResult r;
  r.url = url;
  Url u;
  if (!SplitUrl(url, &u)) {
    r.error = "not an http:// or https:// URL";
    return r;
  }
  int backoff = opt.initial_backoff_ms;
  for (int attempt = 1; attempt <= std::max(1, opt.attempts); ++attempt) {
    r.attempts = attempt;
    r.http_status = 0;
    httplib::Client cli(u.origin);
    if (!cli.is_valid()) {
      r.error = "cannot use this URL (https needs OpenSSL support)";
      return r;
    }
    cli.set_connection_timeout(std::chrono::milliseconds(opt.connect_timeout_ms));
    cli.set_read_timeout(std::chrono::milliseconds(opt.read_timeout_ms));
    cli.set_write_timeout(std::chrono::milliseconds(opt.read_timeout_ms));
    cli.set_follow_location(false);
    auto res = cli.Post(u.path, body, "application/json");
    if (res) {
      r.http_status = res->status;
      if (res->status >= 200 && res->status < 300) {
        r.ok = true;
        r.error.clear();
        return r;
      }
      r.error = fmt::format("HTTP {}", res->status);
    } else {
      r.error = httplib::to_string(res.error());
    }
    if (!Retryable(r.http_status) || attempt == opt.attempts) break;
    if (opt.sleep) {
      opt.sleep(backoff);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    }
    backoff *= 2;
  }
  return r;
}

nlohmann::json SlackMessage(const std::string& text) {
  return {{"text", text},
          {"blocks", nlohmann::json::array(
                         {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", text}}}}})}};
}

}  // namespace sagebox::plan
