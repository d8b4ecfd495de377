// sql_text.h (internal to src/db): the SQL text transforms between the one dialect
// callers write (database.h) and what each backend accepts.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "db/database.h"

namespace sagebox::db {

// PostgreSQL numbers its placeholders: every `?` becomes `$1`, `$2`… in order. A `?`
// inside a string literal ('…', E'…', $tag$…$tag$), a quoted identifier ("…") or a
// comment (-- …, /* … */, nested) is text, not a placeholder, and stays. Sets *count to
// the number of placeholders. Never fails: unterminated quotes run to the end (the server
// then rejects the statement with its own message).
std::string RewritePlaceholders(std::string_view sql, int* count);

// Replaces the macros of Migration::sql ({{id}}, {{blob}}) with `backend`'s types.
std::string ExpandMacros(std::string_view sql, Backend backend);

}  // namespace sagebox::db
