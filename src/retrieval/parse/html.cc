// HTML through libxml2's HTML parser, with the main-content rules of
// LangChain's ReadTheDocsLoader (langchain_community/document_loaders/
// readthedocs.py: `_clean_data` picks <main id="main-content"> or
// <div role="main">; `_get_clean_text` skips scripts, media and forms).
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/utf8.h"
#include "retrieval/parse/parse.h"
#include "retrieval/parse/parse_internal.h"

namespace sagebox::retrieval {
namespace {

std::string_view Name(const xmlNode* n) {
  return n->name == nullptr ? std::string_view() : reinterpret_cast<const char*>(n->name);
}

// The value of attribute `name`, or "" (the HTML parser lower-cases names).
std::string_view Attr(const xmlNode* n, std::string_view name) {
  for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
    if (a->name != nullptr && reinterpret_cast<const char*>(a->name) == name) {
      if (a->children != nullptr && a->children->content != nullptr) {
        return reinterpret_cast<const char*>(a->children->content);
      }
      return {};
    }
  }
  return {};
}

bool HasClass(const xmlNode* n, std::string_view cls) {
  std::string_view v = Attr(n, "class");
  while (!v.empty()) {
    const size_t sp = v.find(' ');
    if (v.substr(0, sp) == cls) return true;
    if (sp == std::string_view::npos) break;
    v.remove_prefix(sp + 1);
  }
  return false;
}

template <size_t N>
bool In(std::string_view name, const std::string_view (&set)[N]) {
  return std::find(std::begin(set), std::end(set), name) != std::end(set);
}

// ReadTheDocsLoader's `elements_to_skip`, plus head, template and textarea,
// which hold no page text either.
constexpr std::string_view kSkip[] = {
    "script", "noscript", "canvas",   "meta",     "svg",      "map",    "area",    "audio",
    "source", "track",    "video",    "embed",    "object",   "param",  "picture", "iframe",
    "frame",  "frameset", "noframes", "applet",   "form",     "button", "select",  "base",
    "style",  "img",      "head",     "template", "textarea", "input"};
// What the fallback (no main element) drops from <body>: the page's chrome.
// Inside a main element only navigation goes: there <header> may hold the
// article's <h1>, and docutils writes sidebars and footnotes as <aside>.
constexpr std::string_view kChrome[] = {"nav", "header", "footer", "aside"};
// Elements whose start and end are paragraph breaks (HTML's block-level
// content, Living Standard section 15.3.3 "Flow content" rendering).
constexpr std::string_view kBlock[] = {
    "address", "article", "aside",   "blockquote", "body",   "caption", "center",   "dd",
    "details", "dialog",  "dir",     "div",        "dl",     "dt",      "fieldset", "figcaption",
    "figure",  "footer",  "h1",      "h2",         "h3",     "h4",      "h5",       "h6",
    "header",  "hgroup",  "hr",      "html",       "legend", "main",    "menu",     "nav",
    "ol",      "p",       "section", "summary",    "table",  "ul",      "pre"};
// Elements that end a line but not a paragraph.
constexpr std::string_view kLine[] = {"br", "li", "tr"};

// Collects text: whitespace runs collapse to one space, and breaks are
// written lazily, before the next text, so none lead or trail.
class TextSink {
 public:
  enum Gap { kNone = 0, kSpace = 1, kLine = 2, kParagraph = 3 };

  void Break(Gap g) { pending_ = std::max(pending_, g); }

  void Text(std::string_view s) {
    for (char c : s) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        Break(kSpace);
      } else {
        Flush();
        out_ += c;
      }
    }
  }

  // Preformatted text (<pre>): kept byte for byte.
  void Raw(std::string_view s) {
    if (s.empty()) return;
    Flush();
    out_ += s;
  }

  // A literal separator (table cells), written even between empty cells.
  void Separator(std::string_view s) {
    if (out_.empty()) return;
    if (pending_ == kSpace) pending_ = kNone;  // the separator has its own spaces
    Flush();
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    out_ += s;
  }

  // The text, valid UTF-8 even where libxml2 passed on a stray byte of a
  // malformed page (found by fuzzing: "&\x94" in a page declared UTF-8).
  std::string Take() {
    TrimTrailing();
    return internal::ToValidUtf8(std::move(out_));
  }

 private:
  void TrimTrailing() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\n' || out_.back() == '\t' ||
                             out_.back() == '\r')) {
      out_.pop_back();
    }
  }
  void Flush() {
    if (!out_.empty()) {
      switch (pending_) {
        case kNone:
          break;
        case kSpace:
          if (out_.back() != ' ' && out_.back() != '\n') out_ += ' ';
          break;
        case kLine:
          TrimTrailing();
          out_ += '\n';
          break;
        case kParagraph:
          TrimTrailing();
          out_ += "\n\n";
          break;
      }
    }
    pending_ = kNone;
  }

  std::string out_;
  Gap pending_ = kNone;
};

