// sagebox: one binary for the toolkit; `cost` is its first module.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "cli/cli.h"

namespace sagebox::cli {

int ExitCode(StatusCode c) {
  switch (c) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
      return 1;
    case StatusCode::kBadInput:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kUnimplemented:
      return 2;
    default:
      return 4;
  }
}

Status ParseDateFlag(std::string_view flag, const std::string& text, Days* out) {
  if (text.empty()) return Status::Ok();
  auto d = ParseDate(text);
  if (!d) {
    return InvalidArgument(std::string(flag) + " '" + text +
                           "' is not a date (expected YYYY-MM-DD)");
  }
  *out = *d;
  return Status::Ok();
}

int Fail(const Status& s) {
  (void)std::fprintf(stderr, "sagebox: %s\n", s.message().c_str());
  return ExitCode(s.code());
}

}  // namespace sagebox::cli

static int Main(int argc, char** argv);

int main(int argc, char** argv) {
  // The library reports failures as Status; an exception here is a bug (or
  // std::bad_alloc), reported as an internal error rather than a crash.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "sagebox: internal error: %s\n", e.what());
    return 4;
  }
}

static int Main(int argc, char** argv) {
  using namespace sagebox::cli;
  CLI::App app{
      "sagebox: a self-hosted toolkit for SageMaker workloads that knows what each one costs.\n"
      "\n"
      "Start with `sagebox demo` (built-in sample data), or point it at your billing export:\n"
      "  sagebox cost ingest ~/cur          # legacy CUR, CUR 2.0 or FOCUS CSV, .gz/.zip\n"
      "  sagebox cost summary               # month to date, top services, trend\n"
      "  sagebox cost query --group-by SERVICE --granularity DAILY\n"
      "  sagebox serve                      # dashboard + Cost Explorer API on :8080\n"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sagebox ") + SAGEBOX_VERSION);
  Globals g;
  // Read once at start-up, before any thread exists.
  const char* env_store = std::getenv("SAGEBOX_STORE");  // NOLINT(concurrency-mt-unsafe)
  g.store = env_store && *env_store ? env_store : ".sagebox";
  app.add_option("--store", g.store, "Store folder (default $SAGEBOX_STORE, else ./.sagebox)")
      ->capture_default_str();
  int code = 0;
  AddCostCommands(app, g, &code);
  AddSqlCommand(app, g, &code);
  AddServeCommand(app, g, &code);
  AddDemoCommand(app, g, &code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  return code;
}
