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
      "  sagebox serve                      # web UI, JSON APIs and AWS-shaped APIs on :8080\n"
      "  sagebox users add alice --role admin --password-stdin   # then sign in\n"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sagebox ") + SAGEBOX_VERSION);
  Globals g;
  // Read once at start-up, before any thread exists.
  auto env_or = [](const char* name) {
    const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
    return std::string(v != nullptr ? v : "");
  };
  g.data = env_or("SAGEBOX_DATA");
  if (g.data.empty()) g.data = ".sagebox";
  g.store = env_or("SAGEBOX_STORE");
  g.database = env_or("SAGEBOX_DATABASE");
  app.add_option("--data", g.data,
                 "Data folder: cost store, sagebox.db, keys, job logs (default $SAGEBOX_DATA, "
                 "else ./.sagebox)")
      ->capture_default_str();
  app.add_option("--store", g.store,
                 "Cost store folder (default $SAGEBOX_STORE, else the data folder)");
  app.add_option("--database", g.database,
                 "Database: postgresql://USER@HOST/DB, or a SQLite file (default "
                 "$SAGEBOX_DATABASE, else DATA/sagebox.db)");
  // Runs after every flag is read and before any command does: the store follows
  // --data unless it was named itself.
  app.parse_complete_callback([&g] {
    if (g.store.empty()) g.store = g.data;
  });
  int code = 0;
  SetCommandLine(argc, argv);
  AddCostCommands(app, g, &code);
  AddSqlCommand(app, g, &code);
  AddServeCommand(app, g, &code);
  AddDemoCommand(app, g, &code);
  AddUsersCommand(app, g, &code);
  AddEndpointCommands(app, g, &code);
  AddRagCommands(app, g, &code);
  AddLabelCommands(app, g, &code);
  CLI::App* pipeline = AddPipelineCommands(app, g, &code);
  AddPipelineRunCommands(pipeline, g, &code);
  AddJobCommands(app, g, &code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  return code;
}