// The text under `root`, by the rules in parse.h. Iterative (parent/next
// pointers, no recursion), so a deeply nested page cannot exhaust the stack.
std::string ExtractText(const xmlNode* root, bool drop_chrome) {
  TextSink sink;
  int pre_depth = 0;
  int cell = 0;  // cells seen in the current table row
  int cell_depth = 0;
  // Inside a table cell, paragraphs and lines are only spaces: a row stays
  // one line, a table one paragraph, so a splitter keeps it together.
  const auto gap = [&](TextSink::Gap g) { sink.Break(cell_depth > 0 ? TextSink::kSpace : g); };

  // Returns whether to descend into `n`; leave() is called only for those.
  const auto enter = [&](const xmlNode* n) -> bool {
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      const char* c = reinterpret_cast<const char*>(n->content);
      if (c != nullptr) {
        if (pre_depth > 0) {
          sink.Raw(c);
        } else {
          sink.Text(c);
        }
      }
      return false;
    }
    if (n->type != XML_ELEMENT_NODE) return false;  // comments, PIs, DTD
    const std::string_view name = Name(n);
    if (In(name, kSkip) || (drop_chrome && In(name, kChrome))) return false;
    if (name == "nav" || Attr(n, "role") == "navigation") return false;
    // Sphinx's permalink anchors ("¶") after every heading and signature.
    if (name == "a" && HasClass(n, "headerlink")) return false;
    if (name == "br") {
      gap(TextSink::kLine);
      return false;
    }
    if (In(name, kBlock)) gap(TextSink::kParagraph);
    if (In(name, kLine)) gap(TextSink::kLine);
    if (name == "tr") cell = 0;
    if (name == "td" || name == "th") {
      if (cell++ > 0) sink.Separator(" | ");
      ++cell_depth;
    }
    if (name == "pre") ++pre_depth;
    return true;
  };
  const auto leave = [&](const xmlNode* n) {
    if (n->type != XML_ELEMENT_NODE) return;
    const std::string_view name = Name(n);
    if (name == "pre") --pre_depth;
    if (name == "td" || name == "th") --cell_depth;
    if (In(name, kBlock)) gap(TextSink::kParagraph);
    if (In(name, kLine)) gap(TextSink::kLine);
  };

  const xmlNode* n = root;
  while (n != nullptr) {
    const bool entered = enter(n);
    if (entered && n->children != nullptr) {
      n = n->children;
      continue;
    }
    if (entered) leave(n);
    // Climb to the next sibling, leaving each finished ancestor (all of
    // them were entered, or we would not be below them).
    for (;;) {
      if (n == root) {
        n = nullptr;
        break;
      }
      if (n->next != nullptr) {
        n = n->next;
        break;
      }
      n = n->parent;
      leave(n);
    }
  }
  return sink.Take();
}

// Depth-first, document order, iterative: the first element for which
// `match` holds.
template <typename F>
const xmlNode* FindFirst(const xmlNode* root, F match) {
  const xmlNode* n = root;
  while (n != nullptr) {
    if (n->type == XML_ELEMENT_NODE && match(n)) return n;
    if (n->children != nullptr && n->type == XML_ELEMENT_NODE) {
      n = n->children;
      continue;
    }
    while (n != nullptr && n != root && n->next == nullptr) n = n->parent;
    if (n == nullptr || n == root) return nullptr;
    n = n->next;
  }
  return nullptr;
}

