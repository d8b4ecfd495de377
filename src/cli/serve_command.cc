// `sagebox serve`: one server for every module (http/http_server.h). This
// file only reads flags and files, builds the authenticator, lets each module
// register its routes, and runs the server.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include "auth/http_authenticator.h"
#include "auth/user_store.h"
#include "cli/cli.h"
#include "cli/platform.h"
#include "cli/serve.h"
#include "core/bytes.h"
#include "cost/api/cost_routes.h"
#include "cost/api/dashboard_api.h"
#include "cost/plan/budgets.h"
#include "endpoint/api/endpoint_routes.h"
#include "endpoint/python/python_backend.h"
#include "endpoint/route/router.h"
#ifdef SAGEBOX_WITH_TORCH
#include "endpoint/torch/diffusion_backend.h"
#include "endpoint/torch/torch_backend.h"
#endif
#include "http/authenticator.h"
#include "http/credentials.h"
#include "http/http_server.h"
#include "jobs/job_runner.h"
#include "label/api/routes.h"
#include "pipeline/api/mlflow_routes.h"
#include "pipeline/api/sagemaker_routes.h"
#include "pipeline/api/sfn_routes.h"
#include "pipeline/sagemaker/job_service.h"
#include "rag/api/routes.h"
#include "rag/opensearch/routes.h"
#include "rag/opensearch/store.h"

namespace sagebox::cli {

namespace {

// 128 bits from the OS's random source (std::random_device reads
// /dev/urandom or getrandom on Linux), as hex.
std::string RandomToken() {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < 4; ++i) out += fmt::format("{:08x}", rd());
  return out;
}

char** g_argv = nullptr;

// libtorch is ~300 shared libraries: linking it into `sagebox` made every command
// (`cost query`, `--version`) pay about a second to load them (5 s in a sanitized
// build). So `sagebox` does not link it. Its sibling `sagebox-torch`, built from the
// same sources plus the TorchScript backends (SAGEBOX_WITH_TORCH), does, and
// `sagebox endpoint serve` re-executes itself as that sibling, before any thread or
// file exists, with the same arguments. Without the sibling, the endpoint serves
// Python-backend models only, and says so.
void ExecTorchSibling() {
#ifndef SAGEBOX_WITH_TORCH
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0 || g_argv == nullptr) return;
  self[n] = '\0';
  const std::string sibling = JoinPath(Dirname(self), "sagebox-torch");
  if (access(sibling.c_str(), X_OK) != 0) {
    (void)std::fprintf(stderr,
                       "sagebox endpoint serve: %s not found: serving without the pytorch and "
                       "diffusion backends (build the sagebox-torch target)\n",
                       sibling.c_str());
    return;
  }
  execv(sibling.c_str(), g_argv);
  // Still one thread here (nothing has started any), so strerror's buffer is ours.
  (void)std::fprintf(stderr, "sagebox endpoint serve: cannot run %s: %s\n", sibling.c_str(),
                     std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
#endif
}

// Half of physical memory: the rest is for the server, the page cache and
// the Python children's own overhead.
uint64_t DefaultMemoryBudget() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return uint64_t{4} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 2;
}

// The endpoint module, when `--models` is given: backends, registry, one endpoint.
struct EndpointModule {
  std::unique_ptr<endpoint::Backend> python, torch, diffusion;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<endpoint::api::EndpointRegistry> registry;
};

