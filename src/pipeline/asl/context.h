// context.h: the context object `$$` a state sees, built from plain values.
//
// Shape from "Accessing execution data from the Context object in Step Functions"
// (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-contextobject.html):
// Execution {Id, Input, Name, RoleArn, StartTime, RedriveCount, RedriveTime}, State
// {EnteredTime, Name, RetryCount}, StateMachine {Id, Name}, Task {Token} (only for
// .waitForTaskToken integrations), Map {Item {Index, Value}} (only inside a Map iteration).
// Map.Item.Key and Map.Item.Source belong to the distributed Map and are not built here.
//
// Thread-safety: pure function; safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace sagebox::pipeline::asl {

struct ContextValues {
  std::string execution_id;  // execution ARN
  nlohmann::json execution_input = nlohmann::json::object();
  std::string execution_name;
  std::string role_arn;
  std::string start_time;  // ISO 8601 with milliseconds, "2019-03-26T20:14:13.192Z"
  int64_t redrive_count = 0;
  std::optional<std::string> redrive_time;  // only after a redrive
  std::string state_entered_time;
  std::string state_name;
  int64_t state_retry_count = 0;
  std::string state_machine_id;  // state machine ARN
  std::string state_machine_name;
  std::optional<std::string> task_token;
  std::optional<int64_t> map_item_index;  // set inside a Map iteration, with map_item_value
  nlohmann::json map_item_value;
};

// The `$$` object; optional parts appear only when set.
nlohmann::json BuildContextObject(const ContextValues& v);

}  // namespace sagebox::pipeline::asl
