// ast.h: the parsed form of one SELECT statement.
//
// The parser builds it; the binder (engine.cc) resolves names and types.
// Every node keeps the line:col of the token it starts at, for errors.
//
// Thread-safety: plain data.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sagebox::sql {

enum class ExprKind {
  kColumn,  // name (lowercased unless quoted)
  kString,  // text
  kNumber,  // text as written
  kBool,    // name "true"/"false"
  kNull,
  kDate,       // DATE '2024-01-01': text
  kTimestamp,  // TIMESTAMP '2024-01-01 00:00:00': text
  kInterval,   // INTERVAL 'n' unit: text = n, name = unit (lowercase), negated for '-'
  kUnary,      // name "-" or "not"; args[0]
  kBinary,     // name: + - * / % || = <> < <= > >= and or; args[0], args[1]
  kFunc,       // name lowercased; args; distinct; star for count(*)
  kCast,       // args[0]; type_name, precision, scale; try_cast
  kCase,       // operand (optional), when/then pairs, else_expr (optional)
  kIn,         // args[0] IN (args[1..]); negated
  kLike,       // args[0] LIKE args[1] [ESCAPE args[2]]; negated
  kBetween,    // args[0] BETWEEN args[1] AND args[2]; negated
  kIsNull,     // args[0] IS [NOT] NULL; negated
};

struct Expr {
  ExprKind kind = ExprKind::kNull;
  int line = 1, col = 1;
  std::string name;
  std::string text;
  std::vector<std::unique_ptr<Expr>> args;
  bool negated = false;
  bool distinct = false;
  bool star = false;
  bool try_cast = false;
  // CAST target: "double", "decimal", "varchar", "bigint", "date", "timestamp", ...
  std::string type_name;
  int precision = -1, scale = -1;
  // CASE: when/then pairs in args (even count), optional operand and ELSE.
  std::unique_ptr<Expr> operand;
  std::unique_ptr<Expr> else_expr;
};
using ExprPtr = std::unique_ptr<Expr>;

struct SelectItem {
  ExprPtr expr;  // null for *
  std::string alias;
  int line = 1, col = 1;
};

struct OrderItem {
  ExprPtr expr;
  bool desc = false;
  std::optional<bool> nulls_first;
};

struct Select {
  std::vector<SelectItem> items;
  std::string table;  // as written (placeholder as {$name})
  bool table_is_placeholder = false;
  int table_line = 1, table_col = 1;
  ExprPtr where;
  std::vector<ExprPtr> group_by;
  ExprPtr having;
  std::vector<OrderItem> order_by;
  std::optional<int64_t> limit;
};

// SQL text of an expression, normalised (for column names like Trino's
// "_col0" fallback, and for matching SELECT items with GROUP BY entries).
std::string ExprKey(const Expr& e);

}  // namespace sagebox::sql
