// parse.h: source files -> Documents, the first stage of ingest.
//
// `sagebox rag ingest INDEX PATH...` calls CollectFiles on its arguments, then
// ParseFile on each file. Formats: HTML (libxml2; the main content of Sphinx /
// Read the Docs pages, as LangChain's ReadTheDocsLoader keeps it), Markdown and
// reStructuredText (text kept as written, like LangChain's TextLoader), plain
// text, PDF (Poppler's text layer, page by page) and BEIR corpus.jsonl files
// (one Document per record).
//
// Every error is a Status whose message reads "FILE: what is wrong" (BEIR
// records: "FILE:LINE: ..."), so the CLI prints it as is. Malformed input is
// kBadInput, a missing path kNotFound, an OS failure the Env's kIoError.
//
// Thread-safety: every function is safe to call from several threads at once
// on different inputs (libxml2 and Poppler are initialised once, internally).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "retrieval/document.h"

namespace sagebox::retrieval {

enum class Format { kHtml, kMarkdown, kRst, kText, kPdf, kBeir };

// "html", "markdown", "rst", "text", "pdf", "beir": the value of
// Document::metadata["format"].
std::string_view FormatName(Format f);

// The format a file name's extension announces (case-insensitive), or nullopt:
// .html .htm .xhtml, .md .markdown, .rst .rest, .txt .text, .pdf, .jsonl.
std::optional<Format> FormatFromExtension(std::string_view path);

// The format of `path` with contents `bytes`: PDF when the bytes carry the
// "%PDF-" header (whatever the extension), else the extension's format, else
// HTML when the bytes open like an HTML page, else text. BadInput when the
// extension says .pdf and the bytes are not a PDF.
StatusOr<Format> DetectFormat(std::string_view path, std::string_view bytes);

// HTML -> one Document. The content is the page's main element (Sphinx/RTD:
// <main id="main-content">, <div role="main">, <article role="main">, then
// <main>), else <body> without header, footer and aside; navigation (<nav>,
// role="navigation"), scripts, styles, forms, media and Sphinx's "¶"
// permalinks are dropped. Block elements become paragraph
// breaks ("\n\n"), <br>, <li> and <tr> line breaks, table cells are joined by
// " | "; whitespace is collapsed except inside <pre>; entities are decoded.
// Title: <title>, else the first <h1>. metadata: format=html,
// content=main|body. The parser recovers from any markup, so the only errors
// are input over 2 GiB and a page libxml2 cannot build a tree for (BadInput).
StatusOr<Document> ParseHtml(std::string_view html, const std::string& source);

// Markdown -> one Document, text as written (UTF-8 BOM dropped). Title: the
// first ATX ("# T") or setext ("T\n===") heading outside fenced code, else a
// YAML front matter "title:". BadInput naming the byte offset when the text
// is not valid UTF-8.
StatusOr<Document> ParseMarkdown(std::string_view text, const std::string& source);

// reStructuredText -> one Document, text as written. Title: the first section
// title (a line underlined, or over- and underlined, by a repeated punctuation
// character at least as long as it). BadInput on invalid UTF-8, as above.
StatusOr<Document> ParseRst(std::string_view text, const std::string& source);

// Plain text -> one Document, text as written; no title. BadInput naming the
// byte offset of the first invalid UTF-8 sequence.
StatusOr<Document> ParseText(std::string_view text, const std::string& source);

// PDF -> one Document: each page's text layer (Poppler, reading order), pages
// joined by "\n\n", Document::pages holding each page's byte range (empty
// for a page without text). Title: the PDF info Title, else the first line.
// A PDF with pages that have no text still parses, with
// metadata["needs_ocr"]="true" and metadata["ocr_pages"]="1,3" (1-based).
// metadata: format=pdf, pages=N. BadInput for a broken PDF, or an encrypted
// one that needs a password to open.
StatusOr<Document> ParsePdf(std::string_view bytes, const std::string& source);

// BEIR corpus.jsonl: one JSON object per line, {"_id", "title", "text"}
// (title optional, other fields ignored; _id a string or an integer). Each
// record becomes a Document with id "SOURCE#_id", title, text and
// metadata format=beir, beir_id=_id. Blank lines are skipped. BadInput
// "SOURCE:LINE: ..." naming the field for malformed JSON, a missing or
// mistyped field, or a duplicate _id. `on_doc` is called in file order; an
// error it returns stops the walk and is returned.
Status ForEachBeirRecord(std::string_view jsonl, const std::string& source,
                         const std::function<Status(Document&&)>& on_doc);
StatusOr<std::vector<Document>> ParseBeirCorpus(std::string_view jsonl, const std::string& source);

// Reads a BEIR corpus.jsonl from `path` line by line (memory holds one line,
// not the file) and calls `on_doc` per record, as ForEachBeirRecord does. The
// Env's error when the file cannot be read.
Status ForEachBeirFile(Env* env, const std::string& path,
                       const std::function<Status(Document&&)>& on_doc);
// The whole corpus as a vector (tests, small corpora).
StatusOr<std::vector<Document>> ReadBeirCorpus(Env* env, const std::string& path);

// Reads `path` and parses it in the format DetectFormat chooses: one Document
// for HTML, Markdown, reStructuredText, text and PDF (id and source = path),
// one per record for a BEIR corpus. Errors as the parsers above, prefixed by
// `path`; the Env's error when the file cannot be read.
StatusOr<std::vector<Document>> ParseFile(Env* env, const std::string& path);

// The files to ingest for the command line's PATH arguments, in order: a file
// is taken as given (whatever its extension: ParseFile decides); a folder is
// walked recursively in sorted order, skipping hidden entries (".name"), files
// whose extension is not a known format, and ".jsonl" files other than
// "corpus.jsonl" (a BEIR folder holds queries.jsonl beside its corpus). A
// file named twice is listed once. NotFound "PATH: no such file or
// directory" for a missing argument; BadInput for folders nested deeper than
// 64 (a loop of links); the Env's error when a folder cannot be listed.
StatusOr<std::vector<std::string>> CollectFiles(Env* env, const std::vector<std::string>& paths);

}  // namespace sagebox::retrieval
