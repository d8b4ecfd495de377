// sfn_routes.h: the AWS Step Functions API on `sagebox serve`, AWS JSON 1.0 (X-Amz-Target
// "AWSStepFunctions.<Action>", signing service "states"), for boto3's `stepfunctions` client
// and the AWS CLI with --endpoint-url:
//   CreateStateMachine, DescribeStateMachine, ListStateMachines, StartExecution,
//   DescribeExecution, GetExecutionHistory, ListExecutions, StopExecution, RedriveExecution.
// Shapes follow the Step Functions API reference
// (https://docs.aws.amazon.com/step-functions/latest/apireference/); times are epoch seconds,
// as the JSON protocol carries them. Semantics are the PipelineService's
// (pipeline/runtime/pipeline_service.h): executions run in the server process.
//
// Errors are AWS's (400 unless noted): InvalidDefinition, InvalidName, InvalidArn,
// StateMachineAlreadyExists, StateMachineDoesNotExist, ExecutionAlreadyExists,
// ExecutionDoesNotExist, InvalidExecutionInput, ExecutionNotRedrivable, InvalidToken,
// ValidationException, AccessDeniedException (403, the viewer role writing),
// SerializationException (a body that is not a JSON object), InternalFailure (500).
//
// Thread-safety: the handlers are safe to call concurrently (the service is).
#pragma once

#include "http/api.h"
#include "http/http_server.h"
#include "pipeline/runtime/pipeline_service.h"

namespace sagebox::pipeline::api {

// Answers one Step Functions action (the target is in the X-Amz-Target header).
http::ApiResponse HandleStepFunctions(runtime::PipelineService* service,
                                      const http::ApiRequest& req);

// Registers the actions on `router`. `service` must outlive the server.
void RegisterStepFunctionsRoutes(http::Router& router, runtime::PipelineService* service);

}  // namespace sagebox::pipeline::api
