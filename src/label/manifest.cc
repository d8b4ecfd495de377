// manifest.cc: Ground Truth input manifests and the public datasets' converters
// (manifest.h).
//
// All input here is a user's file or a request body: JSON is parsed with nlohmann's
// parser (its parse_error names the column), and every value's type is tested before
// it is read, so a malformed file is a BadInput naming file:line and the field.
#include "label/manifest.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "core/json_type.h"

namespace sagebox::label {

namespace {

using nlohmann::json;

// OpenAssistant trees are a few turns deep; a cap keeps a crafted file from
// exhausting the stack in the recursive walk.
constexpr int kMaxTreeDepth = 200;

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string ParseErrorText(const json::exception& e) {
  std::string m = e.what();
  if (!m.empty() && m.front() == '[') {
    const size_t close = m.find("] ");
    if (close != std::string::npos) m.erase(0, close + 2);
  }
  return m;
}

// Parses one JSON text; the parser's message (with its column) in *error otherwise.
std::optional<json> ParseJson(std::string_view text, std::string* error) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    *error = ParseErrorText(e);
    return std::nullopt;
  }
}

// Calls fn(line_no, line) for each non-blank line of `text` ('\n' or "\r\n" ends a
// line); stops at the first error.
template <typename Fn>
Status ForEachLine(std::string_view text, Fn fn) {
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r\f\v") == std::string_view::npos) continue;
    RETURN_IF_ERROR(fn(line_no, line));
  }
  return Status::Ok();
}

// The scheme of a URL-like source-ref ("s3", "https"), or "" for a path.
std::string Scheme(std::string_view ref) {
  const size_t colon = ref.find("://");
  if (colon == std::string_view::npos || colon == 0) return "";
  for (size_t i = 0; i < colon; ++i) {
    const char c = ref[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '-' || c == '.')) {
      return "";
    }
  }
  return std::string(ref.substr(0, colon));
}

