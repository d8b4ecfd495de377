#include "endpoint/route/router.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <set>
#include <thread>

namespace sagebox::endpoint::route {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using json = nlohmann::json;

// An instance stand-in: answers every request with what it saw, and can be
// stopped and restarted on the same port.
class FakeInstance {
 public:
  FakeInstance() { Start(0); }
  ~FakeInstance() { Shutdown(); }
  void Start(int port) {
    srv_ = std::make_unique<httplib::Server>();
    srv_->set_tcp_nodelay(true);
    srv_->set_keep_alive_timeout(1);  // stop() waits for idle keep-alive connections
    auto answer = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(req);
      }
      json j = {{"path", req.path},
                {"method", req.method},
                {"host", req.get_header_value("Host")},
                {"authorization", req.get_header_value("Authorization")},
                {"target_model", req.get_header_value("X-Amzn-SageMaker-Target-Model")},
                {"body", req.body},
                {"port", port_}};
      res.status = req.path == "/fail" ? 500 : 200;
      res.set_content(j.dump(), "application/json");
    };
    srv_->Get(R"(/.*)", answer);
    srv_->Post(R"(/.*)", answer);
    srv_->Delete(R"(/.*)", answer);
    port_ = port == 0 ? srv_->bind_to_any_port("127.0.0.1") : port;
    if (port != 0) {
      ASSERT_TRUE(srv_->bind_to_port("127.0.0.1", port));
    }
    thread_ = std::thread([this] { srv_->listen_after_bind(); });
    while (!srv_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void Shutdown() {
    if (!srv_) return;
    srv_->stop();
    thread_.join();
    srv_.reset();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }
  int port() const { return port_; }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_.size();
  }

 private:
  std::unique_ptr<httplib::Server> srv_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<httplib::Request> seen_;
};

ApiRequest Invoke(const std::string& model) {
  ApiRequest r;
  r.method = "POST";
  r.path = "/endpoints/sagebox/invocations";
  r.headers = {{"X-Amzn-SageMaker-Target-Model", model}, {"Content-Type", "application/json"}};
  r.body = R"({"inputs":[]})";
  return r;
}

std::string InstanceOf(const ApiResponse& r) {
  for (const auto& [k, v] : r.headers) {
    if (k == "X-Sagebox-Instance") return v;
  }
  return "";
}

TEST(RoutingKey, NamesTheModelOfEachDataPlaneApi) {
  EXPECT_EQ(RoutingKey(Invoke("sd_base.tar.gz")), "sd_base.tar.gz");
  ApiRequest r;
  r.method = "POST";
  r.path = "/v2/models/resnet/versions/1/infer";
  EXPECT_EQ(RoutingKey(r), "resnet");
  r.path = "/v2/models/resnet";
  EXPECT_EQ(RoutingKey(r), "resnet");
  r.path = "/v2/repository/models/add_sub/load";
  EXPECT_EQ(RoutingKey(r), "add_sub");
  r.path = "/models/m1/invoke";
  EXPECT_EQ(RoutingKey(r), "m1");
  r.path = "/models";
  r.body = R"({"model_name":"a","url":"a.tar.gz"})";
  EXPECT_EQ(RoutingKey(r), "a.tar.gz");
  r.body = "not json";
  EXPECT_EQ(RoutingKey(r), "");
  r.path = "/v2/health/ready";
  r.method = "GET";
  EXPECT_EQ(RoutingKey(r), "");
  r.path = "/ping";
  EXPECT_EQ(FanoutFor(r), Fanout::kAny);
}

TEST(FanoutFor, ControlPlaneWritesAndUnloadsGoEverywhere) {
  ApiRequest r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"X-Amz-Target", "SageMaker.CreateEndpoint"}};
  EXPECT_EQ(FanoutFor(r), Fanout::kAll);
  r.headers = {{"X-Amz-Target", "SageMaker.DeleteModel"}};
  EXPECT_EQ(FanoutFor(r), Fanout::kAll);
  r.headers = {{"X-Amz-Target", "SageMaker.DescribeEndpoint"}};
  EXPECT_EQ(FanoutFor(r), Fanout::kAny);
  r.headers.clear();
  r.method = "DELETE";
  r.path = "/models/m1";
  EXPECT_EQ(FanoutFor(r), Fanout::kAll);
  r.method = "POST";
  r.path = "/v2/repository/models/m1/unload";
  EXPECT_EQ(FanoutFor(r), Fanout::kAll);
  EXPECT_EQ(FanoutFor(Invoke("m")), Fanout::kOwner);
}

