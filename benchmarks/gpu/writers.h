// A Report as JSON (every number, for tools and later comparisons) and as
// Markdown (the tables docs/perf/ keeps). Pure functions.
#pragma once

#include <string>

#include "report.h"
#include "striate/io/json.h"

namespace striate::bench {

// Times in milliseconds (median, min, max, mean, count); a failed timing is
// {"error": "..."}; derived figures are null where a timing is missing.
io::Json report_to_json(const Report& report);
std::string report_json_text(const Report& report);  // to_json(report_to_json(report)) + "\n"

// The header (device, driver, CUDA, cuDNN, cuBLAS, commit, date, the two
// floors), then one table per part that ran, each stating its conventions.
std::string report_to_markdown(const Report& report);

// A table cell: '|' escaped, line breaks as spaces.
std::string markdown_cell(const std::string& text);

}  // namespace striate::bench
