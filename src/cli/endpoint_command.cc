// `sagebox endpoint`: serve many models behind one SageMaker-style endpoint,
// list them, invoke one, pack a model folder. The serving itself is
// endpoint/model_server.h behind endpoint/api/endpoint_routes.h; `serve` here is
// `sagebox serve` with an endpoint, so users, metrics and the dashboard are the
// platform's.
#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/serve.h"
#include "core/bytes.h"
#include "core/env.h"
#include "core/table.h"
#include "endpoint/model_store.h"

namespace sagebox::cli {

namespace {

struct ClientFlags {
  std::string url = "http://127.0.0.1:8080";
  std::string token;  // --token, else $SAGEBOX_TOKEN
};

void AddClientOptions(CLI::App* cmd, ClientFlags* f) {
  cmd->add_option("--url", f->url, "The sagebox server")->capture_default_str();
  cmd->add_option("--token", f->token, "API token (sbx_...) when the server has users")
      ->envname("SAGEBOX_TOKEN");
}

StatusOr<std::unique_ptr<httplib::Client>> Client(const ClientFlags& f) {
  auto c = std::make_unique<httplib::Client>(f.url);
  if (!c->is_valid()) return InvalidArgument("--url " + f.url + " is not an http:// URL");
  c->set_read_timeout(600, 0);
  if (!f.token.empty()) c->set_bearer_token_auth(f.token);
  return c;
}

Status HttpFailure(const ClientFlags& f, const httplib::Result& r) {
  if (!r) {
    return IoError(fmt::format("cannot reach {} ({}); is `sagebox endpoint serve` running?", f.url,
                               httplib::to_string(r.error())));
  }
  std::string message = r->body;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_object()) {
    if (j.contains("message") && j["message"].is_string()) message = j["message"];
    if (j.contains("error") && j["error"].is_string()) message = j["error"];
    if (j.contains("error") && j["error"].is_object())
      message = j["error"].value("message", message);
  }
  const StatusCode code = r->status == 404  ? StatusCode::kNotFound
                          : r->status < 500 ? StatusCode::kInvalidArgument
                                            : StatusCode::kInternal;
  return Status(code, fmt::format("HTTP {}: {}", r->status, message));
}

int Models(const ClientFlags& f, const std::string& endpoint, bool as_json) {
  auto c = Client(f);
  if (!c.ok()) return Fail(c.status());
  std::string path = "/api/endpoint/models";
  if (!endpoint.empty()) path += "?endpoint=" + httplib::detail::encode_query_param(endpoint);
  auto r = (*c)->Get(path);
  if (!r || r->status != 200) return Fail(HttpFailure(f, r));
  if (as_json) {
    std::printf("%s\n", r->body.c_str());
    return 0;
  }
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object()) return Fail(Internal("the server sent something that is not JSON"));
  TextTable t({"model", "state", "backend", "bytes", "hits", "misses", "hit %", "requests",
               "p50 ms", "p99 ms", "cost $", "$/1k req"},
              {TextTable::Align::kLeft, TextTable::Align::kLeft, TextTable::Align::kLeft,
               TextTable::Align::kRight, TextTable::Align::kRight, TextTable::Align::kRight,
               TextTable::Align::kRight, TextTable::Align::kRight, TextTable::Align::kRight,
               TextTable::Align::kRight, TextTable::Align::kRight, TextTable::Align::kRight});
  for (const auto& m : j["models"]) {
    const uint64_t hits = m.value("hits", uint64_t{0});
    const uint64_t misses = m.value("misses", uint64_t{0});
    t.AddRow(
        {m.value("name", ""), m.value("state", ""), m.value("backend", ""),
         FormatBytes(m.value("bytes", uint64_t{0})), std::to_string(hits), std::to_string(misses),
         hits + misses == 0 ? "-"
                            : fmt::format("{:.1f}", 100.0 * static_cast<double>(hits) /
                                                        static_cast<double>(hits + misses)),
         std::to_string(m.value("requests", uint64_t{0})),
         fmt::format("{:.2f}", m.value("p50_us", 0) / 1000.0),
         fmt::format("{:.2f}", m.value("p99_us", 0) / 1000.0),
         m.contains("cost_usd") ? m["cost_usd"].get<std::string>() : "-",
         m.contains("cost_per_1000_requests_usd") && m["cost_per_1000_requests_usd"].is_string()
             ? m["cost_per_1000_requests_usd"].get<std::string>()
             : "-"});
  }
  std::printf("endpoint %s on %s, up %llds; endpoint cost $%s, one endpoint per model $%s\n",
              j.value("endpoint", "").c_str(), j.value("instance_type", "").c_str(),
              static_cast<long long>(j.value("uptime_s", int64_t{0})),
              j.value("endpoint_cost_usd", "-").c_str(),
              j.value("dedicated_endpoints_cost_usd", "-").c_str());
  std::printf("%s", t.Render().c_str());
  return 0;
}

