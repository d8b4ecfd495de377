#include "rag/opensearch/routes.h"

#include <fmt/format.h>

#include <chrono>
#include <string_view>
#include <vector>

namespace sagebox::rag::opensearch {
namespace {

using http::ApiRequest;
using http::ApiResponse;
using nlohmann::json;

// OpenSearch's error document: the cause repeated as root_cause, and the status.
ApiResponse OsError(int status, const std::string& type, const std::string& reason,
                    const std::string& index = "") {
  json cause = {{"type", type}, {"reason", reason}};
  if (!index.empty()) {
    cause["index"] = index;
    if (type == "index_not_found_exception") {
      cause["resource.type"] = "index_or_alias";
      cause["resource.id"] = index;
      cause["index_uuid"] = "_na_";
    }
  }
  json err = cause;
  err["root_cause"] = json::array({cause});
  return http::JsonResponse({{"error", err}, {"status", status}}, status);
}

// A library Status in OpenSearch's vocabulary (see store.h for which call
// returns which code).
ApiResponse FromStatus(const Status& s, const std::string& index = "") {
  switch (s.code()) {
    case StatusCode::kNotFound:
      if (s.message().starts_with("no such index")) {
        return OsError(404, "index_not_found_exception", s.message(), index);
      }
      return OsError(404, "resource_not_found_exception", s.message());
    case StatusCode::kAlreadyExists:
      return OsError(400, "resource_already_exists_exception", s.message(), index);
    case StatusCode::kBadInput:
      return OsError(400, "mapper_parsing_exception", s.message(), index);
    case StatusCode::kInvalidArgument:
      if (s.message().starts_with("Invalid index name")) {
        return OsError(400, "invalid_index_name_exception", s.message(), index);
      }
      return OsError(400, "parsing_exception", s.message(), index);
    default:
      return OsError(500, "exception", s.ToString(), index);
  }
}

ApiResponse NoMethod(const ApiRequest& req, const std::string& path, const char* allow) {
  ApiResponse r = OsError(405, "method_not_allowed",
                          "Incorrect HTTP method for uri [" + path + "] and method [" + req.method +
                              "], allowed: [" + allow + "]");
  r.headers.emplace_back("Allow", allow);
  return r;
}

// A body that is empty means "no body"; malformed JSON is OpenSearch's 400.
bool ParseBody(const ApiRequest& req, json* out, ApiResponse* err) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    *out = nullptr;
    return true;
  }
  *out = json::parse(req.body, nullptr, false);
  if (out->is_discarded()) {
    *err = OsError(400, "parse_exception", "request body is not valid JSON");
    return false;
  }
  return true;
}

bool RefreshParam(const ApiRequest& req) {
  auto it = req.params.find("refresh");
  if (it == req.params.end()) return false;
  return it->second.empty() || it->second == "true" || it->second == "wait_for";
}

json Shards() { return {{"total", 2}, {"successful", 1}, {"failed", 0}}; }

json ItemJson(const std::string& index, const WriteResult& r) {
  json item = {{"_index", index}, {"_id", r.id}, {"status", r.status}};
  if (r.ok()) {
    item["_version"] = r.version;
    item["result"] = r.result;
    item["_shards"] = Shards();
    item["_seq_no"] = r.seq_no;
    item["_primary_term"] = 1;
  } else {
    json err = {{"type", r.error_type}, {"reason", r.error_reason}, {"index", index}};
    if (!r.cause_type.empty())
      err["caused_by"] = {{"type", r.cause_type}, {"reason", r.cause_reason}};
    item["error"] = err;
  }
  return item;
}

const char* OpName(WriteOp::Kind k) {
  switch (k) {
    case WriteOp::Kind::kIndex:
      return "index";
    case WriteOp::Kind::kCreate:
      return "create";
    case WriteOp::Kind::kUpdate:
      return "update";
    case WriteOp::Kind::kDelete:
      return "delete";
  }
  return "index";
}