// One manifest line checked into *out; BadInput text (without the file:line prefix)
// otherwise.
std::optional<std::string> CheckLine(Env* env, const std::string& folder,
                                     const ProjectConfig& config, json line, ManifestLine* out) {
  if (!line.is_object()) return "expected a JSON object, got " + JsonTypeName(line);
  if (auto g = line.find("gold"); g != line.end()) {
    out->gold = std::move(*g);
    line.erase(g);
  }
  auto source = line.find("source");
  auto ref = line.find("source-ref");
  const bool has_source = source != line.end();
  const bool has_ref = ref != line.end();
  if (has_source && has_ref) {
    return std::string("both source and source-ref: a line has one or the other");
  }
  if (has_source) {
    if (!source->is_string())
      return "source: expected a string (the text), got " + JsonTypeName(*source);
    out->source_text = source->get<std::string>();
  }
  if (has_ref) {
    if (!ref->is_string() || ref->get_ref<const std::string&>().empty()) {
      return "source-ref: expected a path to a local file, got " +
             (ref->is_string() ? std::string("\"\"") : JsonTypeName(*ref));
    }
    const std::string r = ref->get<std::string>();
    const std::string scheme = Scheme(r);
    if (!scheme.empty()) {
      return "source-ref '" + r + "' is a remote " + scheme +
             ":// URL, which sagebox cannot fetch; copy the media next to the manifest (e.g. "
             "`aws s3 cp`) and refer to it by its local path";
    }
    const std::string path = JoinPath(folder, r);
    if (!env->Exists(path) || env->IsDirectory(path)) {
      return "source-ref '" + r + "': no such file (looked for " + path + ")";
    }
    out->media_path = path;
  }
  switch (config.kind) {
    case Kind::kQaPairs:
      if (!has_source) return std::string("a qa-pairs line needs `source` (the passage text)");
      if (out->source_text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return std::string("source: the passage is empty");
      }
      break;
    case Kind::kImageCaption:
    case Kind::kVideoCaption:
      if (!has_ref) {
        return (config.kind == Kind::kImageCaption ? "an " : "a ") +
               std::string(KindName(config.kind)) +
               " line needs `source-ref` (the path of the media file)";
      }
      break;
    case Kind::kRanking:
      break;
  }
  if (config.kind != Kind::kRanking && !has_source && !has_ref) {
    return std::string("no source or source-ref");
  }
  if (auto d = line.find("duration"); d != line.end()) {
    if (!d->is_number() || !(d->get<double>() >= 0)) {
      return "duration: expected a number of seconds >= 0, got " + d->dump();
    }
    out->duration_seconds = d->get<double>();
  }
  if (config.kind == Kind::kRanking) {
    auto prompt = line.find("prompt");
    if (prompt == line.end() || !prompt->is_string() ||
        prompt->get_ref<const std::string&>().empty()) {
      return std::string("a ranking line needs `prompt`, a non-empty string");
    }
    auto responses = line.find("responses");
    if (responses == line.end() || !responses->is_array()) {
      return std::string("a ranking line needs `responses`, an array of {\"id\",\"text\"}");
    }
    if (responses->size() < 2) {
      return "responses: " + std::to_string(responses->size()) +
             " response(s), a ranking needs at least 2";
    }
    if (config.responses > 0 && static_cast<int>(responses->size()) != config.responses) {
      return "responses: " + std::to_string(responses->size()) + " responses, the project ranks " +
             std::to_string(config.responses) + " per item";
    }
    std::set<std::string> ids;
    for (size_t i = 0; i < responses->size(); ++i) {
      const json& r = (*responses)[i];
      const std::string at = "responses[" + std::to_string(i) + "]";
      if (!r.is_object())
        return at + ": expected an object {\"id\",\"text\"}, got " + JsonTypeName(r);
      auto id = r.find("id");
      if (id == r.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
        return at + ".id: expected a non-empty string";
      }
      if (!ids.insert(id->get<std::string>()).second) {
        return at + ".id: '" + id->get<std::string>() + "' is used by two responses";
      }
      auto text = r.find("text");
      if (text == r.end() || !text->is_string()) return at + ".text: expected a string";
      auto model = r.find("model");
      if (model != r.end() && !model->is_string() && !model->is_null()) {
        return at + ".model: expected a string, got " + JsonTypeName(*model);
      }
    }
  }
  out->line = std::move(line);
  if (out->gold) {
    ItemView item;
    item.line = &out->line;
    item.text = out->source_text;
    item.duration_seconds = out->duration_seconds;
    const std::vector<Failure> failures = CheckPayload(config, item, *out->gold);
    if (!failures.empty()) {
      std::string m = "gold: the gold payload fails the project's checks: ";
      for (size_t i = 0; i < failures.size(); ++i) {
        const Failure& f = failures[i];
        if (i > 0) m += "; ";
        m += f.requirement + (f.path.empty() ? "" : " at " + f.path) + ": " + f.message;
      }
      return m;
    }
  }
  return std::nullopt;
}

struct Turn {
  std::string role;
  std::string text;
};

