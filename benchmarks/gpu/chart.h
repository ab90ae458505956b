// The bar chart of native/cuDNN ratios, one bar per convolution case and
// pass: drawn on the striate command's Canvas (tools/plot.h) for a PNG, or
// written as SVG text when the library has no PNG writer. Pure.
#pragma once

#include <string>
#include <vector>

#include "plot.h"
#include "report.h"

namespace striate::bench {

struct Bar {
  std::string label;
  double value;  // cuDNN time / native time
};

// The cases with both timings, in the report's order.
std::vector<Bar> ratio_bars(const std::vector<ConvResult>& results);

// Horizontal bars from a shared axis at 0, a line at 1 (parity) and a dashed
// one at 0.8 (the target); bars coloured by band (>= 1, >= 0.8, >= 0.5, below).
tools::Canvas render_ratio_chart(const std::vector<Bar>& bars, const std::string& title);
std::string ratio_chart_svg(const std::vector<Bar>& bars, const std::string& title);

// The axis end: the largest ratio (at least 2) rounded up to a tick of 0.5.
double chart_axis_max(const std::vector<Bar>& bars);

}  // namespace striate::bench
