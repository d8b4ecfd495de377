// manifest.h: Ground Truth input manifests read into a project's items, and the public
// datasets' converters into that shape.
//
// A manifest is JSON Lines (label.md "Input"): each line has `source` (inline text) or
// `source-ref` (a local path, relative to the manifest's folder; the media file is copied
// into the blob store by the caller), any other keys are kept and passed through to every
// export. A ranking line carries `prompt` and `responses` [{"id","text","model"?}]. A
// line may carry `gold`: a payload of the project's kind that marks the item as a gold
// item (it is always reviewed and scores the annotator) and is not passed through. A
// video line may carry `duration` (seconds) for the time-bound checks.
//
// Per kind: a qa-pairs line needs `source` (the passage); an image- or video-caption
// line needs `source-ref`; a ranking line needs neither (its content is `prompt` and
// `responses`) but may carry one of them. A source-ref may be absolute or relative and
// may contain "..": it reads what the manifest's author could read, so a server that
// imports a manifest from a request body must decide itself whether to allow source-refs.
//
// Parsing is all or nothing: every line is checked before anything is returned, and the
// first bad line fails the whole manifest.
//
// Thread-safety: functions of their arguments (ParseManifest asks `env` whether media exist).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "label/project.h"

namespace sagebox::label {

// nlohmann::json's special members are not noexcept (they throw only when memory runs out).
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
struct ManifestLine {
  int line_no = 0;                     // 1-based line in the manifest file
  nlohmann::json line;                 // the line as read, minus `gold`
  std::string source_text;             // `source`, or empty
  std::string media_path;              // `source-ref` resolved to a local path, or empty
  std::optional<nlohmann::json> gold;  // the gold payload, when the line has one
  double duration_seconds = 0;         // `duration`, else 0
};

// Parses and checks `text`, the manifest file `file_name` (used in messages; its folder
// resolves relative source-refs). Blank lines are skipped. BadInput
// "<file>:<line>: <what is wrong>" for the first bad line: not JSON, not an object, no or
// both of source/source-ref, a source-ref that is remote (s3://, http://) or missing on
// disk, a ranking line without prompt or with fewer than 2 responses, duplicate or empty
// response ids, a response count other than the project's `responses`, a gold payload
// that fails the project's checks. BadInput for an empty manifest.
StatusOr<std::vector<ManifestLine>> ParseManifest(Env* env, std::string_view text,
                                                  std::string_view file_name,
                                                  const ProjectConfig& config);

// The public datasets as Ground Truth input manifest lines (one JSON object per item):
// - OpenAssistant message trees (oasst1's `*_tree.jsonl`: one tree per line): one ranking
//   item per prompter message with ≥ 2 ranked assistant replies: `prompt`, `responses`
//   (id = message_id, text, model = model_name or ""), pass-through `message_tree_id`,
//   `message_id` and `human_ranks` {id: rank} (the dataset's own ranking; 0 = best, as
//   the oasst1 dataset card on Hugging Face defines `rank`). Only ranked, undeleted
//   assistant replies become responses (an unranked reply has no human preference to
//   compare with); they are sorted by message_id (a random UUID) so that their order does
//   not reveal the human ranking. A follow-up prompt (not the tree's root) also carries
//   pass-through `history` [{"role","text"}]: the conversation above it, root first;
// - SQuAD-shaped JSON (SQuAD 1.1/2.0, XQuAD): one qa-pairs item per paragraph: `source`
//   = the context, pass-through `title`, `paragraph` (index) and `reference_qas` (the
//   dataset's questions and answers: the paragraph's `qas` as they are, so their
//   `answer_start` stays the dataset's, in code points). `title` is "" when missing.
// BadInput "<file>:<line>: ..." (JSONL) or "<file>: <json path>: ..." for malformed input.
StatusOr<std::vector<nlohmann::json>> ConvertOasstTrees(std::string_view text,
                                                        std::string_view file_name);
StatusOr<std::vector<nlohmann::json>> ConvertSquad(std::string_view text,
                                                   std::string_view file_name);

}  // namespace sagebox::label