// Walks one OpenAssistant message and its replies, appending a ranking item for every
// prompter message with ≥ 2 ranked assistant replies. `history` holds the turns above.
Status WalkOasst(const json& msg, const std::string& path, const std::string& where,
                 const std::string& tree_id, std::vector<Turn>* history, int depth,
                 std::vector<json>* out) {
  auto bad = [&](const std::string& field, const std::string& what) {
    return BadInput(where + ": " + path + (field.empty() ? "" : "." + field) + ": " + what);
  };
  if (depth > kMaxTreeDepth) {
    return bad("", "the tree is deeper than " + std::to_string(kMaxTreeDepth) + " messages");
  }
  if (!msg.is_object()) return bad("", "expected a message object, got " + JsonTypeName(msg));
  auto str = [&](const char* key, std::string* v) -> Status {
    auto it = msg.find(key);
    if (it == msg.end() || !it->is_string()) {
      return bad(key, "expected a string, got " +
                          (it == msg.end() ? std::string("nothing") : JsonTypeName(*it)));
    }
    *v = it->get<std::string>();
    return Status::Ok();
  };
  Turn turn;
  std::string id;
  RETURN_IF_ERROR(str("message_id", &id));
  RETURN_IF_ERROR(str("role", &turn.role));
  RETURN_IF_ERROR(str("text", &turn.text));
  const json empty = json::array();
  const json* replies = &empty;
  if (auto it = msg.find("replies"); it != msg.end() && !it->is_null()) {
    if (!it->is_array()) return bad("replies", "expected an array, got " + JsonTypeName(*it));
    replies = &*it;
  }
  const auto deleted = [](const json& m) {
    auto d = m.find("deleted");
    return d != m.end() && d->is_boolean() && d->get<bool>();
  };
  if (turn.role == "prompter" && !deleted(msg)) {
    // Only ranked replies: an unranked one has no human preference to compare with.
    // Responses are sorted by message_id (a random UUID), so their position on the
    // annotator's screen does not give the dataset's ranking away.
    std::vector<std::pair<std::string, const json*>> ranked;
    json ranks = json::object();
    for (size_t i = 0; i < replies->size(); ++i) {
      const json& r = (*replies)[i];
      if (!r.is_object() || deleted(r)) continue;
      auto role = r.find("role");
      auto rank = r.find("rank");
      auto rid = r.find("message_id");
      if (role == r.end() || *role != "assistant" || rank == r.end() || rank->is_null()) continue;
      const std::string rpath = path + ".replies[" + std::to_string(i) + "]";
      // "<where>: <reply path>.<field>: <what>".
      auto bad_reply = [&](const char* field, const std::string& what) {
        std::string m = where;
        m += ": ";
        m += rpath;
        m += field;
        m += ": ";
        m += what;
        return BadInput(std::move(m));
      };
      if (!rank->is_number_integer() || rank->get<int64_t>() < 0) {
        return bad_reply(".rank", "expected an integer >= 0 (0 = best), got " + rank->dump());
      }
      if (rid == r.end() || !rid->is_string() || rid->get_ref<const std::string&>().empty()) {
        return bad_reply(".message_id", "expected a non-empty string");
      }
      auto text = r.find("text");
      if (text == r.end() || !text->is_string()) {
        return bad_reply(".text", "expected a string");
      }
      if (ranks.contains(rid->get<std::string>())) {
        return bad_reply(".message_id", "'" + rid->get<std::string>() + "' is used by two replies");
      }
      ranks[rid->get<std::string>()] = rank->get<int64_t>();
      ranked.emplace_back(rid->get<std::string>(), &r);
    }
    if (ranked.size() >= 2) {
      if (turn.text.empty()) return bad("text", "the prompt of a ranked reply is empty");
      std::sort(ranked.begin(), ranked.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      json responses = json::array();
      for (const auto& [rid, r] : ranked) {
        auto model = r->find("model_name");
        responses.push_back(
            {{"id", rid},
             {"text", (*r)["text"]},
             {"model", model != r->end() && model->is_string() ? *model : json("")}});
      }
      json item = {{"prompt", turn.text},
                   {"responses", std::move(responses)},
                   {"message_tree_id", tree_id},
                   {"message_id", id},
                   {"human_ranks", std::move(ranks)}};
      if (!history->empty()) {
        json h = json::array();
        for (const Turn& t : *history) h.push_back({{"role", t.role}, {"text", t.text}});
        item["history"] = std::move(h);
      }
      out->push_back(std::move(item));
    }
  }
  history->push_back(std::move(turn));
  for (size_t i = 0; i < replies->size(); ++i) {
    RETURN_IF_ERROR(WalkOasst((*replies)[i], path + ".replies[" + std::to_string(i) + "]", where,
                              tree_id, history, depth + 1, out));
  }
  history->pop_back();
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<ManifestLine>> ParseManifest(Env* env, std::string_view text,
                                                  std::string_view file_name,
                                                  const ProjectConfig& config) {
  const std::string file(file_name);
  const std::string folder = Dirname(file_name);
  std::vector<ManifestLine> lines;
  RETURN_IF_ERROR(ForEachLine(text, [&](int line_no, std::string_view line) -> Status {
    const std::string where = file + ":" + std::to_string(line_no) + ": ";
    std::string error;
    std::optional<json> j = ParseJson(line, &error);
    if (!j) return BadInput(where + "not JSON: " + error);
    ManifestLine out;
    out.line_no = line_no;
    if (auto bad = CheckLine(env, folder, config, std::move(*j), &out)) {
      return BadInput(where + *bad);
    }
    lines.push_back(std::move(out));
    return Status::Ok();
  }));
  if (lines.empty()) return BadInput(file + ": the manifest has no items (no non-blank line)");
  return lines;
}

StatusOr<std::vector<nlohmann::json>> ConvertOasstTrees(std::string_view text,
                                                        std::string_view file_name) {
  const std::string file(file_name);
  std::vector<json> out;
  RETURN_IF_ERROR(ForEachLine(text, [&](int line_no, std::string_view line) -> Status {
    const std::string where = file + ":" + std::to_string(line_no);
    std::string error;
    std::optional<json> tree = ParseJson(line, &error);
    if (!tree) return BadInput(where + ": not JSON: " + error);
    if (!tree->is_object()) {
      return BadInput(where + ": expected a message tree object, got " + JsonTypeName(*tree));
    }
    auto id = tree->find("message_tree_id");
    if (id == tree->end() || !id->is_string()) {
      return BadInput(where + ": message_tree_id: expected a string");
    }
    auto prompt = tree->find("prompt");
    if (prompt == tree->end()) {
      return BadInput(where + ": prompt: expected the tree's root message, got nothing");
    }
    std::vector<Turn> history;
    return WalkOasst(*prompt, "prompt", where, id->get<std::string>(), &history, 0, &out);
  }));
  return out;
}

StatusOr<std::vector<nlohmann::json>> ConvertSquad(std::string_view text,
                                                   std::string_view file_name) {
  const std::string file(file_name);
  std::string error;
  std::optional<json> doc = ParseJson(text, &error);
  if (!doc) return BadInput(file + ": not JSON: " + error);
  auto bad = [&](const std::string& path, const std::string& what) {
    return BadInput(file + ": " + path + ": " + what);
  };
  if (!doc->is_object()) return bad("(top)", "expected an object {\"data\": [...]}");
  auto data = doc->find("data");
  if (data == doc->end() || !data->is_array()) {
    return bad("data", "expected an array of articles");
  }
  std::vector<json> out;
  for (size_t a = 0; a < data->size(); ++a) {
    const json& article = (*data)[a];
    const std::string apath = "data[" + std::to_string(a) + "]";
    if (!article.is_object())
      return bad(apath, "expected an article object, got " + JsonTypeName(article));
    std::string title;
    if (auto t = article.find("title"); t != article.end()) {
      if (!t->is_string())
        return bad(apath + ".title", "expected a string, got " + JsonTypeName(*t));
      title = t->get<std::string>();
    }
    auto paragraphs = article.find("paragraphs");
    if (paragraphs == article.end() || !paragraphs->is_array()) {
      return bad(apath + ".paragraphs", "expected an array of paragraphs");
    }
    for (size_t p = 0; p < paragraphs->size(); ++p) {
      const json& para = (*paragraphs)[p];
      const std::string ppath = apath + ".paragraphs[" + std::to_string(p) + "]";
      if (!para.is_object())
        return bad(ppath, "expected a paragraph object, got " + JsonTypeName(para));
      auto context = para.find("context");
      if (context == para.end() || !context->is_string()) {
        return bad(ppath + ".context", "expected a string (the passage)");
      }
      json qas = json::array();
      if (auto q = para.find("qas"); q != para.end()) {
        if (!q->is_array())
          return bad(ppath + ".qas", "expected an array, got " + JsonTypeName(*q));
        qas = *q;
      }
      out.push_back({{"source", *context},
                     {"title", title},
                     {"paragraph", p},
                     {"reference_qas", std::move(qas)}});
    }
  }
  return out;
}

}  // namespace sagebox::label