// POST /_bulk: NDJSON action lines, each but delete followed by a source line.
ApiResponse Bulk(Store* store, const ApiRequest& req, const std::string& default_index) {
  const auto start = std::chrono::steady_clock::now();
  // NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's special members
  struct Item {
    std::string index;
    WriteOp op;
  };
  std::vector<Item> items;
  std::vector<std::string> lines;
  size_t pos = 0;
  const std::string& body = req.body;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    std::string line = body.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(std::move(line));
    pos = nl + 1;
  }
  if (lines.empty()) {
    return OsError(400, "action_request_validation_exception",
                   "Validation Failed: 1: no requests added;");
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    json action = json::parse(lines[i], nullptr, false);
    if (action.is_discarded() || !action.is_object() || action.size() != 1) {
      return OsError(400, "illegal_argument_exception",
                     "Malformed action/metadata line [" + std::to_string(i + 1) +
                         "], expected an object with one action");
    }
    const std::string name = action.begin().key();
    const json& meta = action.begin().value();
    Item item;
    if (name == "index") {
      item.op.kind = WriteOp::Kind::kIndex;
    } else if (name == "create") {
      item.op.kind = WriteOp::Kind::kCreate;
    } else if (name == "update") {
      item.op.kind = WriteOp::Kind::kUpdate;
    } else if (name == "delete") {
      item.op.kind = WriteOp::Kind::kDelete;
    } else {
      return OsError(400, "illegal_argument_exception",
                     "Malformed action/metadata line [" + std::to_string(i + 1) +
                         "], expected one of [create, delete, index, update] but found [" + name +
                         "]");
    }
    if (!meta.is_object()) {
      return OsError(400, "illegal_argument_exception",
                     "Malformed action/metadata line [" + std::to_string(i + 1) + "]");
    }
    item.index = meta.contains("_index") && meta["_index"].is_string()
                     ? meta["_index"].get<std::string>()
                     : default_index;
    if (item.index.empty()) {
      return OsError(
          400, "action_request_validation_exception",
          "Validation Failed: 1: index is missing (line " + std::to_string(i + 1) + ");");
    }
    if (meta.contains("_id") && !meta["_id"].is_null()) {
      item.op.id = meta["_id"].is_string() ? meta["_id"].get<std::string>() : meta["_id"].dump();
    }
    if (item.op.kind != WriteOp::Kind::kDelete) {
      if (++i >= lines.size()) {
        return OsError(400, "illegal_argument_exception",
                       "The bulk request must be terminated by a newline [\\n]; action line " +
                           std::to_string(i) + " has no source line");
      }
      json source = json::parse(lines[i], nullptr, false);
      if (source.is_discarded()) {
        return OsError(400, "x_content_parse_exception",
                       "line " + std::to_string(i + 1) + " of the bulk body is not valid JSON");
      }
      if (item.op.kind == WriteOp::Kind::kUpdate) {
        if (!source.is_object() || !source.contains("doc")) {
          return OsError(400, "illegal_argument_exception",
                         "update on line " + std::to_string(i + 1) +
                             " needs {\"doc\": {...}} (scripts and upserts are not supported)");
        }
        item.op.doc_as_upsert = source.value("doc_as_upsert", false);
        item.op.source = source["doc"];
      } else {
        item.op.source = std::move(source);
      }
    }
    items.push_back(std::move(item));
  }
  // One Write per run of consecutive items of the same index keeps the order.
  json out_items = json::array();
  bool errors = false;
  const bool refresh = RefreshParam(req);
  for (size_t i = 0; i < items.size();) {
    size_t j = i;
    std::vector<WriteOp> ops;
    while (j < items.size() && items[j].index == items[i].index) ops.push_back(items[j++].op);
    auto results = store->Write(items[i].index, ops, refresh);
    for (size_t k = 0; k < ops.size(); ++k) {
      WriteResult r;
      if (results.ok()) {
        r = (*results)[k];
      } else {
        r.id = ops[k].id;
        r.status = results.status().code() == StatusCode::kInvalidArgument ? 400 : 500;
        r.error_type = r.status == 400 ? "invalid_index_name_exception" : "exception";
        r.error_reason = results.status().message();
      }
      errors = errors || !r.ok();
      out_items.push_back({{OpName(ops[k].kind), ItemJson(items[i].index, r)}});
    }
    i = j;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return http::JsonResponse({{"took", took.count()}, {"errors", errors}, {"items", out_items}});
}

