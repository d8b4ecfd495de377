// endpoint_serve_bench.cc: the endpoint's serving speed against libtorch in the
// same process (bench/RESULTS.md, "Endpoint: serving").
//
// Three comparisons, each side measured in this one run, interleaved in rounds
// so that a change in the machine's load (it is shared) hits both sides alike:
//   1. overhead: one client, keep-alive, one request at a time to
//      `POST /v2/models/tiny/infer` (KServe v2 JSON) on a running
//      `sagebox endpoint serve`, against the same model.pt run in this process
//      by libtorch (forward() on a tensor built from the same floats, output
//      copied out: the floor), and through the TorchScript backend's
//      ModelInstance::Execute (the endpoint's tensor conversions, no HTTP, no
//      batcher). With the server's own submit-to-response percentiles (from
//      /metrics) the difference splits into HTTP+JSON, batcher hand-off and
//      backend conversion.
//   2. dynamic batching: `--clients` threads, each with its own keep-alive
//      connection, call mlp_single and mlp_batched (identical model.pt, configs
//      identical but for `dynamic_batching`) for `--seconds` each; requests/s,
//      latency, and the batch sizes the server ran (from /metrics). The
//      in-process rows/s of forward() at batch 1 and batch 16 is the ceiling.
//   3. cold load: `POST /v2/repository/models/big/load` (empty body) timed by
//      the client and by the server's ModelLoadingTime counter, then unload,
//      against reading big/1/model.pt into memory and torch::jit::load of it in
//      this process. The file is read once before timing: page cache warm for
//      both sides.
// Checks (exit status 1 if one fails): every HTTP answer is 200; the server's
// outputs equal this process's libtorch outputs for the same inputs; the batched
// model ran batches larger than 1 and the unbatched one only batches of 1; every
// load moved ModelLoadingTime.
//
//   build/release/endpoint_serve_bench --url http://127.0.0.1:PORT --models DIR
//       [--requests 2000] [--warmup 200] [--rounds 3] [--clients 16] [--seconds 10]
//       [--load-repeats 5]
// DIR is what bench/make_serve_models.py wrote and the server serves
// (bench/endpoint_serve.sh does all of it). Prints Markdown.
//
// clang-tidy: analyse as C++17, as src/endpoint/torch/.clang-tidy explains
// (libtorch 1.13's headers stop clang in C++20 mode), so this file stays valid
// C++17: clang-tidy -p build/release --quiet --extra-arg=-std=c++17
//   --checks=-bugprone-forward-declaration-namespace bench/endpoint_serve_bench.cc
#include <ATen/Parallel.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <torch/script.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "endpoint/model_config.h"
#include "endpoint/tensor.h"
#include "endpoint/torch/torch_backend.h"
#include "endpoint/torch/torch_util.h"

namespace sagebox::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Flags {
  std::string url;
  std::string models;
  int requests = 2000;
  int warmup = 200;
  int rounds = 3;
  int clients = 16;
  double seconds = 10;
  int load_repeats = 5;
};

StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags f;
  auto number = [](std::string_view flag, const std::string& text) -> StatusOr<double> {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || !std::isfinite(v) || v <= 0) {
      return InvalidArgument(fmt::format("{}: expected a positive number, got '{}'", flag, text));
    }
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return InvalidArgument(fmt::format("{}: expected a value", flag));
    const std::string value = argv[++i];
    if (flag == "--url") {
      f.url = value;
      continue;
    }
    if (flag == "--models") {
      f.models = value;
      continue;
    }
    ASSIGN_OR_RETURN(const double v, number(flag, value));
    if (flag == "--seconds") {
      f.seconds = v;
      continue;
    }
    const int n = static_cast<int>(v);
    if (flag == "--requests") {
      f.requests = n;
    } else if (flag == "--warmup") {
      f.warmup = n;
    } else if (flag == "--rounds") {
      f.rounds = n;
    } else if (flag == "--clients") {
      f.clients = n;
    } else if (flag == "--load-repeats") {
      f.load_repeats = n;
    } else {
      return InvalidArgument(fmt::format("unknown flag {}", flag));
    }
  }
  if (f.url.empty() || f.models.empty()) {
    return InvalidArgument("--url http://127.0.0.1:PORT and --models DIR are required");
  }
  return f;
}

double MicrosSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

// Percentiles by nearest rank over all samples.
struct Dist {
  size_t n = 0;
  double p50 = 0;
  double p99 = 0;
  double mean = 0;
};

Dist Summarize(std::vector<double> us) {
  Dist d;
  d.n = us.size();
  if (us.empty()) return d;
  std::sort(us.begin(), us.end());
  auto rank = [&](double q) {
    const auto k = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::clamp<size_t>(k, 1, us.size()) - 1];
  };
  d.p50 = rank(0.50);
  d.p99 = rank(0.99);
  double sum = 0;
  for (double v : us) sum += v;
  d.mean = sum / static_cast<double>(us.size());
  return d;
}

// ---- HTTP -----------------------------------------------------------------

// One keep-alive connection. TCP_NODELAY: without it a request's header and
// body writes meet delayed ACKs and every call takes 40 ms.
std::unique_ptr<httplib::Client> Connect(const std::string& url) {
  auto c = std::make_unique<httplib::Client>(url);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(120, 0);
  return c;
}

// The body of a 200 answer; IoError for a transport failure, Internal naming
// the status and the start of the body for any other status.
StatusOr<std::string> Post(httplib::Client& c, const std::string& path, const std::string& body) {
  auto r = c.Post(path, body, "application/json");
  if (!r) return IoError(fmt::format("POST {}: {}", path, httplib::to_string(r.error())));
  if (r->status != 200) {
    return Internal(fmt::format("POST {}: HTTP {}: {}", path, r->status, r->body.substr(0, 300)));
  }
  return std::move(r->body);
}

StatusOr<std::string> Get(httplib::Client& c, const std::string& path) {
  auto r = c.Get(path);
  if (!r) return IoError(fmt::format("GET {}: {}", path, httplib::to_string(r.error())));
  if (r->status != 200) return Internal(fmt::format("GET {}: HTTP {}", path, r->status));
  return std::move(r->body);
}

// A KServe v2 JSON request of one row: INPUT__0, FP32, shape [1, x.size()].
std::string InferBody(const std::vector<float>& x) {
  json t = {{"name", "INPUT__0"}, {"shape", {1, x.size()}}, {"datatype", "FP32"}, {"data", x}};
  return json{{"inputs", json::array({t})}}.dump();
}

// outputs[0].data of a KServe v2 JSON response; BadInput if it has none.
StatusOr<std::vector<float>> OutputOf(const std::string& body) {
  try {
    const json j = json::parse(body);
    std::vector<float> out;
    for (const auto& v : j.at("outputs").at(0).at("data")) out.push_back(v.get<float>());
    return out;
  } catch (const std::exception& e) {
    return BadInput(fmt::format("infer response: expected outputs[0].data ({}): {}", e.what(),
                                body.substr(0, 200)));
  }
}

// Sum of the samples of metric `name` whose labels contain `label` (Prometheus
// text format: `name{labels} value`).
double MetricSum(const std::string& text, std::string_view name, std::string_view label) {
  double sum = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.size() <= name.size() || line.compare(0, name.size(), name) != 0 ||
        line[name.size()] != '{') {
      continue;
    }
    const size_t close = line.rfind('}');
    if (close == std::string_view::npos) continue;
    if (line.substr(0, close).find(label) == std::string_view::npos) continue;
    sum += std::strtod(std::string(line.substr(close + 1)).c_str(), nullptr);
  }
  return sum;
}

// Batches run per batch size for `model`: sagebox_endpoint_model_batches_total{...size="k"}.
std::map<int, double> Batches(const std::string& text, const std::string& model) {
  std::map<int, double> out;
  for (int k = 1; k <= 64; ++k) {
    const double v = MetricSum(text, "sagebox_endpoint_model_batches_total",
                               fmt::format("model=\"{}\",size=\"{}\"", model, k));
    if (v > 0) out[k] = v;
  }
  return out;
}

// ---- in-process libtorch -----------------------------------------------------

// The module at `path`, as the backend loads it (eval mode), on one intra-op
// thread like the served configs. BadInput/NotFound from LoadTorchScript.
StatusOr<torch::jit::Module> LoadLocal(const std::string& path) {
  at::set_num_threads(1);
  return endpoint::LoadTorchScript(path);
}

