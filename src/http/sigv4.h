// sigv4.h: verifying AWS Signature Version 4 on requests to the Cost
// Explorer-compatible endpoint, so `aws ce --endpoint-url`, boto3 and the
// SDKs authenticate with the keys of the --credentials file, unchanged; and
// signing sagebox's own requests to AWS-shaped services (SageMaker Runtime's
// InvokeEndpoint from the retrieval providers) with the same pieces.
//
// The algorithm is AWS's "Create a canonical request for Signature Version 4"
// / "Create a string to sign" / "Calculate the signature" (AWS IAM user
// guide, "Signature Version 4 signing process"), checked against AWS's
// aws-sig-v4-test-suite vectors and against signatures botocore makes
// (tests/data/sigv4/). Only the Authorization-header form is accepted
// (no presigned query strings, no chunked uploads, no SigV4a).
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"
#include "http/credentials.h"

namespace sagebox::http {

// One HTTP request as received.
struct SigV4Request {
  std::string method;  // "POST"
  // The raw request target as sent: path plus optional "?query" (httplib's Request::target).
  std::string target;
  // As received: names in any case, repeated names kept in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// An AWS-shaped authentication error, for the server to send back as
// {"__type": aws_type, "message": message} with http_status.
struct AuthFailure {
  int http_status = 403;  // 400 or 403 as AWS returns them
  // "MissingAuthenticationTokenException", "IncompleteSignatureException",
  // "UnrecognizedClientException", "InvalidSignatureException" (also for an
  // expired or not yet current signature, with AWS's "Signature expired: ...").
  std::string aws_type;
  std::string message;  // AWS's wording where known
};

struct SigV4Options {
  std::string service = "ce";      // the credential scope's service must be this
  int64_t max_skew_seconds = 900;  // AWS allows 15 minutes either way
  // Headers that must be among SignedHeaders (lower case) besides host and
  // x-amz-date. The server requires x-amz-target, so nobody can replay a
  // signed request as another operation; the SDKs sign it.
  std::vector<std::string> must_sign;
};

// nullopt when the Authorization header (AWS4-HMAC-SHA256
// Credential=AK/yyyymmdd/region/service/aws4_request, SignedHeaders=...,
// Signature=...) verifies against `creds` at time `now`. Checks, in order:
// the header is present and well formed; X-Amz-Date is present and valid;
// host and x-amz-date are signed and every signed header is present; the
// access key is known; the scope date is X-Amz-Date's date and the scope
// service is opt.service (any region);
// |now - X-Amz-Date| <= opt.max_skew_seconds; x-amz-content-sha256, if sent,
// is the body's SHA-256; the signature matches (compared in constant time).
// Otherwise the AuthFailure AWS would send. Never throws; any bytes are safe.
std::optional<AuthFailure> VerifySigV4(const SigV4Request& req, const Credentials& creds,
                                       UnixSeconds now, const SigV4Options& opt = {});
// The same against any key source: `secret_of` returns the secret of an access
// key id, or nullopt when the key is unknown (UnrecognizedClientException). It
// is called at most once, after the header has been checked for form.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;
std::optional<AuthFailure> VerifySigV4(const SigV4Request& req, const SecretLookup& secret_of,
                                       UnixSeconds now, const SigV4Options& opt = {});

// A key pair to sign with (the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN triple).
struct SigV4Key {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless the credentials are temporary (STS)
};

// Signs `req` in place, as botocore's SigV4Auth does for the Authorization-header
// form: sets X-Amz-Date to `now` (replacing any), adds X-Amz-Security-Token when
// the key has a session token, then appends `Authorization: AWS4-HMAC-SHA256
// Credential=AK/date/region/service/aws4_request, SignedHeaders=..., Signature=...`
// over every header of the request (names lower-cased, sorted, each once). The
// caller adds Host (as it will be sent) and any header it wants covered before
// signing, and must not change them after. Never fails.
void SignSigV4(SigV4Request* req, const SigV4Key& key, std::string_view region,
               std::string_view service, UnixSeconds now);

// The pieces, public for tests.
// The canonical request over `signed_headers` (lower-case names, in the
// order given; a signed header the request lacks contributes an empty value).
// The path is normalized (empty, "." and ".." segments removed, as botocore
// does) and each byte outside A-Z a-z 0-9 -._~/ percent-encoded once (not
// S3's rules); query parameters are decoded, re-encoded and sorted by name,
// then value; header values trimmed with runs of spaces collapsed, repeated
// headers joined by ','; the payload hash is SHA-256 of the body.
std::string CanonicalRequest(const SigV4Request& req,
                             const std::vector<std::string>& signed_headers);
// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical_request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// Hex of HMAC-SHA256 with the key derived from `secret` for the scope
// date/region/service.
std::string SignatureHex(std::string_view secret, std::string_view date, std::string_view region,
                         std::string_view service, std::string_view string_to_sign);
// "20150830T123600Z": X-Amz-Date for time t (ISO 8601 basic format, UTC).
// AWS's UriEncode, appended to *out: every byte but the unreserved ones
// (A-Z a-z 0-9 - . _ ~, and '/' when keep_slash) as %XX in upper-case hex, the
// encoding SigV4's canonical URI and query use.
void UriEncode(std::string_view s, bool keep_slash, std::string* out);
std::string FormatAmzDate(UnixSeconds t);
std::string Sha256Hex(std::string_view data);                         // lower-case hex
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes

}  // namespace sagebox::http
