// parser.h: recursive-descent parser for the SELECT subset of `cost sql`.
//
// Grammar (Trino precedence): OR < AND < NOT < comparison, [NOT] IN,
// [NOT] LIKE, [NOT] BETWEEN, IS [NOT] NULL < + - || < * / % < unary minus.
// Anything outside the subset is reported at its token, e.g. JOIN, WITH,
// UNION, window functions, subqueries.
//
// Thread-safety: pure functions.
#pragma once

#include "core/status.h"
#include "cost/sql/ast.h"
#include "cost/sql/lexer.h"

namespace sagebox::sql {

// BadInput "name:line:col: ..." with a caret line for a syntax error or an
// unsupported construct.
StatusOr<Select> Parse(const Source& src);

}  // namespace sagebox::sql
