// project.h: what a labeling project is: its kind, its requirements and the settings of
// its quality loop, and the work a payload must do to pass the requirement checks.
//
// A project has one kind (label.md "Task kinds"); an annotation's payload is the kind's
// JSON shape, kept as JSON end to end (stored, reviewed, exported) and checked here.
// Requirements are the requester's rules: a failed one blocks the submit and is named by
// its `requirement` key, so the annotator and the API caller see which rule and why.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.h"
#include "core/status.h"

namespace sagebox::label {

enum class Kind { kQaPairs, kRanking, kImageCaption, kVideoCaption };

// "qa-pairs", "ranking", "image-caption", "video-caption".
std::string_view KindName(Kind k);
// InvalidArgument naming the four kinds for anything else.
StatusOr<Kind> ParseKind(std::string_view name);

// Inclusive word-count bounds; 0 means "no bound" on that side.
struct WordRange {
  int min = 0;
  int max = 0;
};

// The requester's rules, checked on submit (CheckPayload). Unset = not checked.
struct Requirements {
  // qa-pairs
  int min_pairs = 1;
  int max_pairs = 0;  // 0 = no maximum
  // Minimum share of pairs per question type, e.g. {"reasoning": 0.3}; checked per
  // submission (and per batch by metrics).
  std::vector<std::pair<std::string, double>> question_type_min_share;
  WordRange answer_words;
  WordRange question_words;
  bool require_spans = true;  // every pair has spans or refs_entire_passage
  // ranking
  std::vector<std::string> dimensions;  // e.g. {"helpfulness"}; at least one
  bool allow_ties = false;
  bool require_rationale = false;
  // image-caption
  int min_objects = 0;
  int min_relationships = 0;
  // image- and video-caption
  WordRange caption_words;
  bool require_setting = false;
  // video-caption
  int min_activities = 1;
};

// One project's settings (`label project create --config FILE`, POST /api/label/projects).
struct ProjectConfig {
  Kind kind = Kind::kQaPairs;
  std::string instructions;  // Markdown shown beside the work
  // The manifest key the labels are written under in gt-manifest exports; default the
  // project's name.
  std::string label_attribute;
  std::vector<std::string> question_types;  // qa-pairs: the allowed types; empty = any
  int responses = 0;                        // ranking: responses per item (0 = any number ≥ 2)
  int overlap = 1;                          // distinct annotators per item
  double review_rate = 1.0;                 // share of submissions reviewed (gold items always are)
  int max_rework_rounds = 2;           // rework rounds before the item escalates to the manager
  int64_t reservation_seconds = 1800;  // a reservation's time-out
  int batch_size = 100;                // items per batch, in import order
  Decimal hourly_rate;  // default annotator rate per hour (USD); members may override
  Requirements requirements;
};

// Parses a project config (JSON; label.md's keys, snake_case). Unknown keys are an
// error (a typo must not silently drop a rule). BadInput "<where>: <field>: what was
// expected" for a malformed one; `where` prefixes every message (a file name, "body").
// Keys are the fields' names; every key is optional (the struct's default). `kind` is a
// kind's name; `hourly_rate` a string ("18.50") or a number, parsed exactly into a
// Decimal; `requirements` an object of the Requirements fields, with
// `question_type_min_share` as {"reasoning": 0.3} and word ranges as {"min","max"}.
// The result passes ValidateProjectConfig.
StatusOr<ProjectConfig> ParseProjectConfig(const nlohmann::json& j, std::string_view where);
// Checks the ranges of a config built or changed in code (e.g. `kind` set from a flag
// after parsing): overlap ≥ 1, 0 ≤ review_rate ≤ 1, max_rework_rounds ≥ 0,
// reservation_seconds > 0, batch_size ≥ 1, hourly_rate ≥ 0, responses 0 or ≥ 2,
// min_pairs ≤ max_pairs (when set), shares in [0, 1] summing to at most 1 and naming
// allowed question types (when `question_types` is set), a ranking project has ≥ 1
// dimension. BadInput "<where>: <field>: what was expected" for the first violation.
Status ValidateProjectConfig(const ProjectConfig& c, std::string_view where);
// The config as JSON, the shape ParseProjectConfig reads (round-trips).
nlohmann::json ProjectConfigJson(const ProjectConfig& c);

// One failed requirement: `requirement` is the rule's key ("min_pairs", "spans",
// "question_type_mix", "answer_words", "all_ranked", "time_bounds", "min_objects", ...),
// `message` says what was expected and what was found, `path` points into the payload
// ("qa_pairs[2].spans") or is empty for the whole payload.
struct Failure {
  std::string requirement;
  std::string message;
  std::string path;
};

// What an annotator works on: one imported manifest line.
struct ItemView {
  const nlohmann::json* line = nullptr;  // the manifest line as imported
  // The passage text (qa-pairs `source`), for span bounds; empty otherwise.
  std::string_view text;
  double duration_seconds = 0;  // video-caption: the media's duration; 0 = unknown
};

// Checks `payload` against the kind's shape and the requirements. Returns every failure
// (empty = passes). A payload of the wrong shape is failures too (requirement "shape"),
// never a crash: payloads come from the network.
//
// The requirement keys:
//   shape              a value of the wrong JSON type, or a missing key the kind needs
//   required           an empty text that the kind needs (question, answer, object name,
//                      relationship text, activity text, caption)
//   unique_ids         two pairs, objects or activities with one id (ids are strings or
//                      integers, compared by their text: 1 and "1" are the same id)
//   qa-pairs:      min_pairs, max_pairs, question_type (a type outside
//                  `question_types`), question_type_mix, question_words, answer_words,
//                  spans (a pair with neither spans nor refs_entire_passage, when
//                  require_spans), span_bounds (not 0 ≤ start < end ≤ the passage's length
//                  in code points)
//   ranking:       dimensions (a dimension ranked twice or not in the requirements),
//                  all_ranked (a dimension missing, or `order` not exactly the item's
//                  response ids), ties, rationale
//   image-caption: coordinates (x or y outside [0, 1]), relationships (an unknown object
//                  id), min_objects, min_relationships
//   video-caption: time_bounds (not 0 ≤ start < end ≤ duration), min_activities
//   both captions: setting (empty when require_setting), caption_words
// Words are runs of characters between ASCII whitespace. Missing arrays (`objects`,
// `spans`, ...) count as empty; the count requirements then say what is missing.
//
// Ranking with ties: `order` always lists every response id once, best first. `ties`
// ([[ids]]) groups ids of equal rank: each group has ≥ 2 ids that stand next to each
// other in `order` and share the rank of the group's first position; an id is in at
// most one group. Without `allow_ties`, a non-empty `ties` fails requirement "ties".
// A ranking item's response ids are `item.line["responses"][*]["id"]`.
std::vector<Failure> CheckPayload(const ProjectConfig& config, const ItemView& item,
                                  const nlohmann::json& payload);

// The failures as JSON: [{"requirement","message","path"}].
nlohmann::json FailuresJson(const std::vector<Failure>& failures);

}  // namespace sagebox::label