StatusOr<std::unique_ptr<EndpointModule>> StartEndpoint(const Globals& g, const ServeFlags& f,
                                                        db::Database* database) {
  auto m = std::make_unique<EndpointModule>();
  endpoint::api::RegistryOptions ro;
  ro.cache_root = JoinPath(g.data, "endpoint-cache");
  ro.memory_budget_bytes = DefaultMemoryBudget();
  if (!f.memory_budget.empty()) {
    auto b = ParseByteSize(f.memory_budget);
    if (!b.ok()) return InvalidArgument("--memory-budget: " + b.status().message());
    ro.memory_budget_bytes = *b;
  }
  if (!f.disk_budget.empty()) {
    auto b = ParseByteSize(f.disk_budget);
    if (!b.ok()) return InvalidArgument("--disk-budget: " + b.status().message());
    ro.disk_budget_bytes = *b;
  }
  if (f.wait_budget_ms < 0) return InvalidArgument("--wait-budget-ms must be 0 or more");
  ro.wait_budget = std::chrono::milliseconds(f.wait_budget_ms);
  auto cat = catalog::Catalog::Builtin();
  if (!cat.ok()) return cat.status();
  m->catalog = std::make_unique<catalog::Catalog>(std::move(*cat));
  if (!f.instance_type.empty() && m->catalog->Find(f.instance_type) == nullptr) {
    return InvalidArgument("--instance-type " + f.instance_type +
                           " is not in the instance catalog (sagebox cost catalog lists them)");
  }
  endpoint::PythonBackendOptions po;
  po.log_dir = JoinPath(g.data, "endpoint-logs");  // model.py's prints and tracebacks survive
  if (Status s = Env::Default()->CreateDirs(po.log_dir); !s.ok()) return s;
  m->python = endpoint::NewPythonBackend(po);
  std::vector<endpoint::Backend*> backends = {m->python.get()};
#ifdef SAGEBOX_WITH_TORCH
  m->torch = endpoint::NewTorchScriptBackend();
  m->diffusion = endpoint::NewDiffusionBackend();
  backends.push_back(m->torch.get());
  backends.push_back(m->diffusion.get());
#endif
  m->registry = std::make_unique<endpoint::api::EndpointRegistry>(Env::Default(), ro, backends,
                                                                  m->catalog.get(), database);
  RETURN_IF_ERROR(m->registry->Create(f.endpoint_name, f.endpoint_models, f.instance_type));
  // Endpoints made by CreateEndpoint in an earlier run come back.
  auto notes = m->registry->Restore();
  if (!notes.ok()) return notes.status();
  for (const auto& n : *notes) (void)std::fprintf(stderr, "sagebox serve: %s\n", n.c_str());
  return m;
}

}  // namespace

void SetCommandLine(int argc, char** argv) {
  (void)argc;
  g_argv = argv;
}
char** CommandLine() { return g_argv; }

