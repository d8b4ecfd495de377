// sagemaker_routes.h: the SageMaker control-plane actions for processing and training jobs
// on `sagebox serve`, AWS JSON 1.1 (X-Amz-Target "SageMaker.<Action>"), for boto3's
// `sagemaker` client with endpoint_url:
//   CreateProcessingJob, DescribeProcessingJob, ListProcessingJobs, StopProcessingJob,
//   CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob.
// Each action is registered by its full target name: the endpoint module registers the
// prefix "SageMaker." and the router picks the longest prefix (http/http_server.h).
// Shapes and semantics are the JobService's (pipeline/sagemaker/job_service.h). Errors are
// AWS's: ValidationException (400; also a Stop of a job that is not InProgress),
// ResourceNotFound (400), ResourceInUse (400, a taken name), AccessDeniedException (403,
// a viewer creating or stopping), SerializationException (400, a body that is not a JSON
// object), InternalFailure (500). The region of a signed request (its SigV4 credential
// scope) prices the job and goes into its ARN; unsigned requests use the service's default.
//
// Thread-safety: the handlers are safe to call concurrently (the JobService is).
#pragma once

#include <string>

#include "http/api.h"
#include "http/http_server.h"
#include "pipeline/sagemaker/job_service.h"

namespace sagebox::pipeline::api {

// Answers one SageMaker job action (the target is in the X-Amz-Target header).
http::ApiResponse HandleSageMakerJobs(sagemaker::JobService* service, const http::ApiRequest& req);

// The region in a SigV4 Authorization header's credential scope, or "" when there is none.
std::string RegionOfRequest(const http::ApiRequest& req);

// Registers the eight actions on `router`. `service` must outlive the server.
void RegisterSageMakerRoutes(http::Router& router, sagemaker::JobService* service);

}  // namespace sagebox::pipeline::api
