// export.cc: accepted labels as training data (export.h).
//
// The shapes, and where each comes from:
// - gt-manifest: a SageMaker Ground Truth output manifest line: the input line, the label
//   under the label attribute and `<attribute>-metadata` with job-name, type,
//   human-annotated and creation-date, as in the samples of Ground Truth's own output
//   (data/label/groundtruth/output.manifest, object_detection_sample_output.manifest).
// - sft and preference (style "trl"/"messages"/"prompt-completion"): TRL's documentation
//   "Dataset formats and types" (huggingface.co/docs/trl/dataset_formats): conversational
//   language modeling {"messages":[{"role","content"}]}, standard prompt-completion
//   {"prompt","completion"} and standard preference {"prompt","chosen","rejected"}.
// - sft style "openai": OpenAI's chat fine-tuning JSONL {"messages":[{"role","content"}]};
//   preference style "openai": OpenAI's preference fine-tuning (DPO) JSONL
//   {"input":{"messages":[…]},"preferred_output":[{"role":"assistant","content"}],
//   "non_preferred_output":[…]} (developers.openai.com, "Direct preference optimization").
//   OpenAI validates each line's keys, so these lines carry nothing else.
// - coco-captions: the COCO captions file (captions_val2017.json, see
//   data/label/captioning/selected_8_images_captions.json): "images" [{id, file_name}] and
//   "annotations" [{id, image_id, caption}].
// - activitynet: ActivityNet Captions' train.json/val_1.json: {video_id: {"duration",
//   "timestamps":[[start,end]],"sentences":[…]}} (cs.stanford.edu/people/ranjaykrishna/
//   densevid/).
//
// Payloads were checked on submit (project.h CheckPayload), but the export still reads
// them defensively: a malformed one is BadInput naming the item and the annotation,
// never a crash or an exception.
#include "label/export.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/time.h"
#include "label/ranks.h"

