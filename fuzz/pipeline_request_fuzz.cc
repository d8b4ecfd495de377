// Fuzz target for the pipeline's request parsers: the bytes as JSON become a
// CreateProcessingJob and a CreateTrainingJob request (pipeline/sagemaker/request.h), and as
// text an MLflow search filter, order_by clause and page token for every search kind
// (pipeline/tracking/search_filter.h). Each gives InvalidArgument or a parse, never a crash
// or another error; a page token MakePageToken wrote parses back to its offset.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "pipeline/sagemaker/request.h"
#include "pipeline/tracking/search_filter.h"

namespace sm = sagebox::pipeline::sagemaker;
namespace tracking = sagebox::pipeline::tracking;
using sagebox::StatusCode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_discarded()) {
    for (sm::JobKind kind : {sm::JobKind::kProcessing, sm::JobKind::kTraining}) {
      auto r = sm::ParseCreateRequest(kind, doc);
      if (!r.ok() && r.status().code() != StatusCode::kInvalidArgument) __builtin_trap();
      if (r.ok() && !sm::ValidJobName(r->name)) __builtin_trap();
    }
  }
  for (auto kind :
       {tracking::SearchKind::kRuns, tracking::SearchKind::kExperiments,
        tracking::SearchKind::kRegisteredModels, tracking::SearchKind::kModelVersions}) {
    auto f = tracking::ParseFilter(text, kind);
    if (!f.ok() && f.status().code() != StatusCode::kInvalidArgument) __builtin_trap();
    auto o = tracking::ParseOrderBy(text, kind);
    if (!o.ok() && o.status().code() != StatusCode::kInvalidArgument) __builtin_trap();
  }
  auto t = tracking::ParsePageToken(text);
  if (!t.ok() && t.status().code() != StatusCode::kInvalidArgument) __builtin_trap();
  if (t.ok() && *t > 0) {  // offset 0 is the empty token, not one MakePageToken writes
    auto back = tracking::ParsePageToken(tracking::MakePageToken(*t));
    if (!back.ok() || *back != *t) __builtin_trap();
  }
  return 0;
}