// forward() on `rows` rows of `x` copied into a new tensor, output copied out:
// what a caller of libtorch itself does per request. Internal on a torch error.
StatusOr<std::vector<float>> Forward(torch::jit::Module& m, const std::vector<float>& x,
                                     int64_t rows) {
  try {
    const c10::InferenceMode guard;
    const auto width = static_cast<int64_t>(x.size()) / rows;
    torch::Tensor in =
        torch::from_blob(const_cast<float*>(x.data()), {rows, width}, torch::kFloat32).clone();
    const torch::Tensor out = m.forward({in}).toTensor().contiguous();
    const float* p = out.data_ptr<float>();
    return std::vector<float>(p, p + out.numel());
  } catch (const std::exception& e) {
    return Internal("forward: " + endpoint::TorchErrorSummary(e));
  }
}

std::vector<float> Input(size_t width, float seed) {
  std::vector<float> x(width);
  for (size_t i = 0; i < width; ++i) {
    x[i] = std::sin(seed + static_cast<float>(i) * 0.37F);
  }
  return x;
}

// OK when a and b agree to float rounding (libtorch in two processes may pick
// different kernels for a batch of 16 than for 1 row); Internal naming `what`.
Status SameOutputs(const std::vector<float>& a, const std::vector<float>& b,
                   const std::string& what) {
  if (a.size() != b.size()) {
    return Internal(fmt::format("{}: {} outputs vs {}", what, a.size(), b.size()));
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::fabs(a[i] - b[i]) > 1e-5F * (1.0F + std::fabs(b[i]))) {
      return Internal(
          fmt::format("{}: output {} is {} on the server, {} in-process", what, i, a[i], b[i]));
    }
  }
  return Status::Ok();
}

std::string Ms(double us) { return fmt::format("{:.3f}", us / 1000.0); }

// ---- 1. overhead ---------------------------------------------------------------

