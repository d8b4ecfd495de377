// lexer.h: tokens of the Athena/Trino SQL dialect that `cost sql` accepts.
//
// Every token carries its line and column (1-based) so the parser, binder
// and executor can point at the exact place in the query an error is about.
// The CUR Query Library's table placeholders `{$table_name}` and
// `${table_name}` are single tokens (kPlaceholder, text = the name inside).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sagebox::sql {

enum class Tok { kEnd, kIdent, kQuotedIdent, kString, kNumber, kSymbol, kPlaceholder };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifiers as written; strings and quoted names unescaped
  std::string raw;   // placeholders: as written, e.g. "${date_filter}"
  int line = 1, col = 1;
};

// Where a query came from, for error messages ("query" or a file name).
struct Source {
  std::string name = "query";
  std::string_view text;
};

// BadInput "name:line:col: message" followed by the query line and a caret
// under the column.
Status SqlError(const Source& src, int line, int col, const std::string& message);

// Splits `src.text` into tokens ending with one kEnd. Comments (-- and /* */)
// are skipped. BadInput (via SqlError) for an unterminated string, quoted
// name or comment, or a character that starts no token.
StatusOr<std::vector<Token>> Lex(const Source& src);

// How a token is shown in "found ..." messages: 'FROM', end of query, ...
std::string Describe(const Token& t);

}  // namespace sagebox::sql
