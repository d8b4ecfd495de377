// Fuzz target for the db layer's SQL rewriting: never crash, and keep the
// invariants the backends rely on: the rewrite numbers exactly *count
// placeholders $1..$count, leaves text without '?' unchanged, and never drops
// bytes outside placeholders (the output is at least as long as the input).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "db/sql_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  const std::string_view sql(reinterpret_cast<const char*>(d), n);
  int count = -1;
  const std::string out = sagebox::db::RewritePlaceholders(sql, &count);
  if (count < 0) __builtin_trap();
  if (sql.find('?') == std::string_view::npos && (count != 0 || out != sql)) __builtin_trap();
  if (out.size() < sql.size()) __builtin_trap();
  if (count > 0 && out.find("$" + std::to_string(count)) == std::string::npos) __builtin_trap();
  (void)sagebox::db::ExpandMacros(sql, sagebox::db::Backend::kPostgres);
  (void)sagebox::db::ExpandMacros(sql, sagebox::db::Backend::kSqlite);
  return 0;
}
