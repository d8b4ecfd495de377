// search_filter.h: MLflow's search grammar (mlflow/utils/search_utils.py, SearchUtils and
// its subclasses) parsed into clauses the tracking store turns into SQL with bound
// parameters only: nothing a user types is ever spliced into SQL text.
//
//   filter   := clause ( AND clause )*          (MLflow has no OR and no parentheses)
//   clause   := identifier comparator value
//   identifier := [entity "."] key              entity: metric(s), param(s)|parameter(s),
//                                               tag(s), attribute(s)|attr|run; none means
//                                               attribute. The key may be `backquoted`
//                                               or "double-quoted" (metrics.`f1 score`).
//   comparator := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN  (case-insensitive)
//   value    := 'string' | "string" | number | ( 'a', 'b', ... )
//   order_by := identifier [ASC | DESC]
// Which comparators each entity takes, which attributes exist and which values they want
// are MLflow's (VALID_METRIC_COMPARATORS, ...), per search kind (runs, experiments,
// registered models, model versions); errors carry MLflow's messages (the route turns them
// into INVALID_PARAMETER_VALUE).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::pipeline::tracking {

enum class SearchKind { kRuns, kExperiments, kRegisteredModels, kModelVersions };
enum class Entity { kMetric, kParam, kTag, kAttribute };

struct Clause {
  Entity entity = Entity::kAttribute;
  std::string key;         // aliases resolved: "created" → start_time, "Run name" → run_name
  std::string comparator;  // upper case: "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE",
                           // "IN", "NOT IN"
  bool numeric = false;    // metrics and numeric attributes (start_time, creation_time, ...)
  double number = 0;       // when numeric
  std::string text;        // when not numeric and not a list
  std::vector<std::string> list;  // IN / NOT IN
};

struct OrderBy {
  Entity entity = Entity::kAttribute;
  std::string key;
  bool ascending = true;
};

// Parses `filter` (empty: no clauses). InvalidArgument with MLflow's message naming the bad
// token, entity, key, comparator or value.
StatusOr<std::vector<Clause>> ParseFilter(std::string_view filter, SearchKind kind);

// Parses one order_by element ("metrics.acc DESC", "start_time", "name ASC").
// InvalidArgument as MLflow ("Invalid order_by clause '...'. Could not be parsed.").
StatusOr<OrderBy> ParseOrderBy(std::string_view text, SearchKind kind);

// MLflow's page tokens: base64 of {"offset": N}. An empty token is offset 0;
// InvalidArgument ("Invalid page token, ...") for anything else that is not one.
StatusOr<int64_t> ParsePageToken(std::string_view token);
std::string MakePageToken(int64_t offset);

}  // namespace sagebox::pipeline::tracking