// The main content, in ReadTheDocsLoader's order (<main id="main-content">,
// then <div role="main">), then what its earlier versions and other themes
// use: <article role="main">, any <main>.
const xmlNode* MainContent(const xmlNode* root) {
  const auto tagged = [](std::string_view tag, std::string_view attr, std::string_view value) {
    return [=](const xmlNode* n) { return Name(n) == tag && Attr(n, attr) == value; };
  };
  if (auto* m = FindFirst(root, tagged("main", "id", "main-content"))) return m;
  if (auto* m = FindFirst(root, tagged("div", "role", "main"))) return m;
  if (auto* m = FindFirst(root, tagged("article", "role", "main"))) return m;
  return FindFirst(root, [](const xmlNode* n) { return Name(n) == "main"; });
}

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct CtxtFree {
  void operator()(htmlParserCtxt* c) const { htmlFreeParserCtxt(c); }
};

}  // namespace

StatusOr<Document> ParseHtml(std::string_view html, const std::string& source) {
  // libxml2 must be initialised once before threads use it (its docs:
  // "xmlInitParser ... should be called once before processing in case of
  // use in multithreaded programs").
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });

  Document doc;
  doc.id = source;
  doc.source = source;
  doc.metadata["format"] = std::string(FormatName(Format::kHtml));
  if (internal::Trim(html).empty()) {
    doc.metadata["content"] = "body";
    return doc;  // libxml2 returns no tree for an empty page; it has no text
  }
  if (html.size() > static_cast<size_t>(INT_MAX)) {
    return BadInput(source + ": HTML page over 2 GiB");
  }
  std::unique_ptr<htmlParserCtxt, CtxtFree> ctxt(htmlNewParserCtxt());
  if (ctxt == nullptr) return Internal(source + ": libxml2 could not allocate a parser");
  // RECOVER: real pages are rarely valid; NONET: never fetch a DTD;
  // NOERROR/NOWARNING: bad markup is normal, not worth a line on stderr.
  int options = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                HTML_PARSE_COMPACT;
  // libxml2 2.9 reads a page without a charset declaration as Latin-1, which
  // garbles the UTF-8 that nearly every page is today. Bytes that are valid
  // UTF-8 are read as UTF-8 (the WHATWG Encoding Standard lets a user agent
  // sniff; a legacy-encoded page with non-ASCII text is almost never valid
  // UTF-8); any other page is left to its <meta charset>, else Latin-1.
  const char* encoding = nullptr;
  if (!FindInvalidUtf8(html)) {
    encoding = "UTF-8";
    options |= HTML_PARSE_IGNORE_ENC;
  }
  std::unique_ptr<xmlDoc, DocFree> tree(htmlCtxtReadMemory(
      ctxt.get(), html.data(), static_cast<int>(html.size()), nullptr, encoding, options));
  const xmlNode* root = tree == nullptr ? nullptr : xmlDocGetRootElement(tree.get());
  if (root == nullptr) return BadInput(source + ": not an HTML page (libxml2 built no tree)");

  const xmlNode* main = MainContent(root);
  if (main != nullptr) {
    doc.text = ExtractText(main, /*drop_chrome=*/false);
    doc.metadata["content"] = "main";
  } else {
    const xmlNode* body = FindFirst(root, [](const xmlNode* n) { return Name(n) == "body"; });
    doc.text = body == nullptr ? std::string() : ExtractText(body, /*drop_chrome=*/true);
    doc.metadata["content"] = "body";
  }

  if (const xmlNode* t = FindFirst(root, [](const xmlNode* n) { return Name(n) == "title"; })) {
    // <title> sits in <head>, which ExtractText skips: read its text nodes.
    TextSink sink;
    for (const xmlNode* c = t->children; c != nullptr; c = c->next) {
      if (c->type == XML_TEXT_NODE && c->content != nullptr) {
        sink.Text(reinterpret_cast<const char*>(c->content));
      }
    }
    doc.title = sink.Take();
  }
  if (doc.title.empty()) {
    const auto is_h1 = [](const xmlNode* n) { return Name(n) == "h1"; };
    const xmlNode* h1 = main == nullptr ? nullptr : FindFirst(main, is_h1);
    if (h1 == nullptr) h1 = FindFirst(root, is_h1);
    if (h1 != nullptr) doc.title = ExtractText(h1, /*drop_chrome=*/false);
  }
  return doc;
}

}  // namespace sagebox::retrieval
