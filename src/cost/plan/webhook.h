// webhook.h: POSTs budget alerts as Slack-compatible JSON to webhook URLs.
//
// Delivery is best effort with bounded patience: a connect and a read
// timeout per attempt, a few attempts with exponential backoff, retrying
// only what can succeed later (no connection, timeouts, 429 and 5xx). A
// failure is returned as a result, never thrown, so one dead webhook cannot
// stop the other alerts.
//
// Thread-safety: PostJson may be called from several threads at once; each
// call uses its own connection.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace sagebox::plan {

struct WebhookOptions {
  int connect_timeout_ms = 5000;
  int read_timeout_ms = 10000;
  int attempts = 3;              // total tries, >= 1
  int initial_backoff_ms = 500;  // doubled after each failed try
  // Waits between tries; tests pass a recorder instead of sleeping.
  std::function<void(int ms)> sleep;
};

struct DeliveryResult {
  std::string url;
  bool ok = false;
  int attempts = 0;
  int http_status = 0;  // of the last try; 0 when no response came back
  std::string error;    // why the last try failed, empty when ok
};

// POSTs `body` (Content-Type: application/json) to `url` (http:// or
// https://host[:port][/path]). A malformed URL fails at once (not retried).
DeliveryResult PostJson(const std::string& url, const std::string& body,
                        const WebhookOptions& opt = {});

// {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", ...}}]}:
// what Slack incoming webhooks accept; Mattermost and Teams-via-Slack
// bridges read "text".
nlohmann::json SlackMessage(const std::string& text);

}  // namespace sagebox::plan
