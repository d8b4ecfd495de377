#include "cost/findings/cw_logs.h"

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "cost/findings/aux_json.h"

namespace sagebox::findings {
namespace {

using nlohmann::json;

// 9999-12-31T23:59:59.999Z in milliseconds.
constexpr int64_t kMaxMs = 253'402'300'799'999;

bool LooksLikeEvent(const json& o) {
  return o.contains("timestamp") && (o.contains("message") || o.contains("logStreamName"));
}

void Event(const json& o, const std::string& path, FieldReader* r, std::vector<LogEvent>* out) {
  LogEvent e;
  e.stream = r->String(o, "logStreamName", path + "logStreamName");
  e.message = r->String(o, "message", path + "message");
  auto ts = r->Int(o, "timestamp", 0, kMaxMs, path + "timestamp");
  if (!r->ok()) return;
  if (!ts) {
    r->FailWith("timestamp", "expected '" + path + "timestamp' (milliseconds since the epoch)");
    return;
  }
  e.timestamp_ms = *ts;
  out->push_back(std::move(e));
}

void Value(const json& v, int depth, FieldReader* r, std::vector<LogEvent>* out) {
  if (v.is_array()) {
    if (depth >= 2) return;
    for (const auto& e : v) {
      Value(e, depth + 1, r, out);
      if (!r->ok()) return;
    }
    return;
  }
  if (!v.is_object()) return;
  if (v.contains("events")) {
    const json* events = r->Array(v, "events");
    if (events == nullptr) return;
    for (size_t i = 0; i < events->size(); ++i) {
      const json& e = (*events)[i];
      const std::string path = "events[" + std::to_string(i) + "].";
      if (!e.is_object()) {
        r->Fail("events", "events[" + std::to_string(i) + "]", "an event object", &e);
        return;
      }
      Event(e, path, r, out);
      if (!r->ok()) return;
    }
    return;
  }
  if (LooksLikeEvent(v)) Event(v, "", r, out);
}

}  // namespace

Status ParseLogEvents(std::string_view text, std::string_view label, std::vector<LogEvent>* out) {
  return ForEachJsonValue(text, label, [&](const JsonValueAt& at) {
    FieldReader r(label, text, at);
    Value(at.value, 0, &r, out);
    return r.status();
  });
}

Status LoadLogEvents(Env* env, const std::string& path, std::vector<LogEvent>* out) {
  std::string text;
  RETURN_IF_ERROR(env->ReadFileToString(path, &text));
  return ParseLogEvents(text, path, out);
}

std::vector<ScriptWindow> FindScriptWindows(const std::vector<LogEvent>& events,
                                            const ScriptPatterns& p) {
  struct Acc {
    int64_t start = std::numeric_limits<int64_t>::max();
    int64_t end = std::numeric_limits<int64_t>::min();
    bool has_start = false, has_end = false;
    std::set<std::string_view> streams;
  };
  auto contains = [](std::string_view msg, std::string_view pat) {
    return !pat.empty() && msg.find(pat) != std::string_view::npos;
  };
  std::map<std::string_view, Acc> by_job;
  for (const auto& e : events) {
    bool is_start = contains(e.message, p.start);
    bool is_end = contains(e.message, p.end);
    if (is_start && is_end) {
      // One pattern contains the other: the longer one is what was meant.
      is_start = p.start.size() > p.end.size();
      is_end = !is_start;
    }
    if (!is_start && !is_end) continue;
    std::string_view stream(e.stream);
    Acc& a = by_job[stream.substr(0, stream.find('/'))];
    a.streams.insert(stream);
    if (is_start) {
      a.has_start = true;
      if (e.timestamp_ms < a.start) a.start = e.timestamp_ms;
    } else {
      a.has_end = true;
      if (e.timestamp_ms > a.end) a.end = e.timestamp_ms;
    }
  }
  std::vector<ScriptWindow> out;
  for (const auto& [job, a] : by_job) {
    if (!a.has_start || !a.has_end || a.end < a.start) continue;
    ScriptWindow w;
    w.job = std::string(job);
    w.start_ms = a.start;
    w.end_ms = a.end;
    w.streams = static_cast<int>(a.streams.size());
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace sagebox::findings
