// agreement.cc: agreement between annotators and with gold (agreement.h).
//
// Kendall's τ-b follows scipy.stats.kendalltau's default (variant "b": pairs tied on one
// side count in that side's denominator term, pairs tied on both sides are left out).
// Krippendorff's α follows Krippendorff (2011), "Computing Krippendorff's
// Alpha-Reliability" (repository.upenn.edu/asc_papers/43): values in coincidence, the
// observed disagreement D_o over pairable values, the expected D_e from the values'
// marginals n_c, α = 1 − D_o / D_e, with the nominal, ordinal and interval δ².
#include "label/agreement.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "label/ranks.h"

namespace sagebox::label {

namespace {

int Sign(double v) { return (v > 0) - (v < 0); }

template <typename T>
double Length(const std::vector<std::pair<T, T>>& merged) {
  double total = 0;
  for (const auto& [s, e] : merged) total += static_cast<double>(e - s);
  return total;
}

// Sorted, disjoint union of [start, end) intervals; empty or inverted ones dropped.
template <typename T>
std::vector<std::pair<T, T>> Merge(std::vector<std::pair<T, T>> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](const auto& p) { return !(p.first < p.second); }),
          v.end());
  std::sort(v.begin(), v.end());
  std::vector<std::pair<T, T>> out;
  for (const auto& p : v) {
    if (!out.empty() && p.first <= out.back().second) {
      out.back().second = std::max(out.back().second, p.second);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

// Length of the intersection of two merged interval lists (one linear sweep).
template <typename T>
double Overlap(const std::vector<std::pair<T, T>>& a, const std::vector<std::pair<T, T>>& b) {
  double total = 0;
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    T lo = std::max(a[i].first, b[j].first);
    T hi = std::min(a[i].second, b[j].second);
    if (lo < hi) total += static_cast<double>(hi - lo);
    if (a[i].second < b[j].second) {
      ++i;
    } else {
      ++j;
    }
  }
  return total;
}

const nlohmann::json* ArrayAt(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return nullptr;
  return &*it;
}

std::optional<double> NumberAt(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// Every highlighted span of a qa-pairs payload; a pair marked "references entire
// passage" counts as [0, passage_chars). nullopt for a malformed payload.
std::optional<std::vector<Span>> SpansOf(const nlohmann::json& payload, int64_t passage_chars) {
  const nlohmann::json* pairs = ArrayAt(payload, "qa_pairs");
  if (pairs == nullptr) return std::nullopt;
  std::vector<Span> spans;
  for (const nlohmann::json& pair : *pairs) {
    if (!pair.is_object()) return std::nullopt;
    auto entire = pair.find("refs_entire_passage");
    if (entire != pair.end() && entire->is_boolean() && entire->get<bool>()) {
      if (passage_chars > 0) spans.push_back({0, passage_chars});
      continue;
    }
    const nlohmann::json* list = ArrayAt(pair, "spans");
    if (list == nullptr) continue;  // a pair without spans highlights nothing
    for (const nlohmann::json& s : *list) {
      std::optional<double> start = NumberAt(s, "start");
      std::optional<double> end = NumberAt(s, "end");
      if (!start || !end) return std::nullopt;
      spans.push_back({static_cast<int64_t>(*start), static_cast<int64_t>(*end)});
    }
  }
  return spans;
}

// The activities of a video-caption payload as segments; nullopt when malformed.
std::optional<std::vector<Segment>> SegmentsOf(const nlohmann::json& payload) {
  const nlohmann::json* acts = ArrayAt(payload, "activities");
  if (acts == nullptr) return std::nullopt;
  std::vector<Segment> segs;
  for (const nlohmann::json& a : *acts) {
    std::optional<double> start = NumberAt(a, "start");
    std::optional<double> end = NumberAt(a, "end");
    if (!start || !end) return std::nullopt;
    segs.push_back({*start, *end});
  }
  return segs;
}

// The ranking dimensions: the project's, else every dimension the payloads name.
std::vector<std::string> Dimensions(const ProjectConfig& config,
                                    const std::vector<std::vector<nlohmann::json>>& items) {
  if (!config.requirements.dimensions.empty()) return config.requirements.dimensions;
  std::vector<std::string> dims;
  for (const auto& payloads : items) {
    for (const nlohmann::json& p : payloads) {
      const nlohmann::json* rankings = ArrayAt(p, "rankings");
      if (rankings == nullptr) continue;
      for (const nlohmann::json& r : *rankings) {
        if (!r.is_object()) continue;
        auto d = r.find("dimension");
        if (d == r.end() || !d->is_string()) continue;
        const auto& name = d->get_ref<const std::string&>();
        if (std::find(dims.begin(), dims.end(), name) == dims.end()) dims.push_back(name);
      }
    }
  }
  return dims;
}

// Running mean that skips undefined values.
struct Mean {
  double sum = 0;
  int n = 0;
  void Add(double v) {
    sum += v;
    ++n;
  }
  std::optional<double> Get() const {
    return n == 0 ? std::nullopt : std::optional<double>(sum / n);
  }
};

}  // namespace

std::optional<double> KendallTauB(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return std::nullopt;
  // O(n²) over pairs: rankings here have a handful of responses, where Knight's
  // O(n log n) algorithm would buy nothing.
  int64_t concordant = 0;
  int64_t discordant = 0;
  int64_t tied_x = 0;  // tied in x only
  int64_t tied_y = 0;  // tied in y only
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = i + 1; j < x.size(); ++j) {
      int dx = Sign(x[i] - x[j]);
      int dy = Sign(y[i] - y[j]);
      if (dx == 0 && dy == 0) continue;
      if (dx == 0) {
        ++tied_x;
      } else if (dy == 0) {
        ++tied_y;
      } else if (dx == dy) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  }
  const double untied = static_cast<double>(concordant + discordant);
  const double denom =
      std::sqrt((untied + static_cast<double>(tied_x)) * (untied + static_cast<double>(tied_y)));
  if (denom == 0) return std::nullopt;
  return static_cast<double>(concordant - discordant) / denom;
}

