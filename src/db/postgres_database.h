// postgres_database.h: the PostgreSQL backend of db::Database (libpq), for several
// `sagebox serve` processes sharing one state.
//
// Thread-safety: the Database it returns is safe for concurrent use. It keeps a pool of
// connections, each used by one thread at a time (libpq connections are not shareable).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "db/database.h"

namespace sagebox::db {

// Connects to `url` (a libpq connection URI, "postgresql://…" or "postgres://…") once, to
// report a bad address or credentials now rather than at the first query. InvalidArgument
// for a URL libpq cannot parse; IoError when the server cannot be reached or refuses.
StatusOr<std::unique_ptr<Database>> OpenPostgres(const std::string& url);

// `url` with its password (user:PASSWORD@ and ?password=) replaced by "***".
std::string RedactPostgresUrl(std::string_view url);

}  // namespace sagebox::db