namespace sagebox::label {

namespace {

using OJson = nlohmann::ordered_json;

constexpr std::array<std::pair<ExportFormat, std::string_view>, 5> kFormats = {{
    {ExportFormat::kGtManifest, "gt-manifest"},
    {ExportFormat::kSft, "sft"},
    {ExportFormat::kPreference, "preference"},
    {ExportFormat::kCocoCaptions, "coco-captions"},
    {ExportFormat::kActivityNet, "activitynet"},
}};

constexpr std::array<std::pair<PairPolicy, std::string_view>, 3> kPolicies = {{
    {PairPolicy::kAllPairs, "all-pairs"},
    {PairPolicy::kBestVsRest, "best-vs-rest"},
    {PairPolicy::kAdjacent, "adjacent"},
}};

using Sink = std::function<Status(std::string_view)>;

// Text that is not valid UTF-8 (a payload is JSON from the network, but a manifest line
// may carry anything) is replaced rather than thrown on: dump() must not throw here.
template <typename J>
std::string Dump(const J& j) {
  return j.dump(-1, ' ', false, J::error_handler_t::replace);
}

Status EmitLine(const Sink& sink, std::string line) {
  line.push_back('\n');
  return sink(line);
}

std::string Where(const ExportItem& item) { return "item " + std::to_string(item.id); }
std::string Where(const ExportItem& item, const ExportAnnotation& a) {
  return Where(item) + " annotation " + std::to_string(a.id);
}

// The string under `key` of an object, or nullptr when absent or not a string.
const std::string* StringAt(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

std::optional<double> NumberAt(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

const nlohmann::json* ArrayAt(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return nullptr;
  return &*it;
}

// The last path component of a source-ref ("s3://b/x/img.jpg" → "img.jpg").
std::string FileName(std::string_view ref) {
  size_t slash = ref.find_last_of('/');
  return std::string(slash == std::string_view::npos ? ref : ref.substr(slash + 1));
}

std::string FileStem(std::string_view ref) {
  std::string name = FileName(ref);
  size_t dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return name;
}

// Ground Truth writes creation-date as ISO 8601 UTC with microseconds and no zone
// ("2018-10-18T22:18:13.527256" in its output manifests); versions are kept in whole
// seconds, so the fraction is zero but present, for readers that parse it with %f.
std::string GtCreationDate(int64_t unix_seconds) {
  std::string s = FormatTimestamp(unix_seconds);  // 2024-01-31T05:00:00Z
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  return s + ".000000";
}

Status CheckKind(const ProjectConfig& config, ExportFormat format, Kind needed) {
  if (config.kind == needed) return Status::Ok();
  return InvalidArgument("the " + std::string(ExportFormatName(format)) + " export needs a " +
                         std::string(KindName(needed)) + " project; this project is " +
                         std::string(KindName(config.kind)));
}

Status UnknownStyle(ExportFormat format, std::string_view style, std::string_view expected) {
  return InvalidArgument("unknown style '" + std::string(style) + "' for the " +
                         std::string(ExportFormatName(format)) + " export (expected " +
                         std::string(expected) + ")");
}

// ---- gt-manifest ----------------------------------------------------------------------

Status RenderGtManifest(const ProjectConfig& config, const std::vector<ExportItem>& items,
                        const ExportOptions& options, const Sink& sink) {
  std::string attribute = !options.label_attribute.empty()  ? options.label_attribute
                          : !config.label_attribute.empty() ? config.label_attribute
                                                            : options.job_name;
  if (attribute.empty()) {
    return InvalidArgument("the gt-manifest export needs a label attribute (or a job name)");
  }
  const std::string metadata_key = attribute + "-metadata";
  const std::string type = "sagebox/" + std::string(KindName(config.kind));
  for (const ExportItem& item : items) {
    if (!item.line.is_object())
      return BadInput(Where(item) + ": the manifest line is not an object");
    if (item.annotations.empty()) return BadInput(Where(item) + ": no annotation to export");
    // The line's own keys stay (pass-through); nlohmann::json keeps them sorted, so the
    // output is deterministic whatever order the manifest had.
    nlohmann::json out = item.line;
    // Worker, reviewer, rework and seconds lists are aligned with the annotations, for one
    // annotation too, so a reader handles one shape; the label itself is the payload for
    // one annotation (as Ground Truth writes one label) and a list for several.
    nlohmann::json workers = nlohmann::json::array();
    nlohmann::json reviewers = nlohmann::json::array();
    nlohmann::json rework = nlohmann::json::array();
    nlohmann::json seconds = nlohmann::json::array();
    int64_t latest = 0;
    for (const ExportAnnotation& a : item.annotations) {
      workers.push_back(a.worker);
      reviewers.push_back(a.reviewer.empty() ? nlohmann::json() : nlohmann::json(a.reviewer));
      rework.push_back(a.rework_rounds);
      seconds.push_back(a.active_seconds);
      latest = std::max(latest, a.created_at);
    }
    if (item.annotations.size() == 1) {
      out[attribute] = item.annotations.front().payload;
    } else {
      nlohmann::json labels = nlohmann::json::array();
      for (const ExportAnnotation& a : item.annotations) labels.push_back(a.payload);
      out[attribute] = std::move(labels);
    }
    out[metadata_key] = {
        {"job-name", options.job_name},       {"type", type},
        {"human-annotated", "yes"},           {"creation-date", GtCreationDate(latest)},
        {"worker-ids", std::move(workers)},   {"reviewer-ids", std::move(reviewers)},
        {"rework-rounds", std::move(rework)}, {"active-seconds", std::move(seconds)},
    };
    if (Status s = EmitLine(sink, Dump(out)); !s.ok()) return s;
  }
  return Status::Ok();
}

// ---- sft ------------------------------------------------------------------------------

enum class SftStyle { kMessages, kPromptCompletion, kOpenAi };

Status RenderSft(const std::vector<ExportItem>& items, const ExportOptions& options, SftStyle style,
                 const Sink& sink) {
  for (const ExportItem& item : items) {
    const std::string* passage = StringAt(item.line, "source");
    if (!options.closed_book && passage == nullptr) {
      return BadInput(Where(item) +
                      ": no inline `source` passage to use as context (export closed-book)");
    }
    const std::string quoted_passage = passage != nullptr ? Dump(OJson(*passage)) : "";
    for (const ExportAnnotation& a : item.annotations) {
      const nlohmann::json* pairs = ArrayAt(a.payload, "qa_pairs");
      if (pairs == nullptr) return BadInput(Where(item, a) + ": qa_pairs: expected an array");
      for (size_t i = 0; i < pairs->size(); ++i) {
        const nlohmann::json& pair = (*pairs)[i];
        const std::string* question = StringAt(pair, "question");
        const std::string* answer = StringAt(pair, "answer");
        if (question == nullptr || answer == nullptr) {
          return BadInput(Where(item, a) + ": qa_pairs[" + std::to_string(i) +
                          "]: expected string question and answer");
        }
        // With the passage as context the user turn is "{passage}\n\nQuestion: {question}":
        // the passage first, as in reading-comprehension prompts, then the question
        // marked so the model learns where it starts. Closed-book: the question alone.
        // JSON escaping works character by character, so the passage is escaped once per
        // item and spliced with the escaped question (its quotes trimmed) for each pair.
        std::string quoted_question = Dump(OJson(*question));
        std::string user;
        if (options.closed_book) {
          user = std::move(quoted_question);
        } else {
          user.reserve(quoted_passage.size() + quoted_question.size() + 16);
          user.append(quoted_passage, 0, quoted_passage.size() - 1);
          user += R"(\n\nQuestion: )";
          user.append(quoted_question, 1);
        }
        std::string line;
        line.reserve(user.size() + answer->size() + 96);
        if (style == SftStyle::kPromptCompletion) {
          // TRL standard prompt-completion: plain strings.
          line += R"({"prompt":)";
          line += user;
          line += R"(,"completion":)";
          line += Dump(OJson(*answer));
        } else {
          line += R"({"messages":[{"role":"user","content":)";
          line += user;
          line += R"(},{"role":"assistant","content":)";
          line += Dump(OJson(*answer));
          line += "}]";
        }
        // TRL keeps extra columns, so its lines carry the item's id to trace them back;
        // OpenAI rejects unknown keys, so its lines carry nothing else.
        if (style != SftStyle::kOpenAi) {
          line += R"(,"id":)";
          line += std::to_string(item.id);
        }
        line += "}";
        if (Status s = EmitLine(sink, std::move(line)); !s.ok()) return s;
      }
    }
  }
  return Status::Ok();
}

// ---- preference -----------------------------------------------------------------------

enum class PrefStyle { kTrl, kOpenAi };

// The dimensions to export: the project's, else those the payloads name (first seen).
std::vector<std::string> PayloadDimensions(const std::vector<ExportItem>& items) {
  std::vector<std::string> dims;
  for (const ExportItem& item : items) {
    for (const ExportAnnotation& a : item.annotations) {
      const nlohmann::json* rankings = ArrayAt(a.payload, "rankings");
      if (rankings == nullptr) continue;
      for (const nlohmann::json& r : *rankings) {
        const std::string* d = StringAt(r, "dimension");
        if (d != nullptr && std::find(dims.begin(), dims.end(), *d) == dims.end()) {
          dims.push_back(*d);
        }
      }
    }
  }
  return dims;
}

struct Response {
  std::string id;
  std::string quoted;  // the text as a JSON string
};

Status RenderPreferenceItem(const ExportItem& item, const std::vector<std::string>& dims,
                            const ExportOptions& options, PrefStyle style, const Sink& sink) {
  const std::string* prompt = StringAt(item.line, "prompt");
  const nlohmann::json* resp = ArrayAt(item.line, "responses");
  if (prompt == nullptr || resp == nullptr) {
    return BadInput(Where(item) + ": a ranking line needs `prompt` and `responses`");
  }
  std::vector<Response> responses;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < resp->size(); ++i) {
    const nlohmann::json& r = (*resp)[i];
    std::optional<std::string> id =
        r.is_object() && r.contains("id") ? RankId(r["id"]) : std::nullopt;
    const std::string* text = StringAt(r, "text");
    if (!id || text == nullptr) {
      return BadInput(Where(item) + ": responses[" + std::to_string(i) +
                      "]: expected an id and a string text");
    }
    index.emplace(*id, responses.size());
    responses.push_back({std::move(*id), Dump(OJson(*text))});
  }
  const size_t n = responses.size();
  const std::string quoted_prompt = Dump(OJson(*prompt));
  // wins[i * n + j]: annotators who rank response i strictly above response j. One
  // annotator's ranking costs N² here, which is the pairs themselves; nothing is
  // quadratic in the number of items or annotations.
  std::vector<int> wins(n * n);
  std::vector<int> rank(n);
  for (const std::string& dim : dims) {
    std::fill(wins.begin(), wins.end(), 0);
    int annotators = 0;
    for (const ExportAnnotation& a : item.annotations) {
      if (ArrayAt(a.payload, "rankings") == nullptr) {
        return BadInput(Where(item, a) + ": rankings: expected an array");
      }
      const nlohmann::json* ranking = FindRanking(a.payload, dim);
      if (ranking == nullptr) continue;  // this annotator did not rank the dimension
      std::optional<std::unordered_map<std::string, int>> ranks = RankMap(*ranking);
      if (!ranks) {
        return BadInput(Where(item, a) + ": rankings[" + dim +
                        "]: expected order (unique ids) and ties (arrays of ids)");
      }
      std::fill(rank.begin(), rank.end(), -1);  // -1: not ranked by this annotator
      for (const auto& [id, r] : *ranks) {
        auto it = index.find(id);
        if (it == index.end()) {
          std::string m = Where(item, a);
          m += ": rankings[" + dim + "]: unknown response id '";
          m += id;
          m += "'";
          return BadInput(std::move(m));
        }
        rank[it->second] = r;
      }
      ++annotators;
      for (size_t i = 0; i < n; ++i) {
        if (rank[i] < 0) continue;
        for (size_t j = 0; j < n; ++j) {
          if (rank[j] > rank[i]) ++wins[i * n + j];
        }
      }
    }
    if (annotators == 0) continue;
    const std::string quoted_dim = Dump(OJson(dim));
    // The consensus order: Borda count (responses ranked strictly below, summed over
    // annotators), ties broken by the responses' order in the item.
    std::vector<int> borda(n, 0);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) borda[i] += wins[i * n + j];
    }
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return borda[x] > borda[y]; });