Status Overhead(const Flags& f, httplib::Client& http) {
  const std::string dir = JoinPath(f.models, "tiny");
  ASSIGN_OR_RETURN(torch::jit::Module local, LoadLocal(JoinPath(dir, "1/model.pt")));
  const std::unique_ptr<endpoint::Backend> backend = endpoint::NewTorchScriptBackend();
  endpoint::ModelSource source;
  source.name = "tiny";
  source.dir = dir;
  source.version_dir = JoinPath(dir, "1");
  ASSIGN_OR_RETURN(source.config, endpoint::LoadModelConfig(Env::Default(), dir));
  ASSIGN_OR_RETURN(std::unique_ptr<endpoint::ModelInstance> instance,
                   backend->LoadInstance(source, 0));

  const std::vector<float> x = {1.0F, -2.0F, 3.0F, 0.5F};
  const std::string body = InferBody(x);
  const std::string path = "/v2/models/tiny/infer";
  endpoint::InferRequest request;
  endpoint::Tensor& t = request.inputs.emplace_back();
  t.name = "INPUT__0";
  t.datatype = endpoint::DataType::kFp32;
  t.shape = {1, 4};
  t.data.assign(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float));
  const std::vector<const endpoint::InferRequest*> batch = {&request};

  // The answers first: the server must compute what libtorch computes.
  ASSIGN_OR_RETURN(const std::vector<float> want, Forward(local, x, 1));
  ASSIGN_OR_RETURN(const std::string first, Post(http, path, body));
  ASSIGN_OR_RETURN(const std::vector<float> got, OutputOf(first));
  RETURN_IF_ERROR(SameOutputs(got, want, "tiny"));

  std::vector<double> floor_us;
  std::vector<double> backend_us;
  std::vector<double> server_us;
  auto one_local = [&]() -> Status { return Forward(local, x, 1).status(); };
  auto one_backend = [&]() -> Status {
    auto r = instance->Execute(batch);
    return r.size() == 1 ? r[0].status() : Internal("Execute: expected 1 response");
  };
  auto one_server = [&]() -> Status { return Post(http, path, body).status(); };
  for (int i = 0; i < f.warmup; ++i) {
    RETURN_IF_ERROR(one_local());
    RETURN_IF_ERROR(one_backend());
    RETURN_IF_ERROR(one_server());
  }
  // Rounds of the three in turn, so drifting load affects all three.
  for (int r = 0; r < f.rounds; ++r) {
    for (int i = 0; i < f.requests; ++i) {
      const auto t0 = Clock::now();
      RETURN_IF_ERROR(one_local());
      floor_us.push_back(MicrosSince(t0));
    }
    for (int i = 0; i < f.requests; ++i) {
      const auto t0 = Clock::now();
      RETURN_IF_ERROR(one_backend());
      backend_us.push_back(MicrosSince(t0));
    }
    for (int i = 0; i < f.requests; ++i) {
      const auto t0 = Clock::now();
      RETURN_IF_ERROR(one_server());
      server_us.push_back(MicrosSince(t0));
    }
  }
  ASSIGN_OR_RETURN(const std::string metrics, Get(http, "/metrics"));
  const double inner_p50 = MetricSum(metrics, "sagebox_endpoint_model_latency_microseconds",
                                     "model=\"tiny\",quantile=\"0.5\"");
  const double inner_p99 = MetricSum(metrics, "sagebox_endpoint_model_latency_microseconds",
                                     "model=\"tiny\",quantile=\"0.99\"");

  const Dist fl = Summarize(floor_us);
  const Dist be = Summarize(backend_us);
  const Dist sv = Summarize(server_us);
  fmt::print("### Overhead: model `tiny` (Linear 4->3 + ReLU), one row, one client\n\n");
  fmt::print(
      "{} rounds x {} calls per path, interleaved by round, after {} warm-up calls each.\n\n",
      f.rounds, f.requests, f.warmup);
  fmt::print("| path | calls | p50 ms | p99 ms | mean ms |\n|---|---:|---:|---:|---:|\n");
  fmt::print("| libtorch forward() in this process (floor) | {} | {} | {} | {} |\n", fl.n,
             Ms(fl.p50), Ms(fl.p99), Ms(fl.mean));
  fmt::print("| TorchScript backend Execute() in this process | {} | {} | {} | {} |\n", be.n,
             Ms(be.p50), Ms(be.p99), Ms(be.mean));
  fmt::print(
      "| server: POST /v2/models/tiny/infer, KServe v2 JSON, keep-alive | {} | {} | {} | {} |\n",
      sv.n, Ms(sv.p50), Ms(sv.p99), Ms(sv.mean));
  fmt::print("| server's own submit->response (its /metrics, newest 4096) | - | {} | {} | - |\n\n",
             Ms(inner_p50), Ms(inner_p99));
  fmt::print("| | p50 | p99 |\n|---|---:|---:|\n");
  fmt::print("| server - floor (ms) | {} | {} |\n", Ms(sv.p50 - fl.p50), Ms(sv.p99 - fl.p99));
  fmt::print("| server / floor | {:.1f}x | {:.1f}x |\n\n", sv.p50 / fl.p50, sv.p99 / fl.p99);
  fmt::print("Where the p50 difference goes (differences of medians, approximate):\n");
  fmt::print("- backend tensor conversion (Execute - forward): {} ms\n", Ms(be.p50 - fl.p50));
  fmt::print("- batcher queue and hand-off (server's submit->response - Execute): {} ms\n",
             Ms(inner_p50 - be.p50));
  fmt::print("- HTTP, routing, JSON decode/encode, loopback (client p50 - server's p50): {} ms\n\n",
             Ms(sv.p50 - inner_p50));
  const double over = (sv.p50 - fl.p50) / 1000.0;
  fmt::print("**Verdict (overhead):** p50 overhead {:.3f} ms: target under 1 ms {}.\n\n", over,
             over < 1.0 ? "met" : "NOT met");
  return Status::Ok();
}

// ---- 2. dynamic batching ---------------------------------------------------------

struct LoadResult {
  double rps = 0;
  uint64_t requests = 0;
  Dist latency;
  std::map<int, double> batches;  // server-side, during this run
};