int Serve(const Globals& g, const ServeFlags& f) {
  if (!f.endpoint_models.empty()) ExecTorchSibling();  // returns only if it cannot
  // SIGINT/SIGTERM stop the server cleanly: they are blocked before any thread
  // exists (the job runner's workers, the HTTP pool inherit the mask) and one
  // watcher thread waits for them, so no handler runs in async-signal context.
  // A thread started before this point would take SIGTERM's default action.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  Env* env = Env::Default();
  const std::string& store_dir = g.store;
  auto listen = http::ParseListen(f.listen);
  if (!listen.ok()) return Fail(listen.status());

  http::ServerOptions so;
  so.listen = *listen;
  // InvokeEndpoint takes up to 6 MiB of payload (SageMaker's limit); the
  // binary extension's JSON header comes on top.
  if (!f.endpoint_models.empty() || !f.route_instances.empty()) {
    so.max_body_bytes = (size_t{6} << 20) + (size_t{64} << 10);
  }
  so.threads = f.threads;
  if (f.cache_mb < 0) return Fail(InvalidArgument("--cache-mb must be 0 or more"));
  cost::api::CostRoutesOptions copt;
  copt.store_dir = store_dir;
  copt.cache_bytes = static_cast<size_t>(f.cache_mb) << 20;
  if (f.ce_page_size > 0) copt.ce.page_size = f.ce_page_size;
  bool token_generated = false;
  std::string dashboard_token;
  std::vector<std::unique_ptr<http::Authenticator>> sources;
  if (!f.credentials.empty()) {
    auto creds = http::LoadCredentials(env, f.credentials);
    if (!creds.ok()) return Fail(creds.status());
    dashboard_token = creds->dashboard_token;
    if (dashboard_token.empty()) {
      dashboard_token = RandomToken();
      token_generated = true;
    }
    sources.push_back(std::make_unique<http::CredentialsAuthenticator>(*creds, dashboard_token));
  }
  // The platform's state: users (and their keys) and the jobs of earlier runs.
  auto database = OpenDatabase(g);
  if (!database.ok()) return Fail(database.status());
  auto master_key = MasterKey(g);
  if (!master_key.ok()) return Fail(master_key.status());
  auto users = auth::UserStore::Open(**database, *master_key);
  if (!users.ok()) return Fail(users.status());
  sources.push_back(std::make_unique<auth::UserAuthenticator>(users->get()));
  http::ChainAuthenticator auth(std::move(sources));
  so.auth = &auth;
  std::unique_ptr<EndpointModule> endpoint_module;
  if (!f.endpoint_models.empty()) {
    auto em = StartEndpoint(g, f, database->get());
    if (!em.ok()) return Fail(em.status());
    endpoint_module = std::move(*em);
  }
  std::unique_ptr<endpoint::route::EndpointRouter> router;
  if (!f.route_instances.empty()) {
    endpoint::route::RouterOptions rto;
    rto.instances = f.route_instances;
    rto.hot_replicas = f.hot_replicas;
    rto.hot_requests_per_second = f.hot_rps;
    auto r = endpoint::route::EndpointRouter::Create(rto);
    if (!r.ok()) return Fail(r.status());
    router = std::move(*r);
  }
  jobs::RunnerOptions ropt;
  ropt.log_root = JoinPath(g.data, "jobs");
  jobs::JobRunner runner(database->get(), ropt);
  auto interrupted = runner.RecoverInterrupted();
  if (!interrupted.ok()) return Fail(interrupted.status());
  // The OpenSearch REST subset (/opensearch/): its indexes under <data>/opensearch.
  auto opensearch = rag::opensearch::Store::Open(database->get(), JoinPath(g.data, "opensearch"));
  if (!opensearch.ok()) return Fail(opensearch.status());
  // The rag APIs: the chat page's /api/rag/ and the workshop's /api/v1/llm/.
  rag::api::RagApiOptions rag_options;
  rag_options.data_dir = g.data;
  rag_options.default_index = f.rag_index;
  rag_options.generator = f.rag_generator;
  auto rag_api = rag::api::RagApi::Create(database->get(), std::move(rag_options));
  if (!rag_api.ok()) return Fail(rag_api.status());
  // The label module's quality loop (/api/label/): projects, work, reviews, exports.
  label::LabelStore label_store(database->get(), env, g.data);
  label::api::LabelApi label_api(&label_store, env);
  // The pipeline module's tracking and registry, as MLflow's REST API (/api/2.0/mlflow/).
  pipeline::tracking::TrackingOptions tracking_options;
  tracking_options.artifact_root = JoinPath(g.data, "mlflow-artifacts");
  auto tracking = pipeline::tracking::TrackingStore::Open(database->get(), tracking_options);
  if (!tracking.ok()) return Fail(tracking.status());
  pipeline::api::MlflowApi mlflow_api(tracking->get());
  // SageMaker processing and training jobs as local processes (pipeline/sagemaker).
  pipeline::sagemaker::JobServiceOptions sm_options;
  sm_options.data_dir = g.data;
  auto sm_jobs = pipeline::sagemaker::JobService::Create(database->get(), sm_options);
  if (!sm_jobs.ok()) return Fail(sm_jobs.status());
  if (auto n = (*sm_jobs)->RecoverInterrupted(); !n.ok()) return Fail(n.status());
  // Step Functions executions run here, on the same jobs and tracking (pipeline/runtime).
  pipeline::runtime::PipelineServiceOptions sfn_options;
  sfn_options.data_dir = g.data;
  auto sfn = pipeline::runtime::PipelineService::Create(database->get(), sm_jobs->get(),
                                                        tracking->get(), sfn_options);
  if (!sfn.ok()) return Fail(sfn.status());

  cost::api::DashboardOptions dopt;
  dopt.store_dir = store_dir;
  if (!f.budgets.empty()) {
    std::string text;
    if (Status s = env->ReadFileToString(f.budgets, &text); !s.ok()) return Fail(s);
    auto budgets = plan::ParseBudgets(text, f.budgets);
    if (!budgets.ok()) return Fail(budgets.status());
    dopt.budgets = std::move(*budgets);
    dopt.budgets_configured = true;
  }
  catalog::Catalog catalog;
  if (Status s = findings::LoadFindingsInputs(env, {f.jobs, f.metrics, f.logs, f.catalog}, &catalog,
                                              &dopt.findings_inputs);
      !s.ok()) {
    return Fail(s);
  }
  cost::api::DashboardApi api(env, std::move(dopt));

  auto srv = http::HttpServer::Create(env, so);
  if (!srv.ok()) return Fail(srv.status());
  cost::api::CostRoutes cost_routes(env, copt, &api);
  cost_routes.Register((*srv)->router());
  rag::opensearch::Register((*srv)->router(), opensearch->get());
  (*rag_api)->Register((*srv)->router());
  label_api.Register((*srv)->router());
  mlflow_api.Register((*srv)->router());
  pipeline::api::RegisterSageMakerRoutes((*srv)->router(), sm_jobs->get());
  pipeline::api::RegisterStepFunctionsRoutes((*srv)->router(), sfn->get());
  if (endpoint_module) {
    endpoint::api::RegisterEndpointRoutes((*srv)->router(), &(*srv)->metrics(),
                                          endpoint_module->registry.get());
  }
  if (router) router->Register((*srv)->router(), &(*srv)->metrics());
  if (Status s = (*srv)->Bind(); !s.ok()) return Fail(s);
  const int port = (*srv)->port();
  if (router) router->Start();  // after the signal mask: the prober inherits it

  http::HttpServer* raw = srv->get();
  std::thread([sigs, raw] {
    int sig = 0;
    sigwait(&sigs, &sig);
    raw->Stop();
  }).detach();

  const std::string host =
      so.listen.host.find(':') != std::string::npos ? "[" + so.listen.host + "]" : so.listen.host;
  const std::string url = fmt::format("http://{}:{}/", host, port);
  std::printf("sagebox serve: listening on %s\n", url.c_str());
  std::printf("  database      %s (%s)\n", (*database)->Describe().c_str(),
              auth.Required() ? "sign-in required" : "open: no users yet, loopback only");
  if (*interrupted > 0) {
    std::printf("  jobs          %d job(s) of an earlier run marked interrupted\n", *interrupted);
  }
  std::printf("  dashboard     %s%s\n", url.c_str(),
              dashboard_token.empty() ? "" : ("?token=" + dashboard_token).c_str());
  std::printf("  JSON API      %sapi/cost/meta  (docs/api.md)\n", url.c_str());
  std::printf("  health        %shealthz, metrics %smetrics\n", url.c_str(), url.c_str());
  std::printf("  OpenSearch    %sopensearch  (LangChain's OpenSearchVectorSearch, opensearch-js)\n",
              url.c_str());
  std::printf("  rag           %sapi/v1/llm/rag  (the workshop's API; %s), %sapi/rag/ask\n",
              url.c_str(), f.rag_generator.empty() ? "extractive answers" : f.rag_generator.c_str(),
              url.c_str());
  std::printf("  label         %sapi/label/projects  (docs/label.md)\n", url.c_str());
  std::printf("  MLflow        MLFLOW_TRACKING_URI=%s  (/api/2.0/mlflow/)\n",
              url.substr(0, url.size() - 1).c_str());
  std::printf("  Cost Explorer aws ce get-cost-and-usage --endpoint-url %s ...\n",
              url.substr(0, url.size() - 1).c_str());
  if (endpoint_module) {
    const auto& ro = endpoint_module->registry->options();
    std::printf("  endpoint      %s: models from %s, memory budget %s, %s\n",
                f.endpoint_name.c_str(), f.endpoint_models.c_str(),
                FormatBytes(ro.memory_budget_bytes).c_str(), f.instance_type.c_str());
    std::printf(
        "  invoke        boto3 sagemaker-runtime invoke_endpoint(EndpointName=\"%s\", "
        "TargetModel=...) with endpoint_url=%s\n",
        f.endpoint_name.c_str(), url.substr(0, url.size() - 1).c_str());
    std::printf("  Triton/KServe %sv2/repository/index, %sv2/models/{model}/infer\n", url.c_str(),
                url.c_str());
  }
  if (router) {
    std::printf("  router        %zu instance(s): %s\n", f.route_instances.size(),
                fmt::format("{}", fmt::join(f.route_instances, ", ")).c_str());
    std::printf("  route status  %sapi/endpoint/route\n", url.c_str());
  }
  if (token_generated) {
    std::printf(
        "  (dashboard token generated for this run; put sagebox_dashboard_token in %s "
        "to keep one)\n",
        f.credentials.c_str());
  }
  std::printf("Stop with Ctrl-C.\n");
  (void)std::fflush(stdout);
  if (!f.port_file.empty()) {
    if (Status s = env->WriteFileAtomic(f.port_file, std::to_string(port) + "\n"); !s.ok()) {
      return Fail(s);
    }
  }
  if (Status s = (*srv)->Run(); !s.ok()) return Fail(s);
  std::printf("sagebox serve: stopped\n");
  return 0;
}