    // Emits the pair when a majority of the annotators prefer one side; a tie in votes
    // (including no votes: tied or unranked by everyone) gives no pair.
    auto emit = [&](size_t x, size_t y) -> Status {
      int vx = wins[x * n + y];
      int vy = wins[y * n + x];
      if (vx == vy) return Status::Ok();
      size_t chosen = vx > vy ? x : y;
      size_t rejected = vx > vy ? y : x;
      // The line is spliced from JSON texts escaped once per item (prompt, responses) and
      // once per dimension: the N² pairs repeat them, and re-escaping a long prompt for
      // every pair was most of the export's time. The key order is fixed by the literals.
      std::string line;
      line.reserve(quoted_prompt.size() + responses[chosen].quoted.size() +
                   responses[rejected].quoted.size() + 128);
      if (style == PrefStyle::kTrl) {
        // TRL standard preference: plain strings (the prompt has no chat turns of its own),
        // plus the dimension, the margin: (votes for chosen − votes against) / annotators
        // who ranked the dimension, in (0, 1] with 1 = unanimous, and the item's id.
        const double margin = static_cast<double>(std::abs(vx - vy)) / annotators;
        line += R"({"prompt":)";
        line += quoted_prompt;
        line += R"(,"chosen":)";
        line += responses[chosen].quoted;
        line += R"(,"rejected":)";
        line += responses[rejected].quoted;
        line += R"(,"dimension":)";
        line += quoted_dim;
        line += R"(,"margin":)";
        line += Dump(OJson(margin));
        line += R"(,"id":)";
        line += std::to_string(item.id);
        line += "}";
      } else {
        line += R"({"input":{"messages":[{"role":"user","content":)";
        line += quoted_prompt;
        line += R"(}]},"preferred_output":[{"role":"assistant","content":)";
        line += responses[chosen].quoted;
        line += R"(}],"non_preferred_output":[{"role":"assistant","content":)";
        line += responses[rejected].quoted;
        line += "}]}";
      }
      return EmitLine(sink, std::move(line));
    };

