// Plain text, Markdown and reStructuredText: the text is kept as written (as
// LangChain's TextLoader does); only the title is looked for.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.h"
#include "retrieval/parse/parse.h"
#include "retrieval/parse/parse_internal.h"

namespace sagebox::retrieval {

namespace internal {

Status CheckUtf8(std::string_view text, const std::string& source) {
  if (auto bad = FindInvalidUtf8(text)) {
    return BadInput(fmt::format("{}: not valid UTF-8 at byte {} (0x{:02X})", source, *bad,
                                static_cast<unsigned>(static_cast<unsigned char>(text[*bad]))));
  }
  return Status::Ok();
}

std::string ToValidUtf8(std::string s) {
  std::optional<size_t> bad = FindInvalidUtf8(s);
  if (!bad) return s;
  std::string out;
  std::string_view rest = s;
  while (bad) {
    out.append(rest.substr(0, *bad));
    out.append("\xEF\xBF\xBD");
    rest.remove_prefix(*bad + 1);
    bad = FindInvalidUtf8(rest);
  }
  out.append(rest);
  return out;
}

std::string_view DropBom(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return text;
}

std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

}  // namespace internal

namespace {

using internal::SplitLines;
using internal::Trim;

size_t LeadingSpaces(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return i;
}

// Code points, which is how docutils measures a title against its underline.
size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// CommonMark 0.30, section 4.5: a fence is 3+ backticks or tildes after at
// most 3 spaces. Returns the fence's character and length, or 0.
std::pair<char, size_t> Fence(std::string_view line) {
  const size_t indent = LeadingSpaces(line);
  if (indent > 3) return {0, 0};
  line.remove_prefix(indent);
  if (line.empty() || (line[0] != '`' && line[0] != '~')) return {0, 0};
  const size_t len = line.find_first_not_of(line[0]);
  const size_t n = len == std::string_view::npos ? line.size() : len;
  return n >= 3 ? std::pair{line[0], n} : std::pair{char{0}, size_t{0}};
}

// CommonMark section 4.2: "#"x1..6 after at most 3 spaces, then a space, a
// tab or the end of the line; an optional closing run of '#' is dropped.
std::optional<std::string> AtxHeading(std::string_view line) {
  const size_t indent = LeadingSpaces(line);
  if (indent > 3) return std::nullopt;
  line.remove_prefix(indent);
  size_t hashes = 0;
  while (hashes < line.size() && line[hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6) return std::nullopt;
  if (hashes < line.size() && line[hashes] != ' ' && line[hashes] != '\t') return std::nullopt;
  std::string_view content = Trim(line.substr(hashes));
  const size_t last = content.find_last_not_of('#');
  if (last == std::string_view::npos) {
    content = {};
  } else if (last + 1 < content.size() && (content[last] == ' ' || content[last] == '\t')) {
    content = Trim(content.substr(0, last + 1));
  }
  return std::string(content);
}

// CommonMark section 4.3: a line of '=' or '-' (at most 3 spaces before,
// trailing spaces allowed) under a paragraph makes it a heading.
bool SetextUnderline(std::string_view line) {
  if (LeadingSpaces(line) > 3) return false;
  line = Trim(line);
  if (line.empty() || (line[0] != '=' && line[0] != '-')) return false;
  return line.find_first_not_of(line[0]) == std::string_view::npos;
}

// A "title: ..." in YAML front matter (Jekyll, Hugo, MkDocs), quotes removed.
std::string FrontMatterTitle(const std::vector<std::string_view>& lines, size_t* body_start) {
  *body_start = 0;
  if (lines.empty() || Trim(lines[0]) != "---") return {};
  std::string title;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view l = Trim(lines[i]);
    if (l == "---" || l == "...") {
      *body_start = i + 1;
      return title;
    }
    if (title.empty() && lines[i].substr(0, 6) == "title:") {
      std::string_view v = Trim(lines[i].substr(6));
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        v = v.substr(1, v.size() - 2);
      }
      title = std::string(v);
    }
  }
  return {};  // never closed: not front matter after all
}

std::string MarkdownTitle(std::string_view text) {
  const std::vector<std::string_view> lines = SplitLines(text);
  size_t i = 0;
  std::string front_title = FrontMatterTitle(lines, &i);
  char fence = 0;
  size_t fence_len = 0;
  std::vector<std::string_view> paragraph;  // the lines a setext underline would promote
  for (; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const auto [fc, fl] = Fence(line);
    if (fence != 0) {
      if (fc == fence && fl >= fence_len && Trim(line).size() == fl) fence = 0;
      continue;
    }
    if (fc != 0) {
      fence = fc;
      fence_len = fl;
      paragraph.clear();
      continue;
    }
    if (auto h = AtxHeading(line)) {
      if (!h->empty()) return *h;
      paragraph.clear();
      continue;
    }
    if (!paragraph.empty() && SetextUnderline(line)) {
      std::string title;
      for (std::string_view p : paragraph) {
        if (!title.empty()) title += ' ';
        title += Trim(p);
      }
      return title;
    }
    if (Trim(line).empty() || LeadingSpaces(line) > 3) {
      paragraph.clear();  // a blank line ends a paragraph; indented code starts none
    } else {
      paragraph.push_back(line);
    }
  }
  return front_title;
}

// reStructuredText's adornment characters: the printable non-alphanumeric
// 7-bit ASCII characters (docutils spec, "Sections").
bool IsAdornment(std::string_view line) {
  line = Trim(line);
  if (line.empty()) return false;
  const char c = line[0];
  const bool punct = c > ' ' && c < 0x7F && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
                     !(c >= 'A' && c <= 'Z');
  return punct && line.find_first_not_of(c) == std::string_view::npos;
}

std::string RstTitle(std::string_view text) {
  const std::vector<std::string_view> lines = SplitLines(text);
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    // Over- and underlined: "====\n Title\n====" (the title may be inset).
    if (IsAdornment(lines[i]) && i + 2 < lines.size() && !IsAdornment(lines[i + 1]) &&
        Trim(lines[i + 2]) == Trim(lines[i])) {
      const std::string_view title = Trim(lines[i + 1]);
      if (!title.empty() && CodePoints(Trim(lines[i])) >= CodePoints(title)) {
        return std::string(title);
      }
    }
    // Underlined only; a title is never indented (indented text is a quote,
    // a literal block or a directive's body).
    const std::string_view line = lines[i];
    if (line.empty() || line[0] == ' ' || line[0] == '\t' || IsAdornment(line)) continue;
    const std::string_view under = lines[i + 1];
    if (under.empty() || under[0] == ' ' || !IsAdornment(under)) continue;
    const std::string_view title = Trim(line);
    if (CodePoints(Trim(under)) >= CodePoints(title)) return std::string(title);
  }
  return {};
}

StatusOr<Document> TextDocument(std::string_view text, const std::string& source, Format format) {
  RETURN_IF_ERROR(internal::CheckUtf8(text, source));
  text = internal::DropBom(text);
  Document doc;
  doc.id = source;
  doc.source = source;
  doc.text = std::string(text);
  doc.metadata["format"] = std::string(FormatName(format));
  return doc;
}

}  // namespace

StatusOr<Document> ParseText(std::string_view text, const std::string& source) {
  return TextDocument(text, source, Format::kText);
}

StatusOr<Document> ParseMarkdown(std::string_view text, const std::string& source) {
  ASSIGN_OR_RETURN(Document doc, TextDocument(text, source, Format::kMarkdown));
  doc.title = MarkdownTitle(doc.text);
  return doc;
}

StatusOr<Document> ParseRst(std::string_view text, const std::string& source) {
  ASSIGN_OR_RETURN(Document doc, TextDocument(text, source, Format::kRst));
  doc.title = RstTitle(doc.text);
  return doc;
}

}  // namespace sagebox::retrieval
