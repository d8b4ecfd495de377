#include "cli/platform.h"

#include <cstdlib>

#include "auth/secrets.h"
#include "auth/user_store.h"
#include "core/env.h"
#include "endpoint/api/endpoint_routes.h"
#include "jobs/job_store.h"
#include "label/store/label_store.h"
#include "pipeline/runtime/execution_store.h"
#include "pipeline/sagemaker/job_service.h"
#include "pipeline/tracking/tracking_store.h"
#include "rag/opensearch/store.h"
#include "rag/question_log.h"
#include "retrieval/kb/knowledge_base.h"

namespace sagebox::cli {

std::vector<db::Migration> PlatformMigrations() {
  std::vector<db::Migration> all = auth::Migrations();
  for (auto& m : jobs::Migrations()) all.push_back(std::move(m));
  for (auto& m : endpoint::api::Migrations()) all.push_back(std::move(m));
  for (auto& m : retrieval::Migrations()) all.push_back(std::move(m));
  for (auto& m : rag::Migrations()) all.push_back(std::move(m));
  for (auto& m : rag::opensearch::Migrations()) all.push_back(std::move(m));
  for (const auto& m : label::Migrations()) all.push_back(m);
  for (const auto& m : pipeline::tracking::Migrations()) all.push_back(m);
  for (auto& m : pipeline::sagemaker::Migrations()) all.push_back(std::move(m));
  for (auto& m : pipeline::runtime::Migrations()) all.push_back(std::move(m));
  return all;
}

std::string Globals::DatabaseUrl() const {
  return database.empty() ? JoinPath(data, "sagebox.db") : database;
}

StatusOr<std::unique_ptr<db::Database>> OpenDatabase(const Globals& g) {
  ASSIGN_OR_RETURN(auto database, db::Database::Open(g.DatabaseUrl()));
  const auto migrations = PlatformMigrations();
  RETURN_IF_ERROR(db::Migrate(*database, migrations));
  return database;
}

StatusOr<std::string> MasterKey(const Globals& g) {
  // Read before any thread starts (the CLI calls this from its main thread).
  const char* env_key = std::getenv("SAGEBOX_MASTER_KEY");  // NOLINT(concurrency-mt-unsafe)
  if (env_key != nullptr && *env_key != '\0') {
    auto key = auth::ParseMasterKey(env_key);
    if (!key.ok()) return key.status().WithContext("$SAGEBOX_MASTER_KEY");
    return key;
  }
  RETURN_IF_ERROR(Env::Default()->CreateDirs(g.data));
  return auth::LoadOrCreateMasterKey(Env::Default(), JoinPath(g.data, "master.key"));
}

}  // namespace sagebox::cli