TEST(EndpointRouter, RejectsBadInstanceLists) {
  EXPECT_FALSE(EndpointRouter::Create({}).ok());
  RouterOptions o;
  o.instances = {"127.0.0.1:80"};
  EXPECT_FALSE(EndpointRouter::Create(o).ok());
  o.instances = {"http://a:1", "http://a:1"};
  EXPECT_FALSE(EndpointRouter::Create(o).ok());
  o.instances = {"http://a:1/path"};
  EXPECT_FALSE(EndpointRouter::Create(o).ok());
  o.instances = {"http://a:1"};
  EXPECT_TRUE(EndpointRouter::Create(o).ok());
}

class RouterFleet : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& f : fakes_) urls_.push_back(f.url());
  }
  std::unique_ptr<EndpointRouter> Make(RouterOptions o = {}) {
    o.instances = urls_;
    o.connect_timeout = std::chrono::milliseconds(500);
    o.read_timeout = std::chrono::milliseconds(5000);
    auto r = EndpointRouter::Create(o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return std::move(*r);
  }
  FakeInstance fakes_[3];
  std::vector<std::string> urls_;
};

TEST_F(RouterFleet, EachModelGoesToItsOwnerOnly) {
  auto router = Make();
  HashRing ring(urls_);
  std::map<std::string, std::set<std::string>> served;
  std::set<std::string> used;
  for (int round = 0; round < 3; ++round) {
    for (int m = 0; m < 24; ++m) {
      const std::string model = fmt::format("model_{}.tar.gz", m);
      ApiResponse r = router->Handle(Invoke(model));
      ASSERT_EQ(r.status, 200) << r.body;
      const json j = json::parse(r.body);
      EXPECT_EQ(j["target_model"], model);
      EXPECT_EQ(j["path"], "/endpoints/sagebox/invocations");
      served[model].insert(InstanceOf(r));
      used.insert(InstanceOf(r));
    }
  }
  for (const auto& [model, where] : served) {
    ASSERT_EQ(where.size(), 1u) << model << " was served by more than one instance";
    EXPECT_EQ(*where.begin(), ring.Primary(model)) << model;
  }
  EXPECT_EQ(used.size(), 3u) << "24 models should spread over all three instances";
}

TEST_F(RouterFleet, HeadersAndQueryArePassedThrough) {
  auto router = Make();
  ApiRequest r;
  r.method = "GET";
  r.path = "/v2/models/my model/config";
  r.params = {{"a b", "c&d"}};
  r.headers = {{"Host", "127.0.0.1:8080"},
               {"Authorization", "AWS4-HMAC-SHA256 Credential=x"},
               {"Connection", "close"}};
  ApiResponse res = router->Handle(r);
  ASSERT_EQ(res.status, 200) << res.body;
  const json j = json::parse(res.body);
  // The Host the caller signed, not the instance's, so SigV4 still verifies.
  EXPECT_EQ(j["host"], "127.0.0.1:8080");
  EXPECT_EQ(j["authorization"], "AWS4-HMAC-SHA256 Credential=x");
  EXPECT_EQ(j["path"], "/v2/models/my model/config");  // decoded by the instance again
  EXPECT_EQ(res.content_type, "application/json");
}

