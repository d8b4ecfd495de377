// cw_logs.h: CloudWatch Logs events of SageMaker jobs, read from
// `aws logs filter-log-events` output, and the script windows found in them.
//
// The I/O-overhead rule compares a processing job's duration with the time
// its own script ran, which only the job's log shows: the article's example
// logs "Start custom script" and "End custom script" 15 minutes apart in a
// job that ran 19. The patterns are configurable.
//
// Accepted input: filter-log-events responses ({"events": [{"logStreamName",
// "timestamp" (ms), "message", ...}], "nextToken"?}); several pages as a JSON
// array, JSON Lines or concatenated documents; and bare event objects or
// arrays of them (e.g. `--query events` or `jq -c '.events[]'`). Field names
// are AWS's (CloudWatch Logs API reference, FilterLogEvents/FilteredLogEvent).
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/status.h"

namespace sagebox::findings {

struct LogEvent {
  std::string stream;  // logStreamName ("" if the output had none)
  int64_t timestamp_ms = 0;
  std::string message;
};

// Appends the events of `text` to *out in input order. Each event needs an
// integer "timestamp" (ms since the epoch); "logStreamName" and "message"
// must be strings when present. Objects that are neither pages nor events
// (e.g. a lone {"nextToken": ...}) are skipped. Malformed JSON or a
// mistyped field is BadInput "label:line:col: ..."; on error *out keeps the
// events before the bad value.
Status ParseLogEvents(std::string_view text, std::string_view label, std::vector<LogEvent>* out);
// Reads `path` through env and parses it; IoError/NotFound from env, else as above.
Status LoadLogEvents(Env* env, const std::string& path, std::vector<LogEvent>* out);

struct ScriptPatterns {
  std::string start = "Start custom script";
  std::string end = "End custom script";
};

struct ScriptWindow {
  std::string job;
  int64_t start_ms = 0, end_ms = 0;
  int streams = 0;  // distinct log streams (hosts) that logged a marker

  int64_t DurationMs() const { return end_ms - start_ms; }
};

// Per job (the stream name up to its first '/': SageMaker processing
// streams are "<job>/algo-<n>-<epoch>"), the earliest start marker and the
// latest end marker, matched as substrings of the message. A message that
// contains both patterns counts for the longer (more specific) one; empty
// patterns match nothing. A job without an end marker, or whose latest end
// precedes its earliest start, gets no window. Sorted by job name.
std::vector<ScriptWindow> FindScriptWindows(const std::vector<LogEvent>& events,
                                            const ScriptPatterns& p);

}  // namespace sagebox::findings
