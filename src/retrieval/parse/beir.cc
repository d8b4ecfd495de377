// BEIR corpus.jsonl: the format of the BEIR benchmark (Thakur et al., 2021;
// github.com/beir-cellar/beir, beir/datasets/data_loader.py reads one JSON
// object per line with "_id", "title", "text", and takes a missing title as
// empty). Parsed with nlohmann::json, one line at a time.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "retrieval/parse/parse.h"
#include "retrieval/parse/parse_internal.h"

namespace sagebox::retrieval {
namespace {

// Turns lines into Documents; remembers the _ids seen, to refuse duplicates
// (a Document's id decides which chunks a re-ingest replaces).
class BeirReader {
 public:
  BeirReader(const std::string& source, const std::function<Status(Document&&)>& on_doc)
      : source_(source), on_doc_(on_doc) {}

  // `line` without its "\n"; `number` 1-based.
  Status Line(std::string_view line, size_t number) {
    if (number == 1) line = internal::DropBom(line);
    if (internal::Trim(line).empty()) return Status::Ok();
    const std::string where = source_ + ":" + std::to_string(number) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      return BadInput(where + "invalid JSON at column " + std::to_string(e.byte) + ": " +
                      Reason(e.what()));
    } catch (const nlohmann::json::exception& e) {
      // Not only parse_error: a number too large for a double is out_of_range.
      return BadInput(where + "invalid JSON: " + Reason(e.what()));
    }
    if (!j.is_object()) {
      return BadInput(where + "expected a JSON object {\"_id\", \"title\", \"text\"}, got " +
                      std::string(j.type_name()));
    }
    Document doc;
    const auto id = j.find("_id");
    if (id == j.end()) return BadInput(where + "missing field \"_id\"");
    if (id->is_string()) {
      doc.metadata["beir_id"] = id->get<std::string>();
    } else if (id->is_number_integer()) {
      doc.metadata["beir_id"] = id->dump();  // some converters write ids as numbers
    } else {
      return BadInput(where + "field \"_id\": expected a string, got " +
                      std::string(id->type_name()));
    }
    const std::string& beir_id = doc.metadata["beir_id"];
    if (beir_id.empty()) return BadInput(where + "field \"_id\": expected a non-empty string");
    const auto text = j.find("text");
    if (text == j.end()) return BadInput(where + "missing field \"text\"");
    if (!text->is_string()) {
      return BadInput(where + "field \"text\": expected a string, got " +
                      std::string(text->type_name()));
    }
    const auto title = j.find("title");
    if (title != j.end() && !title->is_null()) {
      if (!title->is_string()) {
        return BadInput(where + "field \"title\": expected a string, got " +
                        std::string(title->type_name()));
      }
      doc.title = title->get<std::string>();
    }
    const auto [it, fresh] = seen_.emplace(beir_id, number);
    if (!fresh) {
      return BadInput(where + "duplicate _id \"" + beir_id + "\" (first on line " +
                      std::to_string(it->second) + ")");
    }
    doc.id = source_ + "#" + beir_id;
    doc.source = source_;
    doc.text = text->get<std::string>();
    doc.metadata["format"] = std::string(FormatName(Format::kBeir));
    return on_doc_(std::move(doc));
  }

 private:
  // nlohmann's message without its "[json.exception.parse_error.101] parse
  // error at line 1, column 7: " prefix (the caller names line and column).
  static std::string Reason(std::string_view what) {
    const size_t col = what.find("column ");
    if (col != std::string_view::npos) {
      const size_t colon = what.find(": ", col);
      if (colon != std::string_view::npos) return std::string(what.substr(colon + 2));
    }
    if (what.substr(0, 1) == "[") {
      const size_t close = what.find("] ");
      if (close != std::string_view::npos) return std::string(what.substr(close + 2));
    }
    return std::string(what);
  }

  const std::string& source_;
  const std::function<Status(Document&&)>& on_doc_;
  std::unordered_map<std::string, size_t> seen_;
};

}  // namespace

Status ForEachBeirRecord(std::string_view jsonl, const std::string& source,
                         const std::function<Status(Document&&)>& on_doc) {
  BeirReader reader(source, on_doc);
  size_t number = 0;
  size_t start = 0;
  while (start < jsonl.size()) {
    size_t end = jsonl.find('\n', start);
    if (end == std::string_view::npos) end = jsonl.size();
    RETURN_IF_ERROR(reader.Line(jsonl.substr(start, end - start), ++number));
    start = end + 1;
  }
  return Status::Ok();
}

StatusOr<std::vector<Document>> ParseBeirCorpus(std::string_view jsonl, const std::string& source) {
  std::vector<Document> docs;
  RETURN_IF_ERROR(ForEachBeirRecord(jsonl, source, [&](Document&& d) {
    docs.push_back(std::move(d));
    return Status::Ok();
  }));
  return docs;
}

Status ForEachBeirFile(Env* env, const std::string& path,
                       const std::function<Status(Document&&)>& on_doc) {
  auto file = env->OpenSequential(path);
  if (!file.ok()) return internal::FileError(path, file.status());
  BeirReader reader(path, on_doc);
  std::string buf;  // the unfinished line, then what the last read added
  std::string chunk(1 << 16, '\0');
  size_t number = 0;
  for (;;) {
    size_t got = 0;
    const Status read = (*file)->Read(chunk.data(), chunk.size(), &got);
    if (!read.ok()) return internal::FileError(path, read);
    if (got == 0) break;
    buf.append(chunk, 0, got);
    size_t start = 0;
    for (size_t nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n', start)) {
      RETURN_IF_ERROR(reader.Line(std::string_view(buf).substr(start, nl - start), ++number));
      start = nl + 1;
    }
    buf.erase(0, start);
  }
  if (!buf.empty()) RETURN_IF_ERROR(reader.Line(buf, ++number));
  return Status::Ok();
}

StatusOr<std::vector<Document>> ReadBeirCorpus(Env* env, const std::string& path) {
  std::vector<Document> docs;
  RETURN_IF_ERROR(ForEachBeirFile(env, path, [&](Document&& d) {
    docs.push_back(std::move(d));
    return Status::Ok();
  }));
  return docs;
}

}  // namespace sagebox::retrieval
