// routes.h: the label module's JSON API on `sagebox serve` (docs/label.md lists every
// call with its body and answer). Every call is authorised by the caller's project role
// (label_store.h); a platform admin acts as every role.
//
//   GET  /api/label/projects                     the caller's projects
//   POST /api/label/projects                     {"name","kind","config"?} → the project
//   GET  /api/label/projects/{p}                 one project (id or name), with the caller's roles
//   POST /api/label/projects/{p}/items           a Ground Truth manifest (JSON Lines body)
//   GET  /api/label/projects/{p}/members         the members
//   POST /api/label/projects/{p}/members         {"user","role","hourly_rate"?}
//   POST /api/label/projects/{p}/next            the caller's next assignment (rework first,
//                                                with the reviewers' comments) or null
//   GET  /api/label/assignments/{id}             one assignment (its annotator, reviewers)
//   PUT  /api/label/assignments/{id}             {"payload","active_seconds"?}: a draft
//   POST /api/label/assignments/{id}/submit      {"payload","active_seconds"?}; 422 with
//                                                {"error","failures":[{requirement,...}]}
//   POST /api/label/projects/{p}/reviews/next    the next submission to review, or null
//   POST /api/label/annotations/{id}/review      {"verdict","comments":[{"anchor","text"}],
//                                                "payload"?, "active_seconds"?}
//   GET  /api/label/projects/{p}/batches         batches with states and history
//   POST /api/label/batches/{id}/accept          the requester's gate
//   POST /api/label/batches/{id}/reject          {"feedback"}: the batch goes back for rework
//   GET  /api/label/projects/{p}/metrics         label_store.h Metrics
//   GET  /api/label/projects/{p}/status          counts per state, exports
//   GET  /api/label/projects/{p}/export?format=F&pairs=&style=&dimension=&closed_book=&scope=
//                                                the export file itself (recorded, immutable;
//                                                X-Sagebox-Export-Sha256 names its hash)
//   GET  /api/label/media/{sha256}               a media blob, with Range requests
// Errors are the platform's {"error": {"code", "message"}} (http/api.h).
//
// Thread-safety: Handle runs on every server thread; the store is safe for that.
#pragma once

#include "http/api.h"
#include "http/http_server.h"
#include "label/store/label_store.h"

namespace sagebox::label::api {

class LabelApi {
 public:
  // `store` must outlive the object.
  explicit LabelApi(LabelStore* store, Env* env) : store_(store), env_(env) {}

  // One request under /api/label/. Never fails: errors are responses.
  http::ApiResponse Handle(const http::ApiRequest& req);

  // Adds /api/label/ to `router`; this object must outlive the server.
  void Register(http::Router& router);

 private:
  LabelStore* store_;
  Env* env_;
};

// The JSON shapes the API answers with (the CLI prints the same).
nlohmann::json ProjectJson(const Project& p);
nlohmann::json AssignmentJson(const Assignment& a);
nlohmann::json ReviewTaskJson(const ReviewTask& t);
nlohmann::json BatchJson(const BatchInfo& b);

}  // namespace sagebox::label::api
