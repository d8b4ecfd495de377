// findings_text.h: the findings report as an aligned table for people.
//
// One row per finding, ranked, then the recommendation of each under its
// number, then the notes (what could not be judged). The JSON form is
// ReportToJson (finding.h); the shareable HTML form is html_report.h.
//
// Thread-safety: pure function.
#pragma once

#include <string>

#include "cost/findings/finding.h"

namespace sagebox::findings {

// `width` is the terminal width used to cut long cells (0 = no limit).
std::string RenderFindingsTable(const FindingsReport& r, size_t width = 0);

}  // namespace sagebox::findings