ApiResponse SingleWrite(Store* store, const ApiRequest& req, const std::string& index,
                        const WriteOp& op) {
  auto results = store->Write(index, {op}, RefreshParam(req));
  if (!results.ok()) return FromStatus(results.status(), index);
  const WriteResult& r = results->front();
  if (!r.ok()) {
    json err = {{"type", r.error_type}, {"reason", r.error_reason}, {"index", index}};
    json root = err;
    if (!r.cause_type.empty())
      err["caused_by"] = {{"type", r.cause_type}, {"reason", r.cause_reason}};
    err["root_cause"] = json::array({root});
    return http::JsonResponse({{"error", err}, {"status", r.status}}, r.status);
  }
  json out = ItemJson(index, r);
  out.erase("status");
  return http::JsonResponse(out, r.status);
}

ApiResponse Info() {
  // The shape of OpenSearch's GET / (opensearch-project documentation, "Cluster info").
  return http::JsonResponse({{"name", "sagebox"},
                             {"cluster_name", "sagebox"},
                             {"cluster_uuid", "sagebox-opensearch-subset"},
                             {"version",
                              {{"distribution", "opensearch"},
                               {"number", "2.11.0"},
                               {"build_type", "sagebox"},
                               {"build_hash", "unknown"},
                               {"build_date", "2023-10-13T00:00:00Z"},
                               {"build_snapshot", false},
                               {"lucene_version", "9.7.0"},
                               {"minimum_wire_compatibility_version", "7.10.0"},
                               {"minimum_index_compatibility_version", "7.0.0"}}},
                             {"tagline", "The OpenSearch Project: https://opensearch.org/"}});
}

ApiResponse Pipelines(Store* store, const ApiRequest& req, const std::vector<std::string>& parts) {
  // parts: "_search", "pipeline", [id]
  if (parts.size() == 2) {
    if (req.method != "GET" && req.method != "HEAD") return NoMethod(req, req.path, "GET");
    auto all = store->Pipelines();
    if (!all.ok()) return FromStatus(all.status());
    json out = json::object();
    for (auto& [id, body] : *all) out[id] = body;
    return http::JsonResponse(out);
  }
  const std::string& id = parts[2];
  if (req.method == "PUT") {
    json body;
    ApiResponse err;
    if (!ParseBody(req, &body, &err)) return err;
    Status s = store->PutPipeline(id, body);
    if (!s.ok()) return OsError(400, "illegal_argument_exception", s.message());
    return http::JsonResponse({{"acknowledged", true}});
  }
  if (req.method == "GET" || req.method == "HEAD") {
    auto p = store->GetPipeline(id);
    if (!p.ok()) return FromStatus(p.status());
    if (!*p)
      return OsError(404, "resource_not_found_exception", "Search pipeline [" + id + "] not found");
    return http::JsonResponse({{id, **p}});
  }
  if (req.method == "DELETE") {
    Status s = store->DeletePipeline(id);
    if (!s.ok()) return FromStatus(s);
    return http::JsonResponse({{"acknowledged", true}});
  }
  return NoMethod(req, req.path, "GET,PUT,DELETE");
}

}  // namespace