    switch (options.pairs) {
      case PairPolicy::kAllPairs:
        for (size_t i = 0; i < n; ++i) {
          for (size_t j = i + 1; j < n; ++j) {
            if (Status s = emit(order[i], order[j]); !s.ok()) return s;
          }
        }
        break;
      case PairPolicy::kBestVsRest:
        for (size_t j = 1; j < n; ++j) {
          // Only pairs the best response wins by majority.
          if (wins[order[0] * n + order[j]] <= wins[order[j] * n + order[0]]) continue;
          if (Status s = emit(order[0], order[j]); !s.ok()) return s;
        }
        break;
      case PairPolicy::kAdjacent:
        for (size_t j = 1; j < n; ++j) {
          if (Status s = emit(order[j - 1], order[j]); !s.ok()) return s;
        }
        break;
    }
  }
  return Status::Ok();
}

Status RenderPreference(const ProjectConfig& config, const std::vector<ExportItem>& items,
                        const ExportOptions& options, PrefStyle style, const Sink& sink) {
  std::vector<std::string> dims = config.requirements.dimensions;
  if (dims.empty()) dims = PayloadDimensions(items);
  if (!options.dimension.empty()) {
    if (!config.requirements.dimensions.empty() &&
        std::find(dims.begin(), dims.end(), options.dimension) == dims.end()) {
      std::string known;
      for (const std::string& d : dims) known += (known.empty() ? "" : ", ") + d;
      return InvalidArgument("unknown dimension '" + options.dimension +
                             "' (the project's dimensions: " + known + ")");
    }
    dims = {options.dimension};
  }
  for (const ExportItem& item : items) {
    if (Status s = RenderPreferenceItem(item, dims, options, style, sink); !s.ok()) return s;
  }
  return Status::Ok();
}

