// credentials.h: the keys `sagebox serve --credentials FILE` accepts.
//
// FILE is an AWS shared-credentials file (the ~/.aws/credentials format), so
// the same file can configure both the server and the clients that call it:
// every [section] holding both aws_access_key_id and aws_secret_access_key is
// one accepted key pair, and a `sagebox_dashboard_token = ...` line in any
// section is the token of the dashboard's JSON API.
//
// The syntax follows what the AWS CLI (botocore, Python's RawConfigParser)
// accepts: `[section]` headers, `key = value` or `key: value` with spaces
// around the delimiter, option names in any case, whole-line comments
// starting with '#' or ';' (no inline comments: '#' inside a value is part
// of it), blank lines, indented sub-settings under an empty `key =` line
// (ignored), CRLF line ends and a UTF-8 byte order mark.
//
// Thread-safety: values and pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::http {

struct Credentials {
  std::map<std::string, std::string> secret_by_access_key;  // aws_access_key_id -> secret
  std::string dashboard_token;                              // empty when the file has none
  bool empty() const { return secret_by_access_key.empty(); }
};

// Parses the text of a credentials file; `path` only names it in errors.
// BadInput "path:line:col: ..." for a malformed line, a duplicate section or
// option (as the AWS CLI rejects them), a section with only one of the two
// keys or an empty one, two different secrets for one access key, two
// dashboard tokens, or a file with no key pair at all.
StatusOr<Credentials> ParseCredentials(std::string_view text, const std::string& path);

// Reads `path` through `env` and parses it. NotFound/IoError from Env
// (with the path), BadInput as ParseCredentials.
StatusOr<Credentials> LoadCredentials(Env* env, const std::string& path);

// Compares in time that depends only on the lengths, not on where the
// strings differ, so a remote caller cannot find a token or signature byte by
// byte. Lengths are not secret (tokens and hex signatures have fixed sizes).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sagebox::http