std::optional<double> KrippendorffAlpha(
    const std::vector<std::vector<std::optional<double>>>& units, AlphaMetric metric) {
  // The distinct values of pairable units and their marginals n_c (for a pairable unit,
  // a value's row of the coincidence matrix sums to its count in the unit).
  std::map<double, double> marginal;
  for (const auto& unit : units) {
    int m = 0;
    for (const auto& v : unit) m += v.has_value();
    if (m < 2) continue;
    for (const auto& v : unit) {
      if (v) marginal[*v] += 1;
    }
  }
  if (marginal.empty()) return std::nullopt;
  std::vector<double> values;
  std::vector<double> n_c;
  for (const auto& [v, n] : marginal) {
    values.push_back(v);
    n_c.push_back(n);
  }
  // prefix[i] = Σ_{g<i} n_g, for the ordinal metric's Σ_{g=c}^{k} n_g.
  std::vector<double> prefix(values.size() + 1, 0);
  for (size_t i = 0; i < values.size(); ++i) prefix[i + 1] = prefix[i] + n_c[i];
  const double n = prefix.back();
  auto index_of = [&](double v) {
    return static_cast<size_t>(std::lower_bound(values.begin(), values.end(), v) - values.begin());
  };
  // δ²(c, k) by value index (Krippendorff 2011, "difference functions").
  auto delta2 = [&](size_t c, size_t k) -> double {
    if (c == k) return 0;
    switch (metric) {
      case AlphaMetric::kNominal:
        return 1;
      case AlphaMetric::kInterval: {
        double d = values[c] - values[k];
        return d * d;
      }
      case AlphaMetric::kOrdinal: {
        size_t lo = std::min(c, k);
        size_t hi = std::max(c, k);
        double d = prefix[hi + 1] - prefix[lo] - (n_c[lo] + n_c[hi]) / 2;
        return d * d;
      }
    }
    return 0;
  };
  // Σ_c Σ_k o_ck δ²_ck, unit by unit: each ordered pair of a unit's values weighs
  // 1 / (m_u − 1).
  double observed = 0;
  std::vector<size_t> idx;
  for (const auto& unit : units) {
    idx.clear();
    for (const auto& v : unit) {
      if (v) idx.push_back(index_of(*v));
    }
    if (idx.size() < 2) continue;
    double sum = 0;
    for (size_t i = 0; i < idx.size(); ++i) {
      for (size_t j = 0; j < idx.size(); ++j) {
        if (i != j) sum += delta2(idx[i], idx[j]);
      }
    }
    observed += sum / static_cast<double>(idx.size() - 1);
  }
  // Σ_c Σ_k n_c n_k δ²_ck: O(V²) in the distinct values.
  double expected = 0;
  for (size_t c = 0; c < values.size(); ++c) {
    for (size_t k = 0; k < values.size(); ++k) expected += n_c[c] * n_c[k] * delta2(c, k);
  }
  if (expected == 0) return std::nullopt;
  // α = 1 − D_o / D_e with D_o = observed / n and D_e = expected / (n (n − 1)).
  return 1 - (n - 1) * observed / expected;
}

