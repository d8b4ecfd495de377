// sagemaker_routes.cc: SageMaker job actions over AWS JSON 1.1 (sagemaker_routes.h).
#include "pipeline/api/sagemaker_routes.h"

#include <nlohmann/json.hpp>

namespace sagebox::pipeline::api {

namespace {

using nlohmann::json;
using sagemaker::JobKind;

constexpr const char* kActions[] = {
    "CreateProcessingJob", "DescribeProcessingJob", "ListProcessingJobs", "StopProcessingJob",
    "CreateTrainingJob",   "DescribeTrainingJob",   "ListTrainingJobs",   "StopTrainingJob"};

http::ApiResponse AwsError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kBadInput:
      return http::AwsJsonError(400, "ValidationException", s.message());
    case StatusCode::kNotFound:
      return http::AwsJsonError(400, "ResourceNotFound", s.message());
    case StatusCode::kAlreadyExists:
      return http::AwsJsonError(400, "ResourceInUse", s.message());
    default:
      return http::AwsJsonError(500, "InternalFailure", s.message());
  }
}

http::ApiResponse Ok(const json& j) {
  http::ApiResponse r = http::JsonResponse(j);
  r.content_type = http::kAmzJson;
  return r;
}

}  // namespace

std::string RegionOfRequest(const http::ApiRequest& req) {
  // Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-west-2/sagemaker/aws4_request, ...
  const std::string auth = req.Header("Authorization");
  const auto c = auth.find("Credential=");
  if (c == std::string::npos) return "";
  const auto end = auth.find_first_of(", ", c);
  const std::string scope = auth.substr(c + 11, end == std::string::npos ? end : end - c - 11);
  // AKID/date/region/service/aws4_request
  size_t pos = 0;
  for (int i = 0; i < 2; ++i) {
    pos = scope.find('/', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  const auto next = scope.find('/', pos);
  if (next == std::string::npos) return "";
  return scope.substr(pos, next - pos);
}

http::ApiResponse HandleSageMakerJobs(sagemaker::JobService* service, const http::ApiRequest& req) {
  const std::string target = req.Header("X-Amz-Target");
  const std::string action = target.substr(target.find('.') + 1);
  json in = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (in.is_discarded() || !in.is_object()) {
    return http::AwsJsonError(400, "SerializationException", "the body is not a JSON object");
  }
  const bool processing = action.find("Processing") != std::string::npos;
  const JobKind kind = processing ? JobKind::kProcessing : JobKind::kTraining;
  const char* name_key = processing ? "ProcessingJobName" : "TrainingJobName";
  const bool writes = action.rfind("Create", 0) == 0 || action.rfind("Stop", 0) == 0;
  if (writes && req.principal.role == "viewer") {
    return http::AwsJsonError(403, "AccessDeniedException", "the viewer role can only read");
  }
  auto name = [&]() -> StatusOr<std::string> {
    auto it = in.find(name_key);
    if (it == in.end() || !it->is_string()) {
      std::string member(name_key);
      member[0] = static_cast<char>(member[0] - 'A' + 'a');
      return InvalidArgument("1 validation error detected: Value null at '" + member +
                             "' failed to satisfy constraint: Member must not be null");
    }
    return it->get<std::string>();
  };
  try {
    if (action.rfind("Create", 0) == 0) {
      auto arn = service->CreateJob(kind, in, RegionOfRequest(req));
      if (!arn.ok()) return AwsError(arn.status());
      return Ok({{processing ? "ProcessingJobArn" : "TrainingJobArn", *arn}});
    }
    if (action.rfind("Describe", 0) == 0) {
      auto n = name();
      if (!n.ok()) return AwsError(n.status());
      auto d = service->Describe(kind, *n);
      if (!d.ok()) return AwsError(d.status());
      return Ok(*d);
    }
    if (action.rfind("List", 0) == 0) {
      auto l = service->List(kind, in);
      if (!l.ok()) return AwsError(l.status());
      return Ok(*l);
    }
    if (action.rfind("Stop", 0) == 0) {
      auto n = name();
      if (!n.ok()) return AwsError(n.status());
      Status s = service->Stop(kind, *n);
      if (!s.ok()) return AwsError(s);
      return Ok(json::object());
    }
  } catch (const std::exception& e) {
    // nlohmann::json throws on a type mismatch the validation missed: a bug, reported.
    return http::AwsJsonError(500, "InternalFailure", e.what());
  }
  return http::AwsJsonError(400, "UnknownOperationException",
                            "sagebox does not implement SageMaker." + action);
}

void RegisterSageMakerRoutes(http::Router& router, sagemaker::JobService* service) {
  for (const char* action : kActions) {
    router.AddAwsJson(
        "sagemaker-jobs", std::string("SageMaker.") + action, "sagemaker",
        [service](const http::ApiRequest& req) { return HandleSageMakerJobs(service, req); });
  }
}

}  // namespace sagebox::pipeline::api
