// export.h: accepted labels as training data (label.md "Exports").
//
// Formats:
//   gt-manifest    each input line plus `<label-attribute>` (the payload) and
//                  `<label-attribute>-metadata` (job-name, type "sagebox/<kind>",
//                  human-annotated "yes", creation-date, worker-ids, reviewer-ids,
//                  rework-rounds, active-seconds), one line per item
//   sft            qa-pairs: TRL `messages` (style "messages", default), TRL
//                  `prompt`/`completion` ("prompt-completion"), OpenAI fine-tuning
//                  {"messages":[…]} ("openai"); the passage as context, or closed-book;
//                  one line per accepted pair
//   preference     ranking: TRL {"prompt","chosen","rejected","dimension","margin"}
//                  (style "trl", default) or OpenAI DPO {"input":{"messages"},
//                  "preferred_output","non_preferred_output"} ("openai"); pair policy
//                  all-pairs (N(N−1)/2 per dimension; tied responses give no pair),
//                  best-vs-rest, adjacent; several annotators: the majority per pair,
//                  ties dropped
//   coco-captions  image-caption: {"images","annotations":[{id,image_id,caption}]}, with
//                  objects, relationships and setting in "sagebox" extension blocks
//   activitynet    video-caption: {video_id: {"duration","timestamps","sentences"}}
//
// Details (export.cc names the published shapes):
//   - gt-manifest: the label is the payload for one annotation, a list of payloads for
//     several; worker-ids, reviewer-ids (null = unreviewed), rework-rounds and
//     active-seconds are lists aligned with the annotations; creation-date is the latest
//     version's, "2024-01-31T05:00:00.000000" like Ground Truth's. The label attribute is
//     options.label_attribute, else the config's, else the job name.
//   - sft: the user turn is "{passage}\n\nQuestion: {question}" (the line's `source`), or
//     the question alone closed-book; TRL styles add the item's "id", OpenAI nothing.
//   - preference: TRL lines are {"prompt","chosen","rejected","dimension","margin","id"}
//     with standard (string) prompt and responses. Per dimension and unordered pair of
//     responses, each annotator who ranked both votes (a tie group or an unranked side
//     abstains); the majority side is chosen, equal votes drop the pair; margin = (votes
//     for chosen − votes against) / annotators who ranked the dimension. all-pairs: every
//     pair with a majority, in consensus order; best-vs-rest: the consensus best against
//     each response it beats by majority; adjacent: consecutive responses of the
//     consensus order that have a majority. The consensus order is the Borda count
//     (responses ranked strictly below, summed over annotators), ties broken by the
//     responses' order in the item.
//   - coco-captions: image id = the item's id, file_name = the source-ref's file name,
//     the line's other keys pass through; annotation id = the annotation's id.
//   - activitynet: video_id = the line's `id`, else the source-ref's file stem, else the
//     item's id; duration = the line's `duration`, else the last activity's end; the
//     first annotation of an item; activities sorted by start. A repeated video_id is
//     BadInput before anything is written.
//   A malformed payload or line is BadInput "item <id> annotation <id>: <field>: what was
//   expected"; pieces already handed to the sink stay with the caller (discard them).
//
// Thread-safety: pure functions; the sink is called on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "label/project.h"

namespace sagebox::label {

enum class ExportFormat { kGtManifest, kSft, kPreference, kCocoCaptions, kActivityNet };
enum class PairPolicy { kAllPairs, kBestVsRest, kAdjacent };

// "gt-manifest", "sft", "preference", "coco-captions", "activitynet"; InvalidArgument
// naming them for anything else. Likewise the pair policies.
StatusOr<ExportFormat> ParseExportFormat(std::string_view name);
std::string_view ExportFormatName(ExportFormat f);
StatusOr<PairPolicy> ParsePairPolicy(std::string_view name);

// One accepted (or, when asked, any final) annotation of an item: its latest version.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct ExportAnnotation {
  int64_t id = 0;
  std::string worker;    // the annotator's user name
  std::string reviewer;  // the reviewer's user name, or "" when unreviewed
  nlohmann::json payload;
  int rework_rounds = 0;
  int64_t active_seconds = 0;
  int64_t created_at = 0;  // Unix seconds of the version
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct ExportItem {
  int64_t id = 0;
  nlohmann::json line;  // the manifest line as imported (pass-through keys included)
  std::vector<ExportAnnotation> annotations;  // ≥ 1
};

struct ExportOptions {
  ExportFormat format = ExportFormat::kGtManifest;
  std::string style;  // per format (above); "" = the format's default
  PairPolicy pairs = PairPolicy::kAllPairs;
  std::string dimension;     // preference: only this dimension; "" = all
  bool closed_book = false;  // sft: the question without the passage
  std::string job_name;      // gt-manifest metadata: the project's name
  std::string label_attribute;
};

// Renders `items` in `options.format` and hands the output to `sink` in pieces (JSON
// Lines: one call per line, with its '\n'). InvalidArgument when the format does not fit
// the project's kind (sft needs qa-pairs, preference ranking, coco-captions
// image-caption, activitynet video-caption) or the style is unknown; the sink's error
// when it fails (nothing more is written).
Status RenderExport(const ProjectConfig& config, const std::vector<ExportItem>& items,
                    const ExportOptions& options,
                    const std::function<Status(std::string_view)>& sink);

}  // namespace sagebox::label
