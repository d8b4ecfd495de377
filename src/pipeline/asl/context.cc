#include "pipeline/asl/context.h"

namespace sagebox::pipeline::asl {

using nlohmann::json;

json BuildContextObject(const ContextValues& v) {
  json execution = {{"Id", v.execution_id},      {"Input", v.execution_input},
                    {"Name", v.execution_name},  {"RoleArn", v.role_arn},
                    {"StartTime", v.start_time}, {"RedriveCount", v.redrive_count}};
  if (v.redrive_time) execution["RedriveTime"] = *v.redrive_time;
  json out = {{"Execution", std::move(execution)},
              {"State",
               {{"EnteredTime", v.state_entered_time},
                {"Name", v.state_name},
                {"RetryCount", v.state_retry_count}}},
              {"StateMachine", {{"Id", v.state_machine_id}, {"Name", v.state_machine_name}}}};
  if (v.task_token) out["Task"] = {{"Token", *v.task_token}};
  if (v.map_item_index) {
    out["Map"] = {{"Item", {{"Index", *v.map_item_index}, {"Value", v.map_item_value}}}};
  }
  return out;
}

}  // namespace sagebox::pipeline::asl
