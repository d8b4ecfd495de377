// sfn_routes.cc: Step Functions actions over AWS JSON 1.0 (sfn_routes.h).
#include "pipeline/api/sfn_routes.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sagebox::pipeline::api {

namespace {

using nlohmann::json;

constexpr const char* kActions[] = {
    "CreateStateMachine", "DescribeStateMachine", "ListStateMachines",
    "StartExecution",     "DescribeExecution",    "GetExecutionHistory",
    "ListExecutions",     "StopExecution",        "RedriveExecution"};
constexpr const char* kAmzJson10 = "application/x-amz-json-1.0";
constexpr int64_t kDefaultPage = 100;  // maxResults' default and 1000 its maximum (API reference)
constexpr int64_t kMaxPage = 1000;

http::ApiResponse Ok(const json& j) {
  http::ApiResponse r = http::JsonResponse(j);
  r.content_type = kAmzJson10;
  return r;
}

http::ApiResponse Error(std::string_view type, const std::string& message, int status = 400) {
  http::ApiResponse r = http::AwsJsonError(status, type, message);
  r.content_type = kAmzJson10;
  return r;
}

// A Status as the action's AWS error: NotFound and AlreadyExists name what the action was about.
http::ApiResponse AwsError(const Status& s, std::string_view not_found,
                           std::string_view already_exists, std::string_view invalid) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kBadInput:
      return Error(invalid, s.message());
    case StatusCode::kNotFound:
      return Error(not_found, s.message());
    case StatusCode::kAlreadyExists:
      return Error(already_exists, s.message());
    default:
      return Error("InternalFailure", s.message(), 500);
  }
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// A required string member, or ValidationException's words for a missing one.
StatusOr<std::string> Member(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || !it->is_string()) {
    return InvalidArgument(std::string("1 validation error detected: Value null at '") + name +
                           "' failed to satisfy constraint: Member must not be null");
  }
  return it->get<std::string>();
}

// maxResults and nextToken (an offset in decimal, this server's own token).
struct Paging {
  size_t offset = 0;
  size_t size = kDefaultPage;
};
StatusOr<Paging> ReadPaging(const json& in) {
  Paging p;
  if (auto m = in.find("maxResults"); m != in.end()) {
    if (!m->is_number_integer() || m->get<int64_t>() < 0 || m->get<int64_t>() > kMaxPage) {
      return InvalidArgument("maxResults must be an integer from 0 to 1000");
    }
    if (m->get<int64_t>() > 0) p.size = static_cast<size_t>(m->get<int64_t>());
  }
  if (auto t = in.find("nextToken"); t != in.end() && t->is_string() && !t->empty()) {
    const std::string text = t->get<std::string>();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p.offset);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return NotFound("Invalid Token: '" + text + "'");
    }
  }
  return p;
}

json ExecutionItem(const runtime::ExecutionRow& e) {
  json j = {{"executionArn", e.arn},
            {"stateMachineArn", e.state_machine_arn},
            {"name", e.name},
            {"status", e.status},
            {"startDate", Seconds(e.start_ms)},
            {"redriveCount", e.redrive_count}};
  if (e.stop_ms) j["stopDate"] = Seconds(*e.stop_ms);
  if (e.redrive_ms) j["redriveDate"] = Seconds(*e.redrive_ms);
  return j;
}