// ---- coco-captions --------------------------------------------------------------------

Status RenderCoco(const std::vector<ExportItem>& items, const Sink& sink) {
  // One JSON document, handed over in pieces (one image or annotation each) so 100,000
  // captions never sit in one string.
  if (Status s = sink("{\"images\":["); !s.ok()) return s;
  bool first = true;
  for (const ExportItem& item : items) {
    const std::string* ref = StringAt(item.line, "source-ref");
    if (ref == nullptr) return BadInput(Where(item) + ": no source-ref for the image");
    for (const ExportAnnotation& a : item.annotations) {
      if (StringAt(a.payload, "caption") == nullptr) {
        return BadInput(Where(item, a) + ": caption: expected a string");
      }
    }
    OJson image = OJson::object();
    image["id"] = item.id;
    image["file_name"] = FileName(*ref);
    // The line's other keys pass through (width, height, coco_url when the manifest has
    // them), after COCO's own.
    if (item.line.is_object()) {
      for (const auto& [key, value] : item.line.items()) {
        if (key == "id" || key == "file_name" || key == "source-ref") continue;
        image[key] = value;
      }
    }
    if (Status s = sink((first ? "\n" : ",\n") + Dump(image)); !s.ok()) return s;
    first = false;
  }
  if (Status s = sink("\n],\"annotations\":["); !s.ok()) return s;
  first = true;
  for (const ExportItem& item : items) {
    for (const ExportAnnotation& a : item.annotations) {
      OJson ann = OJson::object();
      ann["id"] = a.id;
      ann["image_id"] = item.id;
      ann["caption"] = *StringAt(a.payload, "caption");
      // COCO has no field for the guided framework's objects, relationships and
      // setting; they ride in a "sagebox" block that COCO readers ignore.
      OJson extra = OJson::object();
      for (const char* key : {"objects", "relationships", "setting"}) {
        if (a.payload.contains(key)) extra[key] = a.payload[key];
      }
      ann["sagebox"] = std::move(extra);
      if (Status s = sink((first ? "\n" : ",\n") + Dump(ann)); !s.ok()) return s;
      first = false;
    }
  }
  return sink("\n]}\n");
}

