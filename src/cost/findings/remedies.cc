#include "cost/findings/remedies.h"

#include <fmt/format.h>

namespace sagebox::findings {

nlohmann::json RestrictInstanceTypesPolicy(const std::string& sid, const std::string& action,
                                           const std::vector<std::string>& allowed) {
  return {
      {"Version", "2012-10-17"},
      {"Statement",
       {{{"Sid", sid},
         {"Effect", "Deny"},
         {"Action", {action}},
         {"Resource", {"*"}},
         {"Condition", {{"ForAnyValue:StringNotLike", {{"sagemaker:InstanceTypes", allowed}}}}}}}}};
}

namespace {
// Our own on-start script (not AWS's sample): every 5 minutes, stop the
// instance when no kernel is busy and none was active for the idle time,
// and the instance has been up at least that long.
constexpr const char* kAutoStopScript = R"(#!/bin/bash
# sagebox: stop this notebook instance after IDLE_MINUTES without kernel activity.
set -eu
IDLE_MINUTES={idle}
cat > /home/ec2-user/sagebox-autostop.py <<'PY'
import datetime, json, ssl, subprocess, sys, urllib.request
idle = int(sys.argv[1]) * 60
if float(open("/proc/uptime").read().split()[0]) < idle:
    sys.exit(0)
ctx = ssl._create_unverified_context()
sessions = json.load(urllib.request.urlopen("https://localhost:8443/api/sessions", context=ctx))
now = datetime.datetime.now(datetime.timezone.utc)
for s in sessions:
    k = s["kernel"]
    if k["execution_state"] == "busy":
        sys.exit(0)
    last = datetime.datetime.fromisoformat(k["last_activity"].replace("Z", "+00:00"))
    if (now - last).total_seconds() < idle:
        sys.exit(0)
name = json.load(open("/opt/ml/metadata/resource-metadata.json"))["ResourceName"]
subprocess.run(["aws", "sagemaker", "stop-notebook-instance",
                "--notebook-instance-name", name], check=True)
PY
echo "*/5 * * * * /usr/bin/python3 /home/ec2-user/sagebox-autostop.py $IDLE_MINUTES" | crontab -u ec2-user -
)";
}  // namespace

nlohmann::json NotebookAutoStop(const std::string& notebook_name, int idle_minutes) {
  std::string script = kAutoStopScript;
  auto pos = script.find("{idle}");
  script.replace(pos, 6, std::to_string(idle_minutes));
  return {{"lifecycle_config_name", "sagebox-auto-stop"},
          {"idle_minutes", idle_minutes},
          {"on_start_script", script},
          {"commands",
           {"aws sagemaker create-notebook-instance-lifecycle-config "
            "--notebook-instance-lifecycle-config-name sagebox-auto-stop "
            "--on-start Content=\"$(base64 -w0 on-start.sh)\"",
            "aws sagemaker stop-notebook-instance --notebook-instance-name " + notebook_name,
            "aws sagemaker update-notebook-instance --notebook-instance-name " + notebook_name +
                " --lifecycle-config-name sagebox-auto-stop",
            "aws sagemaker start-notebook-instance --notebook-instance-name " + notebook_name}},
          {"note",
           "The role of the notebook instance needs sagemaker:StopNotebookInstance on itself."}};
}

nlohmann::json StudioIdleShutdown(const std::string& domain_id, int idle_minutes) {
  nlohmann::json settings = {
      {"JupyterLabAppSettings",
       {{"AppLifecycleManagement",
         {{"IdleSettings",
           {{"LifecycleManagement", "ENABLED"}, {"IdleTimeoutInMinutes", idle_minutes}}}}}}}};
  return {{"idle_minutes", idle_minutes},
          {"commands",
           {fmt::format("aws sagemaker update-domain --domain-id {} --default-user-settings '{}'",
                        domain_id.empty() ? "<domain-id>" : domain_id, settings.dump())}},
          {"studio_classic",
           "For Studio Classic KernelGateway apps, install AWS's "
           "sagemaker-studio-auto-shutdown-extension as a JupyterServer lifecycle "
           "configuration (create-studio-lifecycle-config --studio-lifecycle-config-app-type "
           "JupyterServer) and attach it to the domain."}};
}

}  // namespace sagebox::findings