double SpanF1(const std::vector<Span>& a, const std::vector<Span>& b) {
  std::vector<std::pair<int64_t, int64_t>> ra;
  std::vector<std::pair<int64_t, int64_t>> rb;
  ra.reserve(a.size());
  rb.reserve(b.size());
  for (const Span& s : a) ra.emplace_back(s.start, s.end);
  for (const Span& s : b) rb.emplace_back(s.start, s.end);
  ra = Merge(std::move(ra));
  rb = Merge(std::move(rb));
  const double la = Length(ra);
  const double lb = Length(rb);
  if (la == 0 && lb == 0) return 1;
  if (la == 0 || lb == 0) return 0;
  const double both = Overlap(ra, rb);
  if (both == 0) return 0;
  const double precision = both / la;
  const double recall = both / lb;
  return 2 * precision * recall / (precision + recall);
}

double TemporalIoU(const std::vector<Segment>& a, const std::vector<Segment>& b) {
  std::vector<std::pair<double, double>> ra;
  std::vector<std::pair<double, double>> rb;
  ra.reserve(a.size());
  rb.reserve(b.size());
  for (const Segment& s : a) ra.emplace_back(s.start, s.end);
  for (const Segment& s : b) rb.emplace_back(s.start, s.end);
  ra = Merge(std::move(ra));
  rb = Merge(std::move(rb));
  const double both = Overlap(ra, rb);
  const double either = Length(ra) + Length(rb) - both;
  if (either == 0) return 1;
  return both / either;
}

