// PDF through poppler-cpp: the text layer of each page, in reading order (the
// layout pdftotext uses by default). Scanned pages have no text layer; they
// are listed for the docs module's OCR instead of failing the file.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <climits>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "retrieval/parse/parse.h"
#include "retrieval/parse/parse_internal.h"

namespace sagebox::retrieval {
namespace {

// Poppler reports every oddity of a damaged file on stderr by default; the
// caller gets a Status instead, so its messages are dropped.
void QuietPoppler(const std::string& /*msg*/, void* /*closure*/) {}

std::string Utf8(const poppler::ustring& u) {
  const poppler::byte_array bytes = u.to_utf8();
  // Poppler converts UTF-16 from the file; a lone surrogate there must not
  // leak invalid UTF-8 into Document::text.
  return internal::ToValidUtf8(std::string(bytes.begin(), bytes.end()));
}

// The first non-blank line, cut at 200 bytes on a code point boundary (a
// title, not a paragraph).
std::string FirstLine(std::string_view text) {
  for (std::string_view line : internal::SplitLines(text)) {
    line = internal::Trim(line);
    if (line.empty()) continue;
    constexpr size_t kMax = 200;
    if (line.size() > kMax) {
      size_t cut = kMax;
      while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
      line = internal::Trim(line.substr(0, cut));
    }
    return std::string(line);
  }
  return {};
}

StatusOr<Document> ParsePdfOrThrow(std::string_view bytes, const std::string& source) {
  static std::once_flag init;
  std::call_once(init, [] { poppler::set_debug_error_function(QuietPoppler, nullptr); });
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return BadInput(source + ": PDF over 2 GiB");
  // load_from_raw_data does not copy: `bytes` outlives `pdf`.
  std::unique_ptr<poppler::document> pdf(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (pdf == nullptr) return BadInput(source + ": not a readable PDF (Poppler cannot open it)");
  // Locked: encrypted with a user password (an empty one opens by itself).
  if (pdf->is_locked()) return BadInput(source + ": encrypted PDF needs a password");

  Document doc;
  doc.id = source;
  doc.source = source;
  doc.metadata["format"] = std::string(FormatName(Format::kPdf));
  const int n = pdf->pages();
  doc.metadata["pages"] = std::to_string(n);
  if (pdf->is_encrypted()) doc.metadata["encrypted"] = "true";
  std::string ocr_pages;
  for (int i = 0; i < n; ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    std::string text;
    if (page != nullptr) {
      text = Utf8(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout));
    }
    const std::string_view trimmed = internal::Trim(text);
    Page p;
    p.number = i + 1;
    if (trimmed.empty()) {
      if (!ocr_pages.empty()) ocr_pages += ',';
      ocr_pages += std::to_string(i + 1);
    } else if (!doc.text.empty()) {
      doc.text += "\n\n";
    }
    p.begin = doc.text.size();
    doc.text += trimmed;
    p.end = doc.text.size();
    doc.pages.push_back(p);
  }
  if (!ocr_pages.empty()) {
    doc.metadata["needs_ocr"] = "true";
    doc.metadata["ocr_pages"] = ocr_pages;
  }
  doc.title = std::string(internal::Trim(Utf8(pdf->info_key("Title"))));
  if (doc.title.empty()) doc.title = FirstLine(doc.text);
  return doc;
}

}  // namespace

StatusOr<Document> ParsePdf(std::string_view bytes, const std::string& source) {
  // poppler-cpp reports failures by return values, but allocation (and the
  // standard library under it) may still throw: nothing crosses this API.
  try {
    return ParsePdfOrThrow(bytes, source);
  } catch (const std::exception& e) {
    return BadInput(source + ": Poppler failed on this PDF: " + e.what());
  }
}

}  // namespace sagebox::retrieval
