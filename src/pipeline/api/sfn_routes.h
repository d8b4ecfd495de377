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
// The web UI's Pipeline tab reads the same actions at GET /api/pipeline/sfn/<Action>?input=
// <the JSON body> (or POST with the body): a JSON API route, opened by a bearer token or a
// session as every /api/ route, because a browser session cannot sign SigV4. GET, since it
// only reads: no CSRF token is needed, so a tab signed in from another tab works too. Only the
// reading actions (Describe*, List*, Get*) are answered there; DescribeExecution also carries
// `costUsd`, the execution's exact job cost so far (not in AWS's shape, so only on this route).
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

// The UI route: `action` is the path's last segment. 403 AccessDeniedException for an
// action that changes something; otherwise as HandleStepFunctions.
http::ApiResponse HandleStepFunctionsForUi(runtime::PipelineService* service,
                                           const http::ApiRequest& req);

// Registers the actions, and the UI route, on `router`. `service` must outlive the server.
void RegisterStepFunctionsRoutes(http::Router& router, runtime::PipelineService* service);

}  // namespace sagebox::pipeline::api