nlohmann::json ProjectAgreement(const ProjectConfig& config,
                                const std::vector<std::vector<nlohmann::json>>& payloads_per_item) {
  int items = 0;
  for (const auto& payloads : payloads_per_item) items += payloads.size() >= 2;
  nlohmann::json out = {{"items", items}};
  Mean per_item;  // the kind's pairwise measure: mean over pairs, then over items
  switch (config.kind) {
    case Kind::kRanking: {
      // τ-b per dimension between each two annotators' rank vectors (over the responses
      // both ranked), and α ordinal over (item, dimension, response) units whose values
      // are the annotators' ranks.
      const std::vector<std::string> dims = Dimensions(config, payloads_per_item);
      std::vector<std::vector<std::optional<double>>> units;
      for (const auto& payloads : payloads_per_item) {
        if (payloads.size() < 2) continue;
        Mean item_mean;
        for (const std::string& dim : dims) {
          std::vector<std::unordered_map<std::string, int>> ranks;
          for (const nlohmann::json& p : payloads) {
            const nlohmann::json* r = FindRanking(p, dim);
            auto m = r != nullptr ? RankMap(*r) : std::nullopt;
            ranks.push_back(m ? std::move(*m) : std::unordered_map<std::string, int>());
          }
          for (size_t a = 0; a < ranks.size(); ++a) {
            for (size_t b = a + 1; b < ranks.size(); ++b) {
              std::vector<double> x;
              std::vector<double> y;
              for (const auto& [id, ra] : ranks[a]) {
                auto it = ranks[b].find(id);
                if (it == ranks[b].end()) continue;
                x.push_back(ra);
                y.push_back(it->second);
              }
              if (auto tau = KendallTauB(x, y)) item_mean.Add(*tau);
            }
          }
          // The responses anyone ranked, in a stable order (sorted ids).
          std::map<std::string, std::vector<std::optional<double>>> by_response;
          for (size_t a = 0; a < ranks.size(); ++a) {
            for (const auto& [id, r] : ranks[a]) {
              auto& unit = by_response[id];
              unit.resize(ranks.size());
              unit[a] = r;
            }
          }
          for (auto& [id, unit] : by_response) units.push_back(std::move(unit));
        }
        if (auto m = item_mean.Get()) per_item.Add(*m);
      }
      if (auto tau = per_item.Get()) out["kendall_tau_b"] = *tau;
      if (auto alpha = KrippendorffAlpha(units, AlphaMetric::kOrdinal)) {
        out["krippendorff_alpha"] = *alpha;
      }
      break;
    }
    case Kind::kQaPairs: {
      // Span F1 between each two annotators' highlighted spans. No α: annotators write
      // their own questions, so there is no shared unit to code (question types of
      // different questions are not ratings of one thing). Without the passage's length
      // here, "entire passage" marks add no span.
      for (const auto& payloads : payloads_per_item) {
        if (payloads.size() < 2) continue;
        std::vector<std::optional<std::vector<Span>>> spans;
        spans.reserve(payloads.size());
        for (const nlohmann::json& p : payloads) spans.push_back(SpansOf(p, 0));
        Mean item_mean;
        for (size_t a = 0; a < spans.size(); ++a) {
          for (size_t b = a + 1; b < spans.size(); ++b) {
            if (spans[a] && spans[b]) item_mean.Add(SpanF1(*spans[a], *spans[b]));
          }
        }
        if (auto m = item_mean.Get()) per_item.Add(*m);
      }
      if (auto f1 = per_item.Get()) out["span_f1"] = *f1;
      break;
    }
    case Kind::kVideoCaption: {
      // Temporal IoU between each two annotators' activity segments; no α (segments of
      // different annotators are not one unit each).
      for (const auto& payloads : payloads_per_item) {
        if (payloads.size() < 2) continue;
        std::vector<std::optional<std::vector<Segment>>> segs;
        segs.reserve(payloads.size());
        for (const nlohmann::json& p : payloads) segs.push_back(SegmentsOf(p));
        Mean item_mean;
        for (size_t a = 0; a < segs.size(); ++a) {
          for (size_t b = a + 1; b < segs.size(); ++b) {
            if (segs[a] && segs[b]) item_mean.Add(TemporalIoU(*segs[a], *segs[b]));
          }
        }
        if (auto m = item_mean.Get()) per_item.Add(*m);
      }
      if (auto iou = per_item.Get()) out["temporal_iou"] = *iou;
      break;
    }
    case Kind::kImageCaption: {
      // α interval over the number of objects each annotator marked per item: the one
      // quantity of the guided framework every annotator codes for the same unit.
      std::vector<std::vector<std::optional<double>>> units;
      for (const auto& payloads : payloads_per_item) {
        if (payloads.size() < 2) continue;
        std::vector<std::optional<double>> unit;
        for (const nlohmann::json& p : payloads) {
          const nlohmann::json* objects = ArrayAt(p, "objects");
          unit.push_back(objects != nullptr
                             ? std::optional<double>(static_cast<double>(objects->size()))
                             : std::nullopt);
        }
        units.push_back(std::move(unit));
      }
      if (auto alpha = KrippendorffAlpha(units, AlphaMetric::kInterval)) {
        out["krippendorff_alpha"] = *alpha;
      }
      break;
    }
  }
  return out;
}

