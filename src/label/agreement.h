// agreement.h: how far annotators agree with each other and with gold (label.md
// "Metrics"): Kendall's τ-b for rankings, Krippendorff's α, span F1 for QA highlights,
// temporal IoU for video segments; and one gold score per kind.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "label/project.h"

namespace sagebox::label {

// Kendall's τ-b of two paired rankings (ties corrected, as scipy.stats.kendalltau's
// default). nullopt when undefined (fewer than 2 items, or one side all tied).
std::optional<double> KendallTauB(const std::vector<double>& x, const std::vector<double>& y);

enum class AlphaMetric { kNominal, kOrdinal, kInterval };
// Krippendorff's α over `units` (each unit: one value per coder, nullopt = missing), as
// Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability" defines it; units with
// fewer than 2 values are not pairable and are ignored. nullopt when undefined (no
// pairable unit, or no disagreement is possible: all values equal).
std::optional<double> KrippendorffAlpha(
    const std::vector<std::vector<std::optional<double>>>& units, AlphaMetric metric);

struct Span {
  int64_t start = 0;  // code points, end exclusive
  int64_t end = 0;
};
// Token-free span F1: characters covered by both / characters of each side (overlap
// precision and recall). 1 when both are empty; 0 when one is.
double SpanF1(const std::vector<Span>& a, const std::vector<Span>& b);

struct Segment {
  double start = 0;  // seconds
  double end = 0;
};
// Temporal IoU of two sets of segments: length of the intersection of their unions over
// the length of the union of their unions. 1 when both are empty.
double TemporalIoU(const std::vector<Segment>& a, const std::vector<Segment>& b);

// Agreement of several annotators' payloads on one project: per item with ≥ 2
// annotations, the kind's measure averaged over pairs of annotators, then over items.
// JSON: {"items": n, "kendall_tau_b"?, "krippendorff_alpha"?, "span_f1"?, "temporal_iou"?}
// (a key only where the kind has it and a value is defined). Per kind: ranking, τ-b per
// dimension between two annotators' ranks of the responses both ranked, and α ordinal over
// (item, dimension, response) units; qa-pairs, span F1 of all highlighted spans
// ("entire passage" marks add none: the passage length is not known here; no α, as
// annotators write different questions); video-caption, temporal IoU of the activities;
// image-caption, α interval over the number of objects each annotator marked.
nlohmann::json ProjectAgreement(const ProjectConfig& config,
                                const std::vector<std::vector<nlohmann::json>>& payloads_per_item);

// How well `payload` matches the gold payload, in [0, 1] (1 = the same): ranking, the
// share of gold's pairwise preferences reproduced over all dimensions; qa-pairs, the
// span F1 of all highlighted spans (entire-passage marks count as the whole passage,
// `passage_chars` long); video-caption, temporal IoU; image-caption, the share of gold
// objects with a payload object within 0.05 (x, y distance). 0 for a malformed payload.
double GoldScore(const ProjectConfig& config, const nlohmann::json& gold,
                 const nlohmann::json& payload, int64_t passage_chars);

}  // namespace sagebox::label
