#include "cost/plan/webhook.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace sagebox::plan {
namespace {

// A local webhook receiver on 127.0.0.1 and an ephemeral port.
class Receiver {
 public:
  // The first `failures` requests get HTTP `fail_status`.
  explicit Receiver(int failures = 0, int fail_status = 503) {
    svr_.Post("/hook",
              [this, failures, fail_status](const httplib::Request& req, httplib::Response& res) {
                int n = ++count_;
                {
                  std::lock_guard<std::mutex> l(mu_);
                  bodies_.push_back(req.body);
                  content_type_ = req.get_header_value("Content-Type");
                }
                res.status = n <= failures ? fail_status : 200;
                res.set_content("ok", "text/plain");
              });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    // stop() only stops a server that is running: wait until it is.
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receiver() {
    svr_.stop();
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int count() const { return count_; }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> l(mu_);
    return bodies_;
  }
  std::string content_type() {
    std::lock_guard<std::mutex> l(mu_);
    return content_type_;
  }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> count_{0};
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::string content_type_;
};

WebhookOptions Fast(std::vector<int>* sleeps) {
  WebhookOptions o;
  o.connect_timeout_ms = 1000;
  o.read_timeout_ms = 1000;
  o.sleep = [sleeps](int ms) { sleeps->push_back(ms); };
  return o;
}

TEST(WebhookTest, DeliversSlackJson) {
  Receiver r;
  std::vector<int> sleeps;
  auto body = SlackMessage("budget 'ml' is above 80%").dump();
  auto d = PostJson(r.Url(), body, Fast(&sleeps));
  EXPECT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.http_status, 200);
  EXPECT_EQ(d.attempts, 1);
  ASSERT_EQ(r.bodies().size(), 1u);
  auto j = nlohmann::json::parse(r.bodies()[0]);
  EXPECT_EQ(j["text"], "budget 'ml' is above 80%");
  EXPECT_EQ(j["blocks"][0]["text"]["type"], "mrkdwn");
  EXPECT_EQ(r.content_type(), "application/json");
  EXPECT_TRUE(sleeps.empty());
}

TEST(WebhookTest, RetriesServerErrorsWithBackoff) {
  Receiver r(/*failures=*/2);
  std::vector<int> sleeps;
  auto d = PostJson(r.Url(), "{}", Fast(&sleeps));
  EXPECT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(r.count(), 3);
  EXPECT_EQ(sleeps, (std::vector<int>{500, 1000}));
}

TEST(WebhookTest, GivesUpAfterTheLastAttempt) {
  Receiver r(/*failures=*/10);
  std::vector<int> sleeps;
  auto d = PostJson(r.Url(), "{}", Fast(&sleeps));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.http_status, 503);
  EXPECT_EQ(d.error, "HTTP 503");
}

TEST(WebhookTest, DoesNotRetryClientErrors) {
  Receiver r(/*failures=*/10, /*fail_status=*/404);
  std::vector<int> sleeps;
  auto d = PostJson(r.Url(), "{}", Fast(&sleeps));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(r.count(), 1);
}

TEST(WebhookTest, ConnectionRefusedIsReportedNotThrown) {
  int port = 0;
  {
    // A port that was free a moment ago and has nobody listening now.
    httplib::Server s;
    port = s.bind_to_any_port("127.0.0.1");
  }
  std::vector<int> sleeps;
  auto d = PostJson("http://127.0.0.1:" + std::to_string(port) + "/x", "{}", Fast(&sleeps));
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.http_status, 0);
  EXPECT_FALSE(d.error.empty());
}

TEST(WebhookTest, RejectsMalformedUrls) {
  for (const char* u : {"", "ftp://x/y", "hooks.slack.com/x", "http:///x"}) {
    auto d = PostJson(u, "{}");
    EXPECT_FALSE(d.ok) << u;
    EXPECT_EQ(d.attempts, 0) << u;
  }
}

}  // namespace
}  // namespace sagebox::plan