// ---- activitynet ----------------------------------------------------------------------

struct Video {
  std::string id;
  std::string entry;  // the JSON text of {"duration","timestamps","sentences"}
};

StatusOr<Video> ActivityNetVideo(const ExportItem& item) {
  Video v;
  // video_id: the line's `id` when it has one (ActivityNet ids are "v_<youtube id>"),
  // else the source-ref's file stem, else the item's id.
  const nlohmann::json* id = nullptr;
  if (item.line.is_object() && item.line.contains("id")) id = &item.line["id"];
  if (id != nullptr && (id->is_string() || id->is_number_integer())) {
    v.id = id->is_string() ? id->get<std::string>() : id->dump();
  } else if (const std::string* ref = StringAt(item.line, "source-ref"); ref != nullptr) {
    v.id = FileStem(*ref);
  } else {
    v.id = std::to_string(item.id);
  }
  // Several annotators: the first annotation; ActivityNet has one description per video.
  const ExportAnnotation& a = item.annotations.front();
  const nlohmann::json* activities = ArrayAt(a.payload, "activities");
  if (activities == nullptr) return BadInput(Where(item, a) + ": activities: expected an array");
  struct Activity {
    double start, end;
    const std::string* text;
  };
  std::vector<Activity> acts;
  for (size_t i = 0; i < activities->size(); ++i) {
    const nlohmann::json& act = (*activities)[i];
    std::optional<double> start = NumberAt(act, "start");
    std::optional<double> end = NumberAt(act, "end");
    const std::string* text = StringAt(act, "text");
    if (!start || !end || text == nullptr) {
      return BadInput(Where(item, a) + ": activities[" + std::to_string(i) +
                      "]: expected numbers start and end and a string text");
    }
    acts.push_back({*start, *end, text});
  }
  std::stable_sort(acts.begin(), acts.end(), [](const Activity& x, const Activity& y) {
    return x.start < y.start || (x.start == y.start && x.end < y.end);
  });
  // The media's duration from the line; without one, the last activity's end (a lower
  // bound; ActivityNet readers need a number).
  std::optional<double> duration = NumberAt(item.line, "duration");
  if (!duration) {
    double last = 0;
    for (const Activity& act : acts) last = std::max(last, act.end);
    duration = last;
  }
  OJson timestamps = OJson::array();
  OJson sentences = OJson::array();
  for (const Activity& act : acts) {
    timestamps.push_back(OJson::array({act.start, act.end}));
    sentences.push_back(*act.text);
  }
  OJson entry = OJson::object();
  entry["duration"] = *duration;
  entry["timestamps"] = std::move(timestamps);
  entry["sentences"] = std::move(sentences);
  v.entry = Dump(entry);
  return v;
}

