// remedies.h: the concrete fixes findings recommend, ready to paste.
//
// IAM policies that restrict instance types (the articles' pattern:
// Deny Create* unless sagemaker:InstanceTypes is in an allowed list), idle
// auto-stop lifecycle configurations for notebook instances and Studio, and
// cleanup commands. Text only: sagebox never calls AWS.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sagebox::findings {

// {"Version": "2012-10-17", "Statement": [{"Sid", "Effect": "Deny", "Action": [action],
//  "Resource": ["*"], "Condition": {"ForAnyValue:StringNotLike":
//  {"sagemaker:InstanceTypes": allowed}}}]}. `action` is e.g.
// "sagemaker:CreateNotebookInstance" or "sagemaker:CreateApp".
nlohmann::json RestrictInstanceTypesPolicy(const std::string& sid, const std::string& action,
                                           const std::vector<std::string>& allowed);

// Auto-stop for a notebook instance after `idle_minutes` without Jupyter
// activity: the on-start script and the commands that install it.
nlohmann::json NotebookAutoStop(const std::string& notebook_name, int idle_minutes);

// Idle shutdown for Studio apps: the domain setting (JupyterLab and Code
// Editor apps in current Studio) and, for Studio Classic, the lifecycle
// configuration route.
nlohmann::json StudioIdleShutdown(const std::string& domain_id, int idle_minutes);

}  // namespace sagebox::findings
