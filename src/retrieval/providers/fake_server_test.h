// fake_server_test.h (tests only): a local httplib::Server on a free loopback
// port that records every request and answers with the test's handler, so
// the providers' tests see exactly what went over the wire.
//
// Thread-safety: requests are recorded under a mutex; the handler runs on
// the server's threads.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/strings.h"

namespace sagebox::retrieval::testing {

struct Recorded {
  std::string method;
  std::string target;  // path plus query as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(const std::string& name) const {
    std::string out;
    int n = 0;
    for (const auto& [k, v] : headers) {
      if (AsciiLower(k) == AsciiLower(name)) {
        out += (n++ > 0 ? "," : "") + v;
      }
    }
    return n == 0 ? "(absent)" : out;
  }
};

class FakeServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> l(mu_);
        Recorded r{req.method, req.target, {}, req.body};
        for (const auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
        requests_.push_back(std::move(r));
      }
      handler_(req, res);
    };
    srv_.Post(".*", record);
    srv_.Put(".*", record);
    srv_.Get(".*", record);  // also answers HEAD
    srv_.Delete(".*", record);
    // Bound and listening here, so a client may connect before the accept loop starts.
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    // httplib's stop() only stops a running accept loop: wait for it, so a
    // server destroyed at once still shuts down.
    while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    srv_.stop();
    thread_.join();
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Recorded> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  Handler handler_;
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Recorded> requests_;
};

}  // namespace sagebox::retrieval::testing
