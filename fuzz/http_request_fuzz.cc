// Fuzz target for request parsing end to end: each input is sent as raw
// bytes to a real `serve` HTTP server on loopback (httplib's parser, the
// pre-routing checks, routing, the JSON API's parameter parsing). The server
// must answer with a non-5xx status or close the connection; ASan/UBSan and
// a hang (libFuzzer -timeout) catch the rest.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "cost/api/cost_routes.h"
#include "http/http_server.h"
#include "http/testing/raw_http.h"

namespace {
int StartServer() {
  using namespace sagebox;
  static char dir[] = "/tmp/sagebox_http_fuzz_XXXXXX";
  if (!::mkdtemp(dir)) std::abort();
  const std::string store = std::string(dir) + "/store";
  static cost::api::DashboardApi api(Env::Default(), {store, {}, false, {}, {}});
  static cost::api::CostRoutes routes(Env::Default(), {store, size_t{1} << 20, {}}, &api);
  http::ServerOptions o;
  o.listen = {"127.0.0.1", 0};
  o.threads = 4;
  static auto srv = http::HttpServer::Create(Env::Default(), o);
  if (!srv.ok()) std::abort();
  routes.Register((*srv)->router());
  if (!(*srv)->Bind().ok()) std::abort();
  std::thread([] { (void)(*srv)->Run(); }).detach();
  return (*srv)->port();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int port = StartServer();
  // No read timeout: a server that hangs is caught by libFuzzer's -timeout.
  auto got =
      sagebox::testing::SendRaw(port, std::string_view(reinterpret_cast<const char*>(data), size));
  if (!got) std::abort();
  const std::string& resp = *got;
  // "HTTP/1.1 5xx" is a server error caused by a client's bytes: a bug.
  if (resp.size() > 9 && resp.compare(0, 9, "HTTP/1.1 ") == 0 && resp[9] == '5') __builtin_trap();
  return 0;
}