TEST_F(RouterFleet, ADownInstanceIsSkippedAndOnlyItsModelsMove) {
  auto router = Make();
  HashRing ring(urls_);
  std::map<std::string, std::string> before;
  for (int m = 0; m < 30; ++m) {
    const std::string model = fmt::format("m{}", m);
    before[model] = InstanceOf(router->Handle(Invoke(model)));
  }
  const int port = fakes_[1].port();
  fakes_[1].Shutdown();
  for (const auto& [model, was] : before) {
    ApiResponse r = router->Handle(Invoke(model));
    ASSERT_EQ(r.status, 200) << model << ": " << r.body;
    if (was != urls_[1]) {
      EXPECT_EQ(InstanceOf(r), was) << model << " moved although its instance is up";
    } else {
      EXPECT_EQ(InstanceOf(r), ring.Owners(model, 2)[1]) << model;
    }
  }
  EXPECT_FALSE(router->StatusJson()["instances"][1]["healthy"].get<bool>());
  // Back up: the prober's check brings it back and its models return.
  fakes_[1].Start(port);
  router->CheckHealth();
  EXPECT_TRUE(router->StatusJson()["instances"][1]["healthy"].get<bool>());
  for (const auto& [model, was] : before) {
    EXPECT_EQ(InstanceOf(router->Handle(Invoke(model))), was) << model;
  }
}

TEST_F(RouterFleet, AllDownIsA503InTheCallersShape) {
  auto router = Make();
  for (auto& f : fakes_) f.Shutdown();
  ApiResponse r = router->Handle(Invoke("m"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["__type"], "ServiceUnavailable");
  ApiRequest k;
  k.method = "GET";
  k.path = "/v2/models/m";
  r = router->Handle(k);
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(json::parse(r.body).contains("error"));
}

TEST_F(RouterFleet, HotModelsGetReplicasAndColdOnesDoNot) {
  auto t = std::chrono::steady_clock::time_point{};
  RouterOptions o;
  o.hot_replicas = 2;
  o.hot_requests_per_second = 5;
  o.window = std::chrono::seconds(10);
  o.now = [&t] { return t; };
  auto router = Make(o);
  HashRing ring(urls_);
  std::set<std::string> hot_served, cold_served;
  for (int i = 0; i < 200; ++i) {
    t += std::chrono::milliseconds(20);  // 50 requests/s
    hot_served.insert(InstanceOf(router->Handle(Invoke("hot"))));
    if (i % 50 == 0) cold_served.insert(InstanceOf(router->Handle(Invoke("cold"))));
  }
  const auto owners = ring.Owners("hot", 2);
  EXPECT_EQ(hot_served, std::set<std::string>(owners.begin(), owners.end()));
  EXPECT_EQ(cold_served.size(), 1u);
  EXPECT_EQ(router->StatusJson()["hot_models"], json::array({"hot"}));
  // A minute later, the rate has fallen: one owner again.
  t += std::chrono::seconds(60);
  std::set<std::string> later;
  for (int i = 0; i < 4; ++i) {
    t += std::chrono::seconds(1);
    later.insert(InstanceOf(router->Handle(Invoke("hot"))));
  }
  EXPECT_EQ(later, std::set<std::string>{owners[0]});
}

TEST_F(RouterFleet, ControlPlaneWritesReachEveryInstance) {
  auto router = Make();
  ApiRequest r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"X-Amz-Target", "SageMaker.CreateEndpoint"},
               {"Content-Type", "application/x-amz-json-1.1"}};
  r.body = R"({"EndpointName":"e"})";
  ASSERT_EQ(router->Handle(r).status, 200);
  for (auto& f : fakes_) EXPECT_EQ(f.Count(), 1u);
  r.headers[0].second = "SageMaker.DescribeEndpoint";
  ASSERT_EQ(router->Handle(r).status, 200);
  size_t total = 0;
  for (auto& f : fakes_) total += f.Count();
  EXPECT_EQ(total, 4u) << "a read goes to one instance";
}

TEST_F(RouterFleet, ConcurrentCallersAllGetAnswers) {
  auto router = Make();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (router->Handle(Invoke(fmt::format("m{}", (t * 7 + i) % 11))).status == 200) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
  uint64_t forwarded = 0;
  const json status = router->StatusJson();
  for (const auto& in : status["instances"]) forwarded += in["forwarded"].get<uint64_t>();
  EXPECT_EQ(forwarded, 200u);
}

}  // namespace
}  // namespace sagebox::endpoint::route
