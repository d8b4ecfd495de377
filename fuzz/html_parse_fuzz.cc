// Fuzz target for ParseHtml: any bytes give a Document (libxml2 recovers from
// any markup) or a BadInput naming the source, never a crash. The text keeps
// the promises the chunker relies on: valid UTF-8, no leading or trailing
// whitespace and no run of three newlines (pages without <pre>); the same
// bytes parse to the same Document again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.h"
#include "retrieval/parse/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  const std::string_view html(reinterpret_cast<const char*>(d), n);
  auto doc = sagebox::retrieval::ParseHtml(html, "fuzz.html");
  if (!doc.ok()) {
    if (doc.status().code() != sagebox::StatusCode::kBadInput) __builtin_trap();
    if (doc.status().message().rfind("fuzz.html: ", 0) != 0) __builtin_trap();
    return 0;
  }
  const std::string& t = doc->text;
  if (sagebox::FindInvalidUtf8(t) || sagebox::FindInvalidUtf8(doc->title)) {
    __builtin_trap();
  }
  // <pre> keeps its whitespace as written; elsewhere the text is trimmed and
  // paragraph breaks never stack.
  std::string lower(html);
  for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  if (lower.find("<pre") == std::string::npos) {
    const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
    if (!t.empty() && (space(t.front()) || space(t.back()))) __builtin_trap();
    if (t.find("\n\n\n") != std::string::npos) __builtin_trap();
  }
  if (doc->id != "fuzz.html" || doc->metadata.at("format") != "html") __builtin_trap();
  auto again = sagebox::retrieval::ParseHtml(html, "fuzz.html");
  if (!again.ok() || again->text != t || again->title != doc->title) __builtin_trap();
  return 0;
}
