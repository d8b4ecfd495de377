// Format detection, ParseFile and CollectFiles: the entry points ingest uses.
#include "retrieval/parse/parse.h"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "retrieval/parse/parse_internal.h"

namespace sagebox::retrieval {

namespace internal {

Status FileError(const std::string& path, const Status& s) {
  std::string m = s.message();
  // "cannot open PATH: reason" -> "PATH: cannot open: reason".
  const std::string needle = " " + path + ":";
  const size_t at = m.find(needle);
  if (at != std::string::npos) {
    m = m.substr(0, at) + ":" + m.substr(at + needle.size());
  } else if (m.rfind(path + ":", 0) == 0) {
    return s;  // already "PATH: ..."
  }
  return {s.code(), path + ": " + m};
}

}  // namespace internal

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kHtml:
      return "html";
    case Format::kMarkdown:
      return "markdown";
    case Format::kRst:
      return "rst";
    case Format::kText:
      return "text";
    case Format::kPdf:
      return "pdf";
    case Format::kBeir:
      return "beir";
  }
  return "unknown";
}

std::optional<Format> FormatFromExtension(std::string_view path) {
  const std::string name = AsciiLower(Basename(path));
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  const std::string_view ext = std::string_view(name).substr(dot + 1);
  static const std::pair<std::string_view, Format> kExtensions[] = {
      {"html", Format::kHtml},   {"htm", Format::kHtml},          {"xhtml", Format::kHtml},
      {"md", Format::kMarkdown}, {"markdown", Format::kMarkdown}, {"rst", Format::kRst},
      {"rest", Format::kRst},    {"txt", Format::kText},          {"text", Format::kText},
      {"pdf", Format::kPdf},     {"jsonl", Format::kBeir},
  };
  for (const auto& [e, f] : kExtensions) {
    if (ext == e) return f;
  }
  return std::nullopt;
}

StatusOr<Format> DetectFormat(std::string_view path, std::string_view bytes) {
  // PDF 1.7 (ISO 32000-1) 7.5.2: a file starts with "%PDF-1.n"; readers
  // (Acrobat, Poppler) accept the header anywhere in the first 1024 bytes
  // (the spec's Annex H.3, implementation note 13).
  const bool pdf_magic = bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos;
  if (pdf_magic) return Format::kPdf;
  const std::optional<Format> by_ext = FormatFromExtension(path);
  if (by_ext == Format::kPdf) {
    return BadInput(std::string(path) + ": not a PDF (no %PDF- header in the first 1024 bytes)");
  }
  if (by_ext) return *by_ext;
  // No known extension: an HTML page announces itself in its first tag.
  std::string_view head = internal::Trim(internal::DropBom(bytes.substr(0, 256)));
  const std::string lower = AsciiLower(head.substr(0, 15));
  if (lower.rfind("<!doctype html", 0) == 0 || lower.rfind("<html", 0) == 0) return Format::kHtml;
  return Format::kText;
}

StatusOr<std::vector<Document>> ParseFile(Env* env, const std::string& path) {
  if (FormatFromExtension(path) == Format::kBeir) return ReadBeirCorpus(env, path);
  std::string bytes;
  const Status read = env->ReadFileToString(path, &bytes);
  if (!read.ok()) return internal::FileError(path, read);
  ASSIGN_OR_RETURN(const Format format, DetectFormat(path, bytes));
  StatusOr<Document> doc = Document{};
  switch (format) {
    case Format::kHtml:
      doc = ParseHtml(bytes, path);
      break;
    case Format::kMarkdown:
      doc = ParseMarkdown(bytes, path);
      break;
    case Format::kRst:
      doc = ParseRst(bytes, path);
      break;
    case Format::kText:
      doc = ParseText(bytes, path);
      break;
    case Format::kPdf:
      doc = ParsePdf(bytes, path);
      break;
    case Format::kBeir:
      return ParseBeirCorpus(bytes, path);
  }
  if (!doc.ok()) return doc.status();
  std::vector<Document> docs;
  docs.push_back(std::move(doc).value());
  return docs;
}

namespace {

constexpr int kMaxDepth = 64;

// Whether a walk keeps the file `name` (a name, not a path).
bool Ingestible(const std::string& name) {
  const std::optional<Format> f = FormatFromExtension(name);
  if (!f) return false;
  // A BEIR dataset folder holds queries.jsonl (and qrels) beside its corpus.
  return *f != Format::kBeir || name == "corpus.jsonl";
}

Status Walk(Env* env, const std::string& dir, int depth, std::set<std::string>* seen,
            std::vector<std::string>* out) {
  if (depth > kMaxDepth) {
    return BadInput(dir + ": folders nested deeper than " + std::to_string(kMaxDepth) +
                    " (a loop of links?)");
  }
  auto names = env->ListDir(dir);  // sorted
  if (!names.ok()) return internal::FileError(dir, names.status());
  for (const std::string& name : *names) {
    if (name.empty() || name[0] == '.') continue;  // hidden: .git, .DS_Store, editor files
    const std::string path = JoinPath(dir, name);
    if (env->IsDirectory(path)) {
      RETURN_IF_ERROR(Walk(env, path, depth + 1, seen, out));
    } else if (Ingestible(name) && seen->insert(path).second) {
      out->push_back(path);
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<std::string>> CollectFiles(Env* env, const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& p : paths) {
    if (!env->Exists(p)) return NotFound(p + ": no such file or directory");
    if (env->IsDirectory(p)) {
      RETURN_IF_ERROR(Walk(env, p, 0, &seen, &out));
    } else if (seen.insert(p).second) {
      out.push_back(p);
    }
  }
  return out;
}

}  // namespace sagebox::retrieval