// `clients` threads, one keep-alive connection each, POST `body` to `path` for
// 1 s unmeasured then `seconds` measured. The first error any client met, if any.
StatusOr<LoadResult> RunLoad(const Flags& f, httplib::Client& http, const std::string& model,
                             const std::string& body) {
  const std::string path = "/v2/models/" + model + "/infer";
  std::atomic<bool> stop{false};
  std::atomic<bool> measuring{false};
  std::atomic<uint64_t> done{0};
  std::mutex mu;
  Status first_error;
  std::vector<std::vector<double>> lat(static_cast<size_t>(f.clients));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(f.clients));
  for (int c = 0; c < f.clients; ++c) {
    threads.emplace_back([&, c] {
      auto conn = Connect(f.url);
      while (!stop.load()) {
        const bool counted = measuring.load();
        const auto t0 = Clock::now();
        auto r = Post(*conn, path, body);
        if (!r.ok()) {
          const std::lock_guard lock(mu);
          if (first_error.ok()) first_error = r.status();
          stop = true;
          return;
        }
        if (counted) lat[static_cast<size_t>(c)].push_back(MicrosSince(t0));
        done.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSIGN_OR_RETURN(const std::string before, Get(http, "/metrics"));
  const uint64_t c1 = done.load();
  const auto t1 = Clock::now();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(f.seconds));
  const uint64_t c2 = done.load();
  const double secs = MicrosSince(t1) / 1e6;
  stop = true;
  for (auto& t : threads) t.join();
  RETURN_IF_ERROR(first_error);
  ASSIGN_OR_RETURN(const std::string after, Get(http, "/metrics"));
  LoadResult out;
  out.requests = c2 - c1;
  out.rps = static_cast<double>(out.requests) / secs;
  std::vector<double> all;
  for (const auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  out.latency = Summarize(std::move(all));
  // The batches of the whole run (warm-up and the tail included): the shape, not the rate.
  const auto b0 = Batches(before, model);
  for (const auto& [k, v] : Batches(after, model)) {
    const auto it = b0.find(k);
    const double d = v - (it == b0.end() ? 0 : it->second);
    if (d > 0) out.batches[k] = d;
  }
  return out;
}

std::string BatchShape(const std::map<int, double>& b) {
  double n = 0;
  double rows = 0;
  std::string sizes;
  for (const auto& [k, v] : b) {
    n += v;
    rows += k * v;
  }
  for (const auto& [k, v] : b) {
    if (v / n >= 0.01)
      sizes += fmt::format("{}{}: {:.0f}%", sizes.empty() ? "" : ", ", k, 100 * v / n);
  }
  return fmt::format("mean {:.2f} ({})", n > 0 ? rows / n : 0, sizes);
}

// Rows per second of forward() at `rows` rows per call, one thread, for ~2 s.
StatusOr<double> LocalRowsPerSecond(torch::jit::Module& m, size_t width, int64_t rows) {
  const std::vector<float> x = Input(width * static_cast<size_t>(rows), 0.5F);
  for (int i = 0; i < 20; ++i) RETURN_IF_ERROR(Forward(m, x, rows).status());
  int64_t calls = 0;
  const auto t0 = Clock::now();
  while (MicrosSince(t0) < 2e6) {
    RETURN_IF_ERROR(Forward(m, x, rows).status());
    ++calls;
  }
  return static_cast<double>(calls * rows) / (MicrosSince(t0) / 1e6);
}

Status Batching(const Flags& f, httplib::Client& http) {
  constexpr size_t kWidth = 256;
  ASSIGN_OR_RETURN(torch::jit::Module local,
                   LoadLocal(JoinPath(f.models, "mlp_batched/1/model.pt")));
  const std::vector<float> x = Input(kWidth, 1.0F);
  const std::string body = InferBody(x);
  ASSIGN_OR_RETURN(const std::vector<float> want, Forward(local, x, 1));
  for (const char* model : {"mlp_single", "mlp_batched"}) {
    ASSIGN_OR_RETURN(const std::string r,
                     Post(http, fmt::format("/v2/models/{}/infer", model), body));
    ASSIGN_OR_RETURN(const std::vector<float> got, OutputOf(r));
    RETURN_IF_ERROR(SameOutputs(got, want, model));
  }

  std::map<std::string, std::vector<LoadResult>> runs;
  for (int r = 0; r < f.rounds; ++r) {
    for (const char* model : {"mlp_single", "mlp_batched"}) {
      ASSIGN_OR_RETURN(LoadResult res, RunLoad(f, http, model, body));
      runs[model].push_back(std::move(res));
    }
  }
  ASSIGN_OR_RETURN(const double local1, LocalRowsPerSecond(local, kWidth, 1));
  ASSIGN_OR_RETURN(const double local16, LocalRowsPerSecond(local, kWidth, 16));

  fmt::print("### Dynamic batching: 4 x (Linear 256->256 + ReLU), {} clients\n\n", f.clients);
  fmt::print("{} rounds of {:.0f} s per model (after 1 s unmeasured), alternating models.\n\n",
             f.rounds, f.seconds);
  fmt::print("| model | round | requests | req/s | p50 ms | p99 ms | batch sizes run |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---|\n");
  std::map<std::string, double> mean_rps;
  for (const auto& [model, list] : runs) {
    for (size_t i = 0; i < list.size(); ++i) {
      const LoadResult& res = list[i];
      mean_rps[model] += res.rps / static_cast<double>(list.size());
      fmt::print("| {} | {} | {} | {:.0f} | {} | {} | {} |\n", model, i + 1, res.requests, res.rps,
                 Ms(res.latency.p50), Ms(res.latency.p99), BatchShape(res.batches));
    }
  }
  fmt::print(
      "\nIn this process, one thread, forward() of the same model.pt: batch 1 {:.0f} rows/s, "
      "batch 16 {:.0f} rows/s ({:.1f}x).\n\n",
      local1, local16, local16 / local1);
  const double ratio = mean_rps["mlp_batched"] / mean_rps["mlp_single"];
  fmt::print(
      "**Verdict (batching):** {:.0f} req/s with dynamic_batching vs {:.0f} without: {:.2f}x.\n\n",
      mean_rps["mlp_batched"], mean_rps["mlp_single"], ratio);
  // The checks: batching happened where configured and only there.
  for (const auto& res : runs["mlp_single"]) {
    if (res.batches.size() != 1 || res.batches.begin()->first != 1) {
      return Internal("mlp_single (no dynamic_batching) ran batches larger than 1: " +
                      BatchShape(res.batches));
    }
  }
  for (const auto& res : runs["mlp_batched"]) {
    if (res.batches.empty() || res.batches.rbegin()->first <= 1) {
      return Internal("mlp_batched ran no batch larger than 1: " + BatchShape(res.batches));
    }
  }
  return Status::Ok();
}

// ---- 3. cold load -------------------------------------------------------------------

// Reads all of `path` with read(2) into `buf[0, size)`. IoError naming the file
// on any failure or a short file.
Status ReadWhole(const std::string& path, char* buf, size_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return IoError(
        fmt::format("{}: cannot open: {}", path, std::generic_category().message(errno)));
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return IoError(fmt::format("{}: read stopped at byte {} of {}", path, got, size));
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::Ok();
}

Status ColdLoad(const Flags& f, httplib::Client& http) {
  const std::string file = JoinPath(f.models, "big/1/model.pt");
  ASSIGN_OR_RETURN(const uint64_t size, Env::Default()->FileSize(file));
  const double mb = static_cast<double>(size) / 1e6;
  // Warm the page cache: every side then reads from memory, not the disk. The
  // reused buffer's pages are touched here, so reading into it again is the
  // copy out of the page cache alone.
  auto reused = std::unique_ptr<char[]>(new char[size]);
  RETURN_IF_ERROR(ReadWhole(file, reused.get(), size));
  std::vector<double> fresh_us;
  std::vector<double> copy_us;
  std::vector<double> jit_us;
  std::vector<double> http_us;
  std::vector<double> server_us;
  auto local = [&]() -> Status {
    {
      // new char[] leaves the pages untouched (default-initialised), so the read
      // pays the page faults of fresh memory, as any loader's allocation does.
      const auto t0 = Clock::now();
      auto fresh = std::unique_ptr<char[]>(new char[size]);
      RETURN_IF_ERROR(ReadWhole(file, fresh.get(), size));
      fresh_us.push_back(MicrosSince(t0));
    }
    {
      const auto t0 = Clock::now();
      RETURN_IF_ERROR(ReadWhole(file, reused.get(), size));
      copy_us.push_back(MicrosSince(t0));
    }
    const auto t0 = Clock::now();
    ASSIGN_OR_RETURN(torch::jit::Module m, LoadLocal(file));
    jit_us.push_back(MicrosSince(t0));
    return Status::Ok();
  };
  auto server = [&]() -> Status {
    ASSIGN_OR_RETURN(const std::string before, Get(http, "/metrics"));
    const auto t0 = Clock::now();
    RETURN_IF_ERROR(Post(http, "/v2/repository/models/big/load", "").status());
    http_us.push_back(MicrosSince(t0));
    ASSIGN_OR_RETURN(const std::string after, Get(http, "/metrics"));
    const double d = MetricSum(after, "sagemaker_ModelLoadingTime_microseconds_total", "") -
                     MetricSum(before, "sagemaker_ModelLoadingTime_microseconds_total", "");
    if (d <= 0) return Internal("a load of big did not move sagemaker_ModelLoadingTime");
    server_us.push_back(d);
    return Post(http, "/v2/repository/models/big/unload", "").status();
  };
  // The order alternates, so neither side always runs right after the other's
  // frees (or right after the page cache was touched).
  for (int r = 0; r < f.load_repeats; ++r) {
    if (r % 2 == 0) {
      RETURN_IF_ERROR(local());
      RETURN_IF_ERROR(server());
    } else {
      RETURN_IF_ERROR(server());
      RETURN_IF_ERROR(local());
    }
  }
  const Dist fr = Summarize(fresh_us);
  const Dist cp = Summarize(copy_us);
  const Dist jl = Summarize(jit_us);
  const Dist hl = Summarize(http_us);
  const Dist sl = Summarize(server_us);
  fmt::print("### Cold load: model `big` (model.pt {:.1f} MB), page cache warm\n\n", mb);
  fmt::print(
      "{} repeats, interleaved (in-process reads and torch::jit::load; server load + "
      "unload), the order alternating.\n\n",
      f.load_repeats);
  fmt::print("| what | median ms | mean ms | MB/s (median) |\n|---|---:|---:|---:|\n");
  auto row = [&](const char* what, const Dist& d) {
    fmt::print("| {} | {} | {} | {:.0f} |\n", what, Ms(d.p50), Ms(d.mean), mb / (d.p50 / 1e6));
  };
  row("read(2) model.pt into a new buffer (floor: allocate + copy)", fr);
  row("read(2) model.pt into a reused buffer (the copy alone)", cp);
  row("torch::jit::load(model.pt) in this process (floor)", jl);
  row("server ModelLoadingTime (its /metrics counter delta)", sl);
  row("server POST /v2/repository/models/big/load round trip", hl);
  fmt::print(
      "\n**Verdict (cold load):** the server's load takes {:.2f}x torch::jit::load of the "
      "same file ({} ms vs {} ms; round trip {:.2f}x).\n\n",
      sl.p50 / jl.p50, Ms(sl.p50), Ms(jl.p50), hl.p50 / jl.p50);
  return Status::Ok();
}

Status Run(int argc, char** argv) {
  ASSIGN_OR_RETURN(const Flags f, ParseFlags(argc, argv));
  auto http = Connect(f.url);
  ASSIGN_OR_RETURN(const std::string live, Get(*http, "/v2/health/live"));
  (void)live;
  fmt::print("## endpoint_serve_bench against {} (models {})\n\n", f.url, f.models);
  (void)std::fflush(stdout);
  RETURN_IF_ERROR(Overhead(f, *http));
  (void)std::fflush(stdout);
  RETURN_IF_ERROR(Batching(f, *http));
  (void)std::fflush(stdout);
  RETURN_IF_ERROR(ColdLoad(f, *http));
  return Status::Ok();
}

}  // namespace
}  // namespace sagebox::bench

int main(int argc, char** argv) {
  // libtorch and httplib report some failures by throwing; report them like any other error.
  try {
    const sagebox::Status s = sagebox::bench::Run(argc, argv);
    if (s.ok()) return 0;
    fmt::print(stderr, "endpoint_serve_bench: {}\n", s.ToString());
  } catch (const std::exception& e) {
    fmt::print(stderr, "endpoint_serve_bench: {}\n", e.what());
  }
  return 1;
}