ApiResponse Handle(Store* store, const ApiRequest& req) {
  std::string_view path = req.path;
  if (path.starts_with(kPrefix)) path.remove_prefix(std::string_view(kPrefix).size());
  const std::vector<std::string> parts = http::PathSegments(path);
  const std::string& m = req.method;
  const bool read = m == "GET" || m == "HEAD";
  if (parts.empty()) {
    if (!read) return NoMethod(req, "/", "GET,HEAD");
    return Info();
  }
  json body;
  ApiResponse err;
  // cpp-httplib 0.11 (Debian's) does not read the body of a GET; running the
  // search without it would answer another question. opensearch-py sends
  // GET bodies (LangChain's hybrid search does) unless told to use POST.
  if (m == "GET" && req.body.empty()) {
    const std::string length = req.Header("Content-Length");
    if (!length.empty() && length != "0") {
      ApiResponse r = OsError(400, "illegal_argument_exception",
                              "this server cannot read the body of a GET request; send it with "
                              "POST (opensearch-py: OpenSearch(..., send_get_body_as=\"POST\"), "
                              "which LangChain's OpenSearchVectorSearch passes through)");
      r.headers.emplace_back("Connection", "close");  // the unread body must not become a request
      return r;
    }
  }
  if (parts[0] == "_bulk" && parts.size() == 1) {
    if (m != "POST" && m != "PUT") return NoMethod(req, "/_bulk", "POST,PUT");
    return Bulk(store, req, "");
  }
  if (parts[0] == "_search" && parts.size() >= 2 && parts.size() <= 3 && parts[1] == "pipeline") {
    return Pipelines(store, req, parts);
  }
  if (parts[0] == "_refresh" && parts.size() == 1) {
    for (const std::string& name : store->IndexNames()) {
      if (Status s = store->Refresh(name); !s.ok()) return FromStatus(s, name);
    }
    return http::JsonResponse({{"_shards", Shards()}});
  }
  const std::string& index = parts[0];
  if (index.starts_with("_")) {
    return OsError(400, "illegal_argument_exception",
                   "the API [" + index + "] is not part of sagebox's OpenSearch subset");
  }
  if (Status s = ValidateIndexName(index); !s.ok()) return FromStatus(s, index);
  if (parts.size() == 1) {
    if (m == "PUT") {
      if (!ParseBody(req, &body, &err)) return err;
      if (Status s = store->CreateIndex(index, body); !s.ok()) return FromStatus(s, index);
      return http::JsonResponse(
          {{"acknowledged", true}, {"shards_acknowledged", true}, {"index", index}});
    }
    if (m == "HEAD") {
      ApiResponse r;
      r.status = store->HasIndex(index) ? 200 : 404;
      return r;
    }
    if (m == "GET") {
      auto info = store->IndexInfo(index);
      if (!info.ok()) return FromStatus(info.status(), index);
      return http::JsonResponse({{index, *info}});
    }
    if (m == "DELETE") {
      if (Status s = store->DeleteIndex(index); !s.ok()) return FromStatus(s, index);
      return http::JsonResponse({{"acknowledged", true}});
    }
    return NoMethod(req, "/" + index, "GET,HEAD,PUT,DELETE");
  }
  const std::string& api = parts[1];
  if (api == "_mapping" && parts.size() == 2) {
    if (!read) return NoMethod(req, req.path, "GET");
    auto info = store->IndexInfo(index);
    if (!info.ok()) return FromStatus(info.status(), index);
    return http::JsonResponse({{index, {{"mappings", (*info)["mappings"]}}}});
  }
  if (api == "_bulk" && parts.size() == 2) {
    if (m != "POST" && m != "PUT") return NoMethod(req, req.path, "POST,PUT");
    return Bulk(store, req, index);
  }
  if (api == "_refresh" && parts.size() == 2) {
    if (m != "POST" && m != "GET") return NoMethod(req, req.path, "POST,GET");
    if (Status s = store->Refresh(index); !s.ok()) return FromStatus(s, index);
    return http::JsonResponse({{"_shards", Shards()}});
  }
  if ((api == "_search" || api == "_count") && parts.size() == 2) {
    if (m != "POST" && m != "GET") return NoMethod(req, req.path, "GET,POST");
    if (!ParseBody(req, &body, &err)) return err;
    // Query-string parameters that change results must not be ignored.
    for (const auto& [k, v] : req.params) {
      if (k == "search_pipeline" || k == "pretty" || k == "error_trace" || k == "filter_path" ||
          k == "typed_keys" || k == "rest_total_hits_as_int" || k == "track_total_hits") {
        continue;
      }
      if (k == "size" || k == "from") {
        if (!body.is_object()) body = json::object();
        try {
          body[k] = std::stoll(v);
        } catch (const std::exception&) {
          return OsError(400, "illegal_argument_exception",
                         fmt::format("[{}] must be an integer, got {}", k, v));
        }
        continue;
      }
      return OsError(400, "illegal_argument_exception",
                     "request [" + req.path + "] contains unrecognized parameter: [" + k + "]");
    }
    if (api == "_count") {
      auto n = store->Count(index, body);
      if (!n.ok()) return FromStatus(n.status(), index);
      return http::JsonResponse(
          {{"count", *n},
           {"_shards", {{"total", 1}, {"successful", 1}, {"skipped", 0}, {"failed", 0}}}});
    }
    auto res = store->Search(index, body, req.Param("search_pipeline"));
    if (!res.ok()) return FromStatus(res.status(), index);
    return http::JsonResponse(*res);
  }
  if ((api == "_doc" || api == "_create") && (parts.size() == 2 || parts.size() == 3)) {
    const std::string id = parts.size() == 3 ? parts[2] : "";
    if (api == "_doc" && parts.size() == 3 && read) {
      auto doc = store->GetDoc(index, id);
      if (!doc.ok()) return FromStatus(doc.status(), index);
      if (!*doc) {
        return http::JsonResponse({{"_index", index}, {"_id", id}, {"found", false}}, 404);
      }
      if (m == "HEAD") return ApiResponse{};
      return http::JsonResponse({{"_index", index},
                                 {"_id", id},
                                 {"_version", (*doc)->version},
                                 {"_seq_no", (*doc)->seq_no},
                                 {"_primary_term", 1},
                                 {"found", true},
                                 {"_source", (*doc)->source}});
    }
    if (api == "_doc" && parts.size() == 3 && m == "DELETE") {
      WriteOp op;
      op.kind = WriteOp::Kind::kDelete;
      op.id = id;
      if (!store->HasIndex(index))
        return FromStatus(NotFound("no such index [" + index + "]"), index);
      return SingleWrite(store, req, index, op);
    }
    if (m != "PUT" && m != "POST") return NoMethod(req, req.path, "GET,HEAD,PUT,POST,DELETE");
    if (id.empty() && (m == "PUT" || api == "_create")) {
      return NoMethod(req, req.path, "POST");
    }
    if (!ParseBody(req, &body, &err)) return err;
    WriteOp op;
    op.kind = api == "_create" || req.Param("op_type") == "create" ? WriteOp::Kind::kCreate
                                                                   : WriteOp::Kind::kIndex;
    op.id = id;
    op.source = body.is_null() ? json::object() : body;
    return SingleWrite(store, req, index, op);
  }
  if (api == "_update" && parts.size() == 3) {
    if (m != "POST") return NoMethod(req, req.path, "POST");
    if (!ParseBody(req, &body, &err)) return err;
    if (!body.is_object() || !body.contains("doc")) {
      return OsError(400, "action_request_validation_exception",
                     "Validation Failed: 1: script or doc is missing (scripts are not supported);");
    }
    WriteOp op;
    op.kind = WriteOp::Kind::kUpdate;
    op.id = parts[2];
    op.source = body["doc"];
    op.doc_as_upsert = body.value("doc_as_upsert", false);
    return SingleWrite(store, req, index, op);
  }
  return OsError(400, "illegal_argument_exception",
                 "no handler for [" + m + " " + req.path + "] in sagebox's OpenSearch subset");
}

void Register(http::Router& router, Store* store) {
  // "/opensearch" alone is the cluster-info root too; the handler checks the rest.
  router.AddRest("opensearch", kPrefix, "", [store](const ApiRequest& req) {
    std::string_view rest = std::string_view(req.path).substr(std::string_view(kPrefix).size());
    if (!rest.empty() && rest[0] != '/') {
      return http::ErrorBody(404, "NotFound", "no such page: " + req.path);
    }
    return Handle(store, req);
  });
}

}  // namespace sagebox::rag::opensearch