void AddServeOptions(CLI::App* cmd, ServeFlags* f) {
  cmd->add_option("--listen", f->listen,
                  "HOST:PORT to listen on; a non-loopback host needs users (`sagebox users "
                  "add`) or --credentials; port 0 picks a free one")
      ->capture_default_str();
  cmd->add_option("--credentials", f->credentials,
                  "AWS credentials file: its keys sign Cost Explorer requests (SigV4) and its "
                  "sagebox_dashboard_token guards the dashboard (docs/api.md)");
  cmd->add_option("--budgets", f->budgets,
                  "Budgets file (aws budgets describe-budgets shape) shown on the dashboard");
  cmd->add_option("--jobs", f->jobs, "Findings input: describe-*/list-* JSON (repeatable)");
  cmd->add_option("--metrics", f->metrics, "Findings input: CloudWatch metrics (repeatable)");
  cmd->add_option("--logs", f->logs, "Findings input: filter-log-events output (repeatable)");
  cmd->add_option("--catalog", f->catalog, "Instance catalog overrides (JSON)");
  cmd->add_option("--port-file", f->port_file, "Write the bound port to this file when ready");
  cmd->add_option("--threads", f->threads, "Worker threads (default 96)");
  cmd->add_option("--cache-mb", f->cache_mb,
                  "Memory for answers already computed for the current store state (0 = off)")
      ->capture_default_str();
  cmd->add_option("--rag-index", f->rag_index,
                  "Index the workshop's POST /api/v1/llm/rag searches when the request names "
                  "none (default: the only index there is)");
  cmd->add_option("--rag-generator", f->rag_generator,
                  "Model that writes rag answers and serves /api/v1/llm/text2text: "
                  "sagemaker:ENDPOINT[@URL] or openai:MODEL[@URL] (default: extractive "
                  "answers, no text2text)");
  // For tests of NextPageToken paging with small data.
  cmd->add_option("--ce-page-size", f->ce_page_size, "Cost Explorer groups per page")->group("");
}

void AddServeCommand(CLI::App& app, Globals& g, int* exit_code) {
  static ServeFlags f;
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve the dashboard, its JSON API and a Cost Explorer-compatible endpoint over the "
      "store.\n"
      "Examples:\n"
      "  sagebox serve                                   # http://127.0.0.1:8080/\n"
      "  aws ce get-cost-and-usage --endpoint-url http://127.0.0.1:8080 \\\n"
      "      --time-period Start=2024-01-01,End=2024-04-01 --granularity MONTHLY \\\n"
      "      --metrics UnblendedCost --group-by Type=DIMENSION,Key=SERVICE\n"
      "  sagebox serve --listen 0.0.0.0:8080 --credentials ~/.sagebox/credentials");
  AddServeOptions(cmd, &f);
  cmd->callback([&g, exit_code] { *exit_code = Serve(g, f); });
}

}  // namespace sagebox::cli