http::ApiResponse Handle(runtime::PipelineService* service, const std::string& action,
                         const json& in) {
  constexpr std::string_view kNoMachine = "StateMachineDoesNotExist";
  constexpr std::string_view kNoExecution = "ExecutionDoesNotExist";
  if (action == "CreateStateMachine") {
    auto name = Member(in, "name");
    auto definition = Member(in, "definition");
    if (!name.ok()) return Error("ValidationException", name.status().message());
    if (!definition.ok()) return Error("ValidationException", definition.status().message());
    if (in.value("type", "STANDARD") != "STANDARD") {
      return Error("ValidationException", "sagebox runs STANDARD state machines only");
    }
    auto m = service->CreateStateMachine(*name, *definition, in.value("roleArn", ""));
    if (!m.ok()) {
      const bool definition_problem =
          m.status().message().rfind("Invalid State Machine Definition", 0) == 0;
      return AwsError(m.status(), kNoMachine, "StateMachineAlreadyExists",
                      definition_problem ? "InvalidDefinition" : "InvalidName");
    }
    return Ok({{"stateMachineArn", m->arn}, {"creationDate", Seconds(m->created_ms)}});
  }
  if (action == "DescribeStateMachine") {
    auto arn = Member(in, "stateMachineArn");
    if (!arn.ok()) return Error("ValidationException", arn.status().message());
    auto m = service->DescribeStateMachine(*arn);
    if (!m.ok()) return AwsError(m.status(), kNoMachine, "", "InvalidArn");
    return Ok({{"stateMachineArn", m->arn},
               {"name", m->name},
               {"status", "ACTIVE"},
               {"definition", m->definition},
               {"roleArn", m->role_arn},
               {"type", m->type},
               {"creationDate", Seconds(m->created_ms)}});
  }
  if (action == "ListStateMachines") {
    auto paging = ReadPaging(in);
    if (!paging.ok()) return AwsError(paging.status(), "InvalidToken", "", "ValidationException");
    auto all = service->ListStateMachines();
    if (!all.ok()) return AwsError(all.status(), kNoMachine, "", "ValidationException");
    json items = json::array();
    for (size_t i = paging->offset; i < all->size() && items.size() < paging->size; ++i) {
      const auto& m = (*all)[i];
      items.push_back({{"stateMachineArn", m.arn},
                       {"name", m.name},
                       {"type", m.type},
                       {"creationDate", Seconds(m.created_ms)}});
    }
    json out = {{"stateMachines", items}};
    if (paging->offset + items.size() < all->size()) {
      out["nextToken"] = std::to_string(paging->offset + items.size());
    }
    return Ok(out);
  }
  if (action == "StartExecution") {
    auto arn = Member(in, "stateMachineArn");
    if (!arn.ok()) return Error("ValidationException", arn.status().message());
    auto e = service->StartExecution(*arn, in.value("name", ""), in.value("input", ""));
    if (!e.ok()) {
      const bool input_problem = e.status().message().rfind("Invalid execution input", 0) == 0;
      return AwsError(e.status(), kNoMachine, "ExecutionAlreadyExists",
                      input_problem ? "InvalidExecutionInput" : "InvalidName");
    }
    return Ok({{"executionArn", e->arn}, {"startDate", Seconds(e->start_ms)}});
  }
  if (action == "DescribeExecution") {
    auto arn = Member(in, "executionArn");
    if (!arn.ok()) return Error("ValidationException", arn.status().message());
    auto e = service->DescribeExecution(*arn);
    if (!e.ok()) return AwsError(e.status(), kNoExecution, "", "InvalidArn");
    json out = ExecutionItem(*e);
    out["input"] = e->input;
    out["inputDetails"] = {{"included", true}};
    if (e->output) {
      out["output"] = *e->output;
      out["outputDetails"] = {{"included", true}};
    }
    if (!e->error.empty()) out["error"] = e->error;
    if (!e->cause.empty()) out["cause"] = e->cause;
    // RedriveExecution's rule: only an ended execution that did not succeed.
    const bool redrivable =
        e->status == "FAILED" || e->status == "TIMED_OUT" || e->status == "ABORTED";
    out["redriveStatus"] = redrivable ? "REDRIVABLE" : "NOT_REDRIVABLE";
    return Ok(out);
  }
  if (action == "GetExecutionHistory") {
    auto arn = Member(in, "executionArn");
    if (!arn.ok()) return Error("ValidationException", arn.status().message());
    auto paging = ReadPaging(in);
    if (!paging.ok()) return AwsError(paging.status(), "InvalidToken", "", "ValidationException");
    auto events = service->History(*arn);
    if (!events.ok()) return AwsError(events.status(), kNoExecution, "", "InvalidArn");
    if (in.value("reverseOrder", false)) std::reverse(events->begin(), events->end());
    const bool with_data = in.value("includeExecutionData", true);
    json items = json::array();
    for (size_t i = paging->offset; i < events->size() && items.size() < paging->size; ++i) {
      json ev = (*events)[i];
      if (!with_data) {
        // Inputs and outputs left out, as AWS does for includeExecutionData false.
        for (auto& [key, details] : ev.items()) {
          if (!details.is_object()) continue;
          for (const char* field : {"input", "output"}) details.erase(field);
          (void)key;
        }
      }
      items.push_back(std::move(ev));
    }
    json out = {{"events", items}};
    if (paging->offset + items.size() < events->size()) {
      out["nextToken"] = std::to_string(paging->offset + items.size());
    }
    return Ok(out);
  }
  if (action == "ListExecutions") {
    auto arn = Member(in, "stateMachineArn");
    if (!arn.ok()) return Error("ValidationException", arn.status().message());
    auto paging = ReadPaging(in);
    if (!paging.ok()) return AwsError(paging.status(), "InvalidToken", "", "ValidationException");
    const std::string status = in.value("statusFilter", "");
    if (!status.empty() && status != "RUNNING" && status != "SUCCEEDED" && status != "FAILED" &&
        status != "TIMED_OUT" && status != "ABORTED" && status != "PENDING_REDRIVE") {
      return Error("ValidationException", "1 validation error detected: Value '" + status +
                                              "' at 'statusFilter' failed to satisfy "
                                              "constraint: Member must satisfy enum value set: "
                                              "[SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, "
                                              "FAILED, RUNNING]");
    }
    auto rows = service->ListExecutions(*arn, status);
    if (!rows.ok()) return AwsError(rows.status(), kNoMachine, "", "InvalidArn");
    // sagebox redrives at once: nothing waits in PENDING_REDRIVE.
    if (status == "PENDING_REDRIVE") rows->clear();
    json items = json::array();
    for (size_t i = paging->offset; i < rows->size() && items.size() < paging->size; ++i) {
      items.push_back(ExecutionItem((*rows)[i]));
    }
    json out = {{"executions", items}};
    if (paging->offset + items.size() < rows->size()) {
      out["nextToken"] = std::to_string(paging->offset + items.size());
    }
    return Ok(out);
  }
  if (action == "StopExecution") {
    auto arn = Member(in, "executionArn");
    if (!arn.ok()) return Error("ValidationException", arn.status().message());
    Status s = service->StopExecution(*arn, in.value("error", ""), in.value("cause", ""));
    if (!s.ok()) return AwsError(s, kNoExecution, "", "ValidationException");
    auto e = service->DescribeExecution(*arn);
    if (!e.ok()) return AwsError(e.status(), kNoExecution, "", "InvalidArn");
    const double stop = e->stop_ms ? Seconds(*e->stop_ms)
                                   : static_cast<double>(std::time(nullptr));  // still ending
    return Ok({{"stopDate", stop}});
  }
  if (action == "RedriveExecution") {
    auto arn = Member(in, "executionArn");
    if (!arn.ok()) return Error("ValidationException", arn.status().message());
    auto e = service->RedriveExecution(*arn);
    if (!e.ok()) return AwsError(e.status(), kNoExecution, "", "ExecutionNotRedrivable");
    return Ok({{"redriveDate", Seconds(e->redrive_ms.value_or(e->start_ms))}});
  }
  return Error("UnknownOperationException",
               "sagebox does not implement AWSStepFunctions." + action);
}

