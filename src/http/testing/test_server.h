// test_server.h (tests only): an HttpServer on a free loopback port, serving on
// its own thread for the life of one test, with the routes a test adds.
//
// Thread-safety: one owner; the server itself serves from its pool.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <functional>
#include <memory>
#include <thread>

#include "http/http_server.h"

namespace sagebox::testing {

class TestServer {
 public:
  // `auth` may be null (an open server) and must outlive the server.
  TestServer(http::Authenticator* auth, const std::function<void(http::Router&)>& add_routes) {
    http::ServerOptions o;
    o.listen = {"127.0.0.1", 0};
    o.threads = 8;
    o.auth = auth;
    auto s = http::HttpServer::Create(Env::Default(), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    srv_ = std::move(*s);
    add_routes(srv_->router());
    EXPECT_TRUE(srv_->Bind().ok());
    thread_ = std::thread([this] { (void)srv_->Run(); });
  }
  ~TestServer() {
    srv_->Stop();
    thread_.join();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return srv_->port(); }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(10, 0);
    return c;
  }

 private:
  std::unique_ptr<http::HttpServer> srv_;
  std::thread thread_;
};

}  // namespace sagebox::testing