int Invoke(const ClientFlags& f, const std::string& endpoint, const std::string& target,
           const std::string& body_file, const std::string& content_type, const std::string& out) {
  std::string body;
  if (Status s = Env::Default()->ReadFileToString(body_file, &body); !s.ok()) return Fail(s);
  auto c = Client(f);
  if (!c.ok()) return Fail(c.status());
  httplib::Headers h = {{"X-Amzn-SageMaker-Target-Model", target}};
  auto r =
      (*c)->Post("/endpoints/" + httplib::detail::encode_query_param(endpoint) + "/invocations", h,
                 body, content_type);
  if (!r || r->status != 200) return Fail(HttpFailure(f, r));
  if (out.empty() || out == "-") {
    (void)std::fwrite(r->body.data(), 1, r->body.size(), stdout);
    if (isatty(STDOUT_FILENO)) std::printf("\n");
    return 0;
  }
  if (Status s = Env::Default()->WriteFileAtomic(out, r->body); !s.ok()) return Fail(s);
  (void)std::fprintf(stderr, "wrote %s (%zu bytes)\n", out.c_str(), r->body.size());
  return 0;
}

}  // namespace

void AddEndpointCommands(CLI::App& app, Globals& g, int* exit_code) {
  auto* ep = app.add_subcommand(
      "endpoint",
      "Many models behind one SageMaker-style multi-model endpoint, loaded on first use and "
      "unloaded by least recent use within a memory budget.\n"
      "Examples:\n"
      "  sagebox endpoint serve --models ./models --memory-budget 8GiB --instance-type "
      "ml.g5.2xlarge\n"
      "  sagebox endpoint models\n"
      "  sagebox endpoint invoke sagebox --target-model sd_base.tar.gz --body req.json -o "
      "out.json\n"
      "  sagebox endpoint pack ./repo/sd_base -o ./models/sd_base.tar.gz");
  ep->require_subcommand(1);

  static ServeFlags serve;
  auto* s = ep->add_subcommand(
      "serve",
      "Serve a folder of model archives (*.tar.gz holding a Triton model folder) and Triton model "
      "folders. APIs: SageMaker Runtime InvokeEndpoint with TargetModel (boto3/aws "
      "--endpoint-url), the SageMaker control plane, Triton/KServe v2 under /v2, the MME "
      "container contract (/ping, /models), /metrics.");
  s->add_option("--models", serve.endpoint_models,
                "The model store: a folder or file:// URL; TargetModel is a path inside it")
      ->required();
  s->add_option("--name", serve.endpoint_name, "Endpoint name (EndpointName in InvokeEndpoint)")
      ->capture_default_str();
  s->add_option("--memory-budget", serve.memory_budget,
                "Memory for loaded models, e.g. 8GiB (default: half of this machine's RAM)");
  s->add_option("--disk-budget", serve.disk_budget,
                "Disk for extracted archives, e.g. 50GiB (default: unlimited)");
  s->add_option("--instance-type", serve.instance_type,
                "Instance type whose catalog price is shared among the models (cost per model)")
      ->capture_default_str();
  s->add_option("--wait-budget-ms", serve.wait_budget_ms,
                "How long an invocation waits for its model to load before 429 "
                "ModelNotReadyException")
      ->capture_default_str();
  AddServeOptions(s, &serve);
  s->callback([&g, exit_code] { *exit_code = Serve(g, serve); });

  static ServeFlags route;
  route.listen = "127.0.0.1:8080";
  auto* rt = ep->add_subcommand(
      "route",
      "Route one endpoint's requests over several `endpoint serve` instances that share a model "
      "store: each model goes to the instance the consistent-hash ring names for its "
      "TargetModel, so it is loaded once in the fleet; hot models get replicas; an instance "
      "that stops answering is skipped and only its models move (docs/endpoint.md).\n"
      "Example:\n"
      "  sagebox endpoint serve --models ./models --listen 127.0.0.1:8081 --data ./a &\n"
      "  sagebox endpoint serve --models ./models --listen 127.0.0.1:8082 --data ./b &\n"
      "  sagebox endpoint route --instance http://127.0.0.1:8081 --instance "
      "http://127.0.0.1:8082");
  rt->add_option("--instance", route.route_instances,
                 "An instance's base URL, http://HOST:PORT (repeat for each)")
      ->required();
  rt->add_option("--hot-replicas", route.hot_replicas,
                 "Instances that serve a hot model (1 = no replicas)")
      ->capture_default_str();
  rt->add_option("--hot-rps", route.hot_rps,
                 "Requests per second (over 10 s) above which a model is hot")
      ->capture_default_str();
  AddServeOptions(rt, &route);
  rt->callback([&g, exit_code] { *exit_code = Serve(g, route); });

  static ClientFlags models_client;
  static std::string models_endpoint;
  static bool models_json = false;
  auto* m = ep->add_subcommand("models",
                               "List the models of a running endpoint: state, bytes, hits, "
                               "latency and cost per model");
  AddClientOptions(m, &models_client);
  m->add_option("--endpoint", models_endpoint, "Endpoint name (default: the first one)");
  m->add_flag("--json", models_json, "Print the server's JSON instead of a table");
  m->callback([exit_code] { *exit_code = Models(models_client, models_endpoint, models_json); });

  static ClientFlags invoke_client;
  static std::string invoke_name, invoke_target, invoke_body, invoke_out;
  static std::string invoke_type = "application/json";
  auto* inv = ep->add_subcommand(
      "invoke",
      "Invoke a model as InvokeEndpoint does: the body (KServe v2 JSON for Triton models) "
      "goes to the model named by --target-model; the answer goes to stdout or -o");
  AddClientOptions(inv, &invoke_client);
  inv->add_option("name", invoke_name, "Endpoint name")->required();
  inv->add_option("--target-model", invoke_target, "TargetModel, e.g. sd_base.tar.gz")->required();
  inv->add_option("--body", invoke_body, "File with the request body")->required();
  inv->add_option("--content-type", invoke_type, "Content-Type of the body")->capture_default_str();
  inv->add_option("-o,--output", invoke_out, "Write the response here (default: stdout)");
  inv->callback([exit_code] {
    *exit_code =
        Invoke(invoke_client, invoke_name, invoke_target, invoke_body, invoke_type, invoke_out);
  });

  static std::string pack_dir, pack_out;
  auto* p = ep->add_subcommand("pack",
                               "Check a Triton model folder (config.pbtxt, a version folder) and "
                               "pack it as a model archive for the store");
  p->add_option("dir", pack_dir, "The model folder (its name is the model's name)")->required();
  p->add_option("-o,--output", pack_out, "The archive to write, e.g. models/sd_base.tar.gz")
      ->required();
  p->callback([exit_code] {
    auto n = endpoint::PackModel(Env::Default(), pack_dir, pack_out);
    if (!n.ok()) {
      *exit_code = Fail(n.status());
      return;
    }
    std::printf("packed %s into %s (%s)\n", pack_dir.c_str(), pack_out.c_str(),
                FormatBytes(*n).c_str());
    *exit_code = 0;
  });
  (void)g;
}

}  // namespace sagebox::cli