// Describe*, List* and Get* change nothing.
bool IsReadAction(std::string_view action) {
  return action.starts_with("Describe") || action.starts_with("List") || action.starts_with("Get");
}

// One action with its JSON body, for a caller with `role`.
http::ApiResponse Answer(runtime::PipelineService* service, const std::string& action,
                         const std::string& body, const std::string& role) {
  const json in = json::parse(body.empty() ? "{}" : body, nullptr, false);
  if (in.is_discarded() || !in.is_object()) {
    return Error("SerializationException", "the body is not a JSON object");
  }
  if (!IsReadAction(action) && role == "viewer") {
    return Error("AccessDeniedException", "the viewer role can only read", 403);
  }
  try {
    return Handle(service, action, in);
  } catch (const std::exception& e) {
    // nlohmann::json throws on a member of the wrong type the checks missed.
    return Error("ValidationException", std::string("a member has the wrong type: ") + e.what());
  }
}

}  // namespace

http::ApiResponse HandleStepFunctions(runtime::PipelineService* service,
                                      const http::ApiRequest& req) {
  const std::string target = req.Header("X-Amz-Target");
  return Answer(service, target.substr(target.find('.') + 1), req.body, req.principal.role);
}

http::ApiResponse HandleStepFunctionsForUi(runtime::PipelineService* service,
                                           const http::ApiRequest& req) {
  const std::string action = req.path.substr(req.path.rfind('/') + 1);
  if (req.method != "GET" && req.method != "POST") {
    return http::ErrorBody(405, "UnknownOperationException",
                           "GET with ?input=<the action's JSON body>, or POST the body");
  }
  if (!IsReadAction(action)) {
    return http::ErrorBody(403, "AccessDeniedException",
                           "the UI route only reads; " + action +
                               " goes to POST / with X-Amz-Target, signed (boto3, the AWS CLI)");
  }
  http::ApiResponse r = Answer(service, action, req.method == "GET" ? req.Param("input") : req.body,
                               req.principal.role);
  json out = json::parse(r.body, nullptr, false);
  if (r.status != 200) {
    // An /api/ route answers in the API's one error shape; the AWS error name is its code.
    const std::string type = out.is_object() ? out.value("__type", "") : "";
    return http::ErrorBody(r.status, type.substr(type.find('#') + 1),
                           out.is_object() ? out.value("message", r.body) : r.body);
  }
  if (action != "DescribeExecution" || !out.is_object()) return r;
  auto e = service->DescribeExecution(out.value("executionArn", ""));
  if (e.ok()) out["costUsd"] = e->cost_usd.ToString();
  return Ok(out);
}

void RegisterStepFunctionsRoutes(http::Router& router, runtime::PipelineService* service) {
  router.AddApi("stepfunctions-ui", "/api/pipeline/sfn/", [service](const http::ApiRequest& req) {
    return HandleStepFunctionsForUi(service, req);
  });
  for (const char* action : kActions) {
    router.AddAwsJson(
        "stepfunctions", std::string("AWSStepFunctions.") + action, "states",
        [service](const http::ApiRequest& req) { return HandleStepFunctions(service, req); });
  }
}

}  // namespace sagebox::pipeline::api
