// schedule.h: working-hours schedules in a timezone, and what they save.
//
// Always-on resources are judged against a schedule such as "weekdays
// 08:00-18:00 Europe/Berlin". The bill's usage is kept as an hour-of-week
// histogram in UTC (resource_usage.h); this file maps the schedule into UTC
// (with the zone's offset at a given instant, so DST is honoured for that
// instant) to find the share of usage that falls outside it, and writes the
// EventBridge Scheduler commands that enforce it.
//
// Thread-safety: pure functions; the timezone database is read-only.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "core/time.h"
#include "cost/findings/config.h"

namespace sagebox::findings {

// The zone's UTC offset in seconds at `at`. InvalidArgument naming the zone
// when it is unknown (the IANA database of the system is used).
StatusOr<int64_t> UtcOffsetSeconds(const std::string& timezone, UnixSeconds at);

// Hours per week the schedule keeps a resource running.
double ScheduledHoursPerWeek(const Schedule& s);

// For a UTC hour-of-week histogram of usage, the share of usage outside the
// schedule, with local time = UTC + offset_seconds. 0 when there is no usage.
double ShareOutsideSchedule(const std::array<double, 168>& utc_hour_of_week, const Schedule& s,
                            int64_t offset_seconds);

// Monthly (730 h) instance-hours of usage in all and outside the schedule.
// Each hour-of-week slot's average occupancy is its usage divided by how
// often the slot occurs in [from, to); slots the span never reaches (a bill
// of weekdays only) count at the mean occupancy of the slots it does.
struct MonthlyHours {
  double total = 0, outside = 0;
};
MonthlyHours MonthlyHoursBySchedule(const std::array<double, 168>& utc_hour_of_week,
                                    const Schedule& s, int64_t offset_seconds, UnixSeconds from,
                                    UnixSeconds to);

// {"type": "schedule", "timezone", "weekdays", "start", "stop", "commands": [...]}:
// EventBridge Scheduler schedules (which take the timezone themselves) that
// start and stop the resource. `stop_api`/`start_api` are SageMaker API
// names such as "stopNotebookInstance"; `params` is their JSON input.
nlohmann::json ScheduleAction(const Schedule& s, const std::string& name,
                              const std::string& stop_api, const std::string& start_api,
                              const nlohmann::json& params);

// "MON-FRI" style text for the weekdays of a schedule.
std::string WeekdaysText(const Schedule& s);

}  // namespace sagebox::findings
