// json_path.h: JSONPath as Amazon States Language uses it, parsed once and evaluated per input.
//
// Two dialects
// (https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html,
// "Reference paths"): a *reference path* names at most one node with `.name`, `['name']` and
// `[index]` only (no `@ .. , : ? *`), and is what ResultPath takes; a full *path* (InputPath,
// OutputPath, ItemsPath, `.$` values, Choice `Variable`) also has wildcards `*` / `[*]`,
// slices `[a:b:c]`, deep scan `..`, unions `['a','b']` / `[0,1]` and filters `[?(@.x > 1)]`,
// following Jayway JsonPath, the implementation Step Functions documents. A path that can match
// several nodes ("indefinite") evaluates to an array of the matches, as Jayway returns a list.
// `$$` starts a path into the context object instead of the input.
//
// Hand-written because Debian ships no C++ JSONPath library (jsoncons is not packaged) and the
// ASL subset is small; values are nlohmann::json.
//
// Thread-safety: a parsed JsonPath is immutable and can be shared between threads; the free
// functions are pure.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pipeline/asl/errors.h"

namespace sagebox::pipeline::asl {

struct FilterNode;  // a parsed `?(...)` expression (json_path.cc)

// One step of a path: a selector, optionally applied by deep scan (`..`).
struct PathStep {
  enum class Kind { kName, kIndex, kWildcard, kSlice, kNames, kIndices, kFilter };
  Kind kind = Kind::kName;
  bool descendant = false;         // `..` before the selector
  std::vector<std::string> names;  // kName (one), kNames (several)
  std::vector<int64_t> indices;    // kIndex (one, negative counts from the end), kIndices
  std::optional<int64_t> start, end;
  int64_t step = 1;                          // kSlice
  std::shared_ptr<const FilterNode> filter;  // kFilter
};

class JsonPath {
 public:
  const std::string& text() const { return text_; }
  // Starts with `$$`: evaluated against the context object.
  bool is_context() const { return context_; }
  // Only names and single indices: matches at most one node, evaluates to that node.
  bool is_definite() const;
  const std::vector<PathStep>& steps() const { return steps_; }
  // Jayway's normalized form of a definite path, `$['a'][0]`, as AWS prints it in errors.
  std::string Normalized() const;

 private:
  friend StatusOr<JsonPath> ParseJsonPath(std::string_view text);
  std::string text_;
  bool context_ = false;
  std::vector<PathStep> steps_;
};

// Syntax check and parse of a full path. BadInput naming the path, the offset and what was
// expected there (no input needed: the static validator calls this).
StatusOr<JsonPath> ParseJsonPath(std::string_view text);
// A reference path: ParseJsonPath plus the restriction to `.name`, `['name']`, `[n]`; BadInput
// naming the operator that is not allowed.
StatusOr<JsonPath> ParseReferencePath(std::string_view text);

// The nodes a path selects, in document order (pointers into `input` or `context`).
std::vector<const nlohmann::json*> SelectNodes(const JsonPath& path, const nlohmann::json& input,
                                               const nlohmann::json& context);

// The value of a path: the node itself for a definite path, an array of every match (possibly
// empty) for an indefinite one. States.Runtime when a definite path matches nothing, worded as
// AWS words it: "Invalid path '$.a' : No results for path: $['a']".
AslOr<nlohmann::json> EvaluatePath(const JsonPath& path, const nlohmann::json& input,
                                   const nlohmann::json& context);

// InputPath and OutputPath: `path` nullopt means the field was JSON null, which gives `{}`
// ("InputPath, Parameters and ResultSelector" / "Filtering state output using OutputPath").
// A field that is absent is the path "$". Failures as EvaluatePath.
AslOr<nlohmann::json> ApplyInputPath(const std::optional<JsonPath>& path,
                                     const nlohmann::json& input, const nlohmann::json& context);
inline AslOr<nlohmann::json> ApplyOutputPath(const std::optional<JsonPath>& path,
                                             const nlohmann::json& input,
                                             const nlohmann::json& context) {
  return ApplyInputPath(path, input, context);
}

// ResultPath (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html):
// nullopt (JSON null) discards the result and returns the input unchanged; "$" replaces the
// input with the result; otherwise the result is placed at the reference path inside a copy of
// the input, creating missing objects on the way. States.Runtime ("Unable to apply step ...")
// when the path must go through or into something that is not an object (or an array index
// out of range), or names the context object.
AslOr<nlohmann::json> ApplyResultPath(const std::optional<JsonPath>& path, nlohmann::json input,
                                      nlohmann::json result);

}  // namespace sagebox::pipeline::asl