Status RenderActivityNet(const std::vector<ExportItem>& items, const Sink& sink) {
  // Every video is read first: two items with one video_id would make a JSON object with
  // a duplicate key, which is refused before anything is written.
  std::unordered_map<std::string, int64_t> seen;
  std::vector<Video> videos;
  videos.reserve(items.size());
  for (const ExportItem& item : items) {
    if (item.annotations.empty()) return BadInput(Where(item) + ": no annotation to export");
    StatusOr<Video> v = ActivityNetVideo(item);
    if (!v.ok()) return v.status();
    auto [it, fresh] = seen.emplace(v->id, item.id);
    if (!fresh) {
      return BadInput(Where(item) + ": video_id '" + v->id + "' is also item " +
                      std::to_string(it->second) + "'s");
    }
    videos.push_back(std::move(*v));
  }
  if (Status s = sink("{"); !s.ok()) return s;
  bool first = true;
  for (const Video& v : videos) {
    if (Status s = sink((first ? "\n" : ",\n") + Dump(OJson(v.id)) + ":" + v.entry); !s.ok()) {
      return s;
    }
    first = false;
  }
  return sink("\n}\n");
}

}  // namespace

StatusOr<ExportFormat> ParseExportFormat(std::string_view name) {
  for (const auto& [f, n] : kFormats) {
    if (n == name) return f;
  }
  return InvalidArgument("unknown export format '" + std::string(name) +
                         "' (expected gt-manifest, sft, preference, coco-captions or activitynet)");
}

std::string_view ExportFormatName(ExportFormat f) {
  for (const auto& [format, n] : kFormats) {
    if (format == f) return n;
  }
  return "?";
}

StatusOr<PairPolicy> ParsePairPolicy(std::string_view name) {
  for (const auto& [p, n] : kPolicies) {
    if (n == name) return p;
  }
  return InvalidArgument("unknown pair policy '" + std::string(name) +
                         "' (expected all-pairs, best-vs-rest or adjacent)");
}

Status RenderExport(const ProjectConfig& config, const std::vector<ExportItem>& items,
                    const ExportOptions& options, const Sink& sink) {
  const ExportFormat f = options.format;
  const std::string& style = options.style;
  switch (f) {
    case ExportFormat::kGtManifest:
      if (!style.empty()) return UnknownStyle(f, style, "none");
      return RenderGtManifest(config, items, options, sink);
    case ExportFormat::kSft: {
      if (Status s = CheckKind(config, f, Kind::kQaPairs); !s.ok()) return s;
      SftStyle st = SftStyle::kMessages;
      if (style == "prompt-completion") {
        st = SftStyle::kPromptCompletion;
      } else if (style == "openai") {
        st = SftStyle::kOpenAi;
      } else if (!style.empty() && style != "messages") {
        return UnknownStyle(f, style, "messages, prompt-completion or openai");
      }
      return RenderSft(items, options, st, sink);
    }
    case ExportFormat::kPreference: {
      if (Status s = CheckKind(config, f, Kind::kRanking); !s.ok()) return s;
      PrefStyle st = PrefStyle::kTrl;
      if (style == "openai") {
        st = PrefStyle::kOpenAi;
      } else if (!style.empty() && style != "trl") {
        return UnknownStyle(f, style, "trl or openai");
      }
      return RenderPreference(config, items, options, st, sink);
    }
    case ExportFormat::kCocoCaptions:
      if (Status s = CheckKind(config, f, Kind::kImageCaption); !s.ok()) return s;
      if (!style.empty()) return UnknownStyle(f, style, "none");
      return RenderCoco(items, sink);
    case ExportFormat::kActivityNet:
      if (Status s = CheckKind(config, f, Kind::kVideoCaption); !s.ok()) return s;
      if (!style.empty()) return UnknownStyle(f, style, "none");
      return RenderActivityNet(items, sink);
  }
  return InvalidArgument("unknown export format");
}

}  // namespace sagebox::label