double GoldScore(const ProjectConfig& config, const nlohmann::json& gold,
                 const nlohmann::json& payload, int64_t passage_chars) {
  switch (config.kind) {
    case Kind::kRanking: {
      const nlohmann::json* gold_rankings = ArrayAt(gold, "rankings");
      if (gold_rankings == nullptr || ArrayAt(payload, "rankings") == nullptr) return 0;
      int64_t total = 0;
      int64_t kept = 0;
      for (const nlohmann::json& g : *gold_rankings) {
        if (!g.is_object() || !g.contains("dimension") || !g["dimension"].is_string()) continue;
        auto gold_ranks = RankMap(g);
        if (!gold_ranks) continue;
        const nlohmann::json* p = FindRanking(payload, g["dimension"].get<std::string>());
        auto ranks = p != nullptr ? RankMap(*p) : std::nullopt;
        for (const auto& [a, ra] : *gold_ranks) {
          for (const auto& [b, rb] : *gold_ranks) {
            if (ra >= rb) continue;  // gold prefers a over b
            ++total;
            if (!ranks) continue;
            auto pa = ranks->find(a);
            auto pb = ranks->find(b);
            if (pa != ranks->end() && pb != ranks->end() && pa->second < pb->second) ++kept;
          }
        }
      }
      // Gold with no preference at all (everything tied) has nothing to reproduce.
      return total == 0 ? 1.0 : static_cast<double>(kept) / static_cast<double>(total);
    }
    case Kind::kQaPairs: {
      auto g = SpansOf(gold, passage_chars);
      auto p = SpansOf(payload, passage_chars);
      if (!g || !p) return 0;
      return SpanF1(*g, *p);
    }
    case Kind::kVideoCaption: {
      auto g = SegmentsOf(gold);
      auto p = SegmentsOf(payload);
      if (!g || !p) return 0;
      return TemporalIoU(*g, *p);
    }
    case Kind::kImageCaption: {
      const nlohmann::json* g = ArrayAt(gold, "objects");
      const nlohmann::json* p = ArrayAt(payload, "objects");
      if (g == nullptr || p == nullptr) return 0;
      if (g->empty()) return 1;
      std::vector<std::pair<double, double>> marks;
      for (const nlohmann::json& o : *p) {
        auto x = NumberAt(o, "x");
        auto y = NumberAt(o, "y");
        if (!x || !y) return 0;
        marks.emplace_back(*x, *y);
      }
      // One payload object matches at most one gold object (the nearest unused one), so
      // one dot cannot stand for two gold objects.
      std::vector<bool> used(marks.size(), false);
      int found = 0;
      constexpr double kRadius = 0.05;
      for (const nlohmann::json& o : *g) {
        auto x = NumberAt(o, "x");
        auto y = NumberAt(o, "y");
        if (!x || !y) return 0;
        double best = kRadius * kRadius;
        std::optional<size_t> pick;
        for (size_t i = 0; i < marks.size(); ++i) {
          if (used[i]) continue;
          double dx = marks[i].first - *x;
          double dy = marks[i].second - *y;
          double d2 = dx * dx + dy * dy;
          if (d2 <= best) {
            best = d2;
            pick = i;
          }
        }
        if (pick) {
          used[*pick] = true;
          ++found;
        }
      }
      return static_cast<double>(found) / static_cast<double>(g->size());
    }
  }
  return 0;
}

}  // namespace sagebox::label
