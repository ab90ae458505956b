#include "chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace striate::bench {
namespace {

constexpr int kRow = 14, kBarHeight = 10, kTop = 34, kBottom = 40, kPlotWidth = 600, kMargin = 10;
constexpr int kValueSpace = 48;  // right of the plot, for a clipped bar's value
constexpr double kAxisCap = 4;   // ratios beyond this are clipped (their value is printed)
const tools::Rgb kGray{150, 150, 150};

tools::Rgb band_color(double v) {
  if (v >= 1) return tools::kGreen;
  if (v >= 0.8) return tools::kBlue;
  if (v >= 0.5) return tools::kOrange;
  return tools::kRed;
}

std::string two_decimals(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// The geometry both renderings share.
struct Layout {
  int label_width, plot_left, plot_right, width, height;
  double axis_max;

  Layout(const std::vector<Bar>& bars, int widest_label) {
    label_width = widest_label;
    plot_left = kMargin + label_width + 8;
    plot_right = plot_left + kPlotWidth;
    width = plot_right + kValueSpace + kMargin;
    height = kTop + static_cast<int>(bars.size()) * kRow + kBottom;
    axis_max = chart_axis_max(bars);
  }
  double x_of(double v) const {
    return plot_left + std::clamp(v, 0.0, axis_max) / axis_max * (plot_right - plot_left);
  }
  int row_top(size_t i) const { return kTop + static_cast<int>(i) * kRow + (kRow - kBarHeight) / 2; }
  int plot_bottom(size_t bars) const { return kTop + static_cast<int>(bars) * kRow; }
};

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string svg_color(const tools::Rgb& c) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

}  // namespace

std::vector<Bar> ratio_bars(const std::vector<ConvResult>& results) {
  std::vector<Bar> bars;
  for (const ConvResult& r : results)
    if (const auto ratio = speed_ratio(r.native, r.library))
      bars.push_back({r.c.suite + " " + r.c.name + " " + layout_name(r.c.params) +
                          (r.c.params.allow_tf32 ? " tf32 " : " ") + pass_tag(r.pass),
                      *ratio});
  return bars;
}

double chart_axis_max(const std::vector<Bar>& bars) {
  double top = 2;
  for (const Bar& b : bars)
    if (std::isfinite(b.value)) top = std::max(top, b.value);
  return std::min(kAxisCap, std::ceil(top * 2) / 2);
}

tools::Canvas render_ratio_chart(const std::vector<Bar>& bars, const std::string& title) {
  int widest = 0;
  for (const Bar& b : bars) widest = std::max(widest, tools::Canvas::text_width(b.label));
  const Layout l(bars, widest);
  tools::Canvas canvas(l.width, l.height);
  canvas.text(kMargin, 8, title, tools::kBlack, 2);
  const int bottom = l.plot_bottom(bars.size());
  for (double t : tools::nice_ticks(0, l.axis_max, 8)) {
    const double x = l.x_of(t);
    canvas.line(x, kTop, x, bottom, tools::kGrid);
    const std::string label = tick_label(t);
    canvas.text(static_cast<int>(x) - tools::Canvas::text_width(label) / 2, bottom + 6, label, tools::kBlack);
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const int y = l.row_top(i);
    canvas.text(l.plot_left - 8 - tools::Canvas::text_width(b.label), y + 1, b.label, tools::kBlack);
    const int x1 = static_cast<int>(std::lround(l.x_of(b.value)));
    if (x1 > l.plot_left) canvas.fill_rect(l.plot_left, y, x1 - 1, y + kBarHeight - 1, band_color(b.value));
    canvas.text(x1 + 3, y + 1, two_decimals(b.value), tools::kBlack);
  }
  canvas.line(l.x_of(1), kTop, l.x_of(1), bottom, tools::kBlack);
  for (int y = kTop; y < bottom; y += 8) canvas.line(l.x_of(0.8), y, l.x_of(0.8), y + 3, kGray);
  canvas.line(l.plot_left, kTop, l.plot_left, bottom, tools::kBlack);
  const std::string axis = "cudnn time / native time (above 1: native is faster)";
  canvas.text(l.plot_left + (kPlotWidth - tools::Canvas::text_width(axis)) / 2, bottom + 22, axis, tools::kBlack);
  return canvas;
}

std::string ratio_chart_svg(const std::vector<Bar>& bars, const std::string& title) {
  // About 6.6 px a character at font-size 11 monospace, as the Canvas's 6 px font.
  size_t widest = 0;
  for (const Bar& b : bars) widest = std::max(widest, b.label.size());
  const Layout l(bars, static_cast<int>(widest * 7));
  const int bottom = l.plot_bottom(bars.size());
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << l.width << "\" height=\"" << l.height
     << "\" font-family=\"monospace\" font-size=\"11\">\n"
     << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
     << "<text x=\"" << kMargin << "\" y=\"22\" font-size=\"16\">" << xml_escape(title) << "</text>\n";
  for (double t : tools::nice_ticks(0, l.axis_max, 8)) {
    const double x = l.x_of(t);
    os << "<line x1=\"" << x << "\" y1=\"" << kTop << "\" x2=\"" << x << "\" y2=\"" << bottom
       << "\" stroke=\"" << svg_color(tools::kGrid) << "\"/>\n"
       << "<text x=\"" << x << "\" y=\"" << bottom + 16 << "\" text-anchor=\"middle\">" << tick_label(t) << "</text>\n";
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const int y = l.row_top(i);
    const double x1 = l.x_of(b.value);
    os << "<text x=\"" << l.plot_left - 8 << "\" y=\"" << y + 9 << "\" text-anchor=\"end\">" << xml_escape(b.label)
       << "</text>\n"
       << "<rect class=\"bar\" x=\"" << l.plot_left << "\" y=\"" << y << "\" width=\"" << x1 - l.plot_left
       << "\" height=\"" << kBarHeight << "\" fill=\"" << svg_color(band_color(b.value)) << "\"/>\n"
       << "<text x=\"" << x1 + 3 << "\" y=\"" << y + 9 << "\">" << two_decimals(b.value) << "</text>\n";
  }
  os << "<line x1=\"" << l.x_of(1) << "\" y1=\"" << kTop << "\" x2=\"" << l.x_of(1) << "\" y2=\"" << bottom
     << "\" stroke=\"#000000\"/>\n"
     << "<line x1=\"" << l.x_of(0.8) << "\" y1=\"" << kTop << "\" x2=\"" << l.x_of(0.8) << "\" y2=\"" << bottom
     << "\" stroke=\"" << svg_color(kGray) << "\" stroke-dasharray=\"4 4\"/>\n"
     << "<text x=\"" << l.plot_left + kPlotWidth / 2 << "\" y=\"" << bottom + 34
     << "\" text-anchor=\"middle\">cuDNN time / native time (above 1: native is faster)</text>\n"
     << "</svg>\n";
  return os.str();
}

}  // namespace striate::bench
