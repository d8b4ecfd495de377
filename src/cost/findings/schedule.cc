#include "cost/findings/schedule.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <exception>

namespace sagebox::findings {

namespace {
constexpr const char* kDayNames[] = {"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};

bool Scheduled(const Schedule& s, int local_how) {
  const int wd = local_how / 24, h = local_how % 24;
  if (std::find(s.weekdays.begin(), s.weekdays.end(), wd) == s.weekdays.end()) return false;
  return h >= s.start_hour && h < s.end_hour;
}
}  // namespace

StatusOr<int64_t> UtcOffsetSeconds(const std::string& timezone, UnixSeconds at) {
  if (timezone.empty() || timezone == "UTC" || timezone == "Etc/UTC") return int64_t{0};
  try {
    const date::time_zone* z = date::locate_zone(timezone);
    auto info = z->get_info(date::sys_seconds{std::chrono::seconds{at}});
    return static_cast<int64_t>(info.offset.count());
  } catch (const std::exception& e) {
    return InvalidArgument("unknown timezone '" + timezone +
                           "' (expected an IANA name such as Europe/Berlin or America/New_York)");
  }
}

double ScheduledHoursPerWeek(const Schedule& s) {
  int n = 0;
  for (int how = 0; how < 168; ++how) n += Scheduled(s, how) ? 1 : 0;
  return n;
}

double ShareOutsideSchedule(const std::array<double, 168>& utc, const Schedule& s,
                            int64_t offset_seconds) {
  // Whole-hour offsets cover nearly every zone; half-hour zones round down
  // (India's 08:00 window starts at 07:30 UTC+5:30 -> hour 02 UTC), a shift
  // of at most half an hour in the estimate.
  const int64_t shift = offset_seconds >= 0 ? offset_seconds / 3600 : -((-offset_seconds) / 3600);
  double total = 0, outside = 0;
  for (int how = 0; how < 168; ++how) {
    total += utc[static_cast<size_t>(how)];
    const int local = static_cast<int>(((how + shift) % 168 + 168) % 168);
    if (!Scheduled(s, local)) outside += utc[static_cast<size_t>(how)];
  }
  return total > 0 ? outside / total : 0.0;
}

MonthlyHours MonthlyHoursBySchedule(const std::array<double, 168>& utc, const Schedule& s,
                                    int64_t offset_seconds, UnixSeconds from, UnixSeconds to) {
  std::array<double, 168> seen{};
  for (UnixSeconds t = from - (from % 3600 + 3600) % 3600; t < to; t += 3600) {
    const Days d = DayOf(t);
    const int64_t wd = ((d % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday
    seen[static_cast<size_t>(wd * 24 + (t - static_cast<UnixSeconds>(d) * 86400) / 3600)] += 1;
  }
  double known = 0, known_slots = 0;
  for (size_t i = 0; i < 168; ++i) {
    if (seen[i] > 0) {
      known += utc[i] / seen[i];
      known_slots += 1;
    }
  }
  const double mean = known_slots > 0 ? known / known_slots : 0;
  const int64_t shift = offset_seconds >= 0 ? offset_seconds / 3600 : -((-offset_seconds) / 3600);
  MonthlyHours m;
  for (int how = 0; how < 168; ++how) {
    const size_t i = static_cast<size_t>(how);
    const double occ = seen[i] > 0 ? utc[i] / seen[i] : mean;
    m.total += occ;
    const int local = static_cast<int>(((how + shift) % 168 + 168) % 168);
    if (!Scheduled(s, local)) m.outside += occ;
  }
  m.total *= 730.0 / 168.0;
  m.outside *= 730.0 / 168.0;
  return m;
}

std::string WeekdaysText(const Schedule& s) {
  std::vector<int> d = s.weekdays;
  std::sort(d.begin(), d.end());
  d.erase(std::unique(d.begin(), d.end()), d.end());
  if (d.empty()) return "";
  bool contiguous = true;
  for (size_t i = 1; i < d.size(); ++i) contiguous &= d[i] == d[i - 1] + 1;
  if (contiguous && d.size() > 1) {
    return std::string(kDayNames[d.front() % 7]) + "-" + kDayNames[d.back() % 7];
  }
  std::string out;
  for (int x : d) {
    if (!out.empty()) out += ',';
    out += kDayNames[x % 7];
  }
  return out;
}

nlohmann::json ScheduleAction(const Schedule& s, const std::string& name,
                              const std::string& stop_api, const std::string& start_api,
                              const nlohmann::json& params) {
  const std::string days = WeekdaysText(s);
  auto cmd = [&](const char* verb, int hour, const std::string& api) {
    // EventBridge Scheduler's universal target calls the SageMaker API with
    // the role's permissions; the schedule carries its own timezone.
    return fmt::format(
        "aws scheduler create-schedule --name sagebox-{}-{} "
        "--schedule-expression 'cron(0 {} ? * {} *)' "
        "--schedule-expression-timezone '{}' --flexible-time-window Mode=OFF "
        "--target '{{\"Arn\": \"arn:aws:scheduler:::aws-sdk:sagemaker:{}\", "
        "\"RoleArn\": \"<scheduler-role-arn>\", \"Input\": {}}}'",
        verb, name, hour, days, s.timezone, api, nlohmann::json(params.dump()).dump());
  };
  nlohmann::json commands = nlohmann::json::array();
  commands.push_back(cmd("stop", s.end_hour % 24, stop_api));
  if (!start_api.empty()) commands.push_back(cmd("start", s.start_hour, start_api));
  return {{"type", "schedule"},
          {"timezone", s.timezone},
          {"weekdays", days},
          {"start", fmt::format("{:02}:00", s.start_hour)},
          {"stop", fmt::format("{:02}:00", s.end_hour % 24)},
          {"hours_per_week", ScheduledHoursPerWeek(s)},
          {"commands", std::move(commands)}};
}

}  // namespace sagebox::findings
