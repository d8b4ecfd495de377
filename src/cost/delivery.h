// delivery.h: turns the paths a user gives to `ingest` into units of work,
// honouring AWS's delivery manifests.
//
// AWS rewrites ("restates") a billing period many times. Each delivery has a
// manifest: legacy CUR `<report>-Manifest.json` (assemblyId, reportKeys) and
// CUR 2.0 / FOCUS data exports `metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`
// (dataFiles). A folder is walked; for each billing period only the files
// the newest manifest names are read, and files of older deliveries beside
// them (in the period folder, or in the period's Athena-style
// `year=YYYY/month=M/` partition) are skipped. Files no manifest speaks for
// (.csv, .csv.gz, .csv.zip, .parquet) are read on their own.
//
// Thread-safety: pure functions over the Env.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::cost {

struct IngestUnit {
  std::vector<std::string> files;
  // What produced the data. A unit from a manifest ("report:<identity>",
  // the CUR 2.0 export ARN or the legacy payer account/report name) replaces
  // everything the same report stored earlier for its billing periods, so
  // restatements never double count while two different reports (two payer
  // accounts, or a CUR and a FOCUS export) of one month stay side by side.
  // A loose file replaces only what the same file (same absolute path)
  // stored before.
  std::string source;
  bool from_manifest = false;
  std::string manifest;     // path, when from_manifest
  std::string assembly_id;  // legacy assemblyId or CUR 2.0 executionId
};

struct IngestPlan {
  std::vector<IngestUnit> units;
  std::vector<std::string> skipped;  // data files of superseded deliveries
  std::vector<std::string> ignored;  // files that are not billing data
};

// BadInput when a manifest is unreadable or names files that are not there
// (the message names the manifest and the missing file); NotFound for a
// path that does not exist.
StatusOr<IngestPlan> PlanIngest(Env* env, const std::vector<std::string>& paths);

}  // namespace sagebox::cost
