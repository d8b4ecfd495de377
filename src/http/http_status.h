// http_status.h: the one place Status codes become HTTP status codes.
//
// The library speaks Status; only the server edge turns it into an HTTP
// status, as the CLI edge turns it into an exit code (cli/cli.h).
//
// Thread-safety: pure function.
#pragma once

#include "core/status.h"

namespace sagebox::http {

// 200 for OK; 400 for a malformed request or input; 401 for bad
// credentials; 404 for NotFound; 413 for a request over a size limit;
// 501 for Unimplemented; 500 for everything else (our own failures).
int HttpStatusOf(StatusCode c);

}  // namespace sagebox::http
