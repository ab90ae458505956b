#include "plot.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

namespace striate::tools {
namespace {

// A 5×7 font, drawn as text so that each glyph can be checked by eye.
struct Glyph {
  char c;
  const char* rows[7];
};

constexpr Glyph kFont[] = {
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
    {'%', {"##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"}},
    {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
    {'(', {"...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."}},
    {')', {".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."}},
    {':', {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}},
    {'/', {".....", "....#", "...#.", "..#..", ".#...", "#....", "....."}},
    {'a', {".....", ".....", ".###.", "....#", ".####", "#...#", ".####"}},
    {'b', {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."}},
    {'c', {".....", ".....", ".###.", "#....", "#....", "#...#", ".###."}},
    {'d', {"....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"}},
    {'e', {".....", ".....", ".###.", "#...#", "#####", "#....", ".###."}},
    {'f', {"..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."}},
    {'g', {".....", ".####", "#...#", "#...#", ".####", "....#", ".###."}},
    {'h', {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"}},
    {'i', {"..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."}},
    {'j', {"...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.."}},
    {'k', {"#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."}},
    {'l', {".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'m', {".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"}},
    {'n', {".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"}},
    {'o', {".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."}},
    {'p', {".....", ".....", "####.", "#...#", "####.", "#....", "#...."}},
    {'q', {".....", ".....", ".##.#", "#..##", ".####", "....#", "....#"}},
    {'r', {".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."}},
    {'s', {".....", ".....", ".###.", "#....", ".###.", "....#", "####."}},
    {'t', {".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."}},
    {'u', {".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"}},
    {'v', {".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'w', {".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."}},
    {'x', {".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"}},
    {'y', {".....", ".....", "#...#", "#...#", ".####", "....#", ".###."}},
    {'z', {".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"}},
};

const Glyph* find_glyph(char c) {
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Glyph& g : kFont)
    if (g.c == c) return &g;
  return nullptr;
}

constexpr int kAdvance = 6;  // 5 pixels of glyph, 1 of space

std::string format_tick(double value, double step) {
  // As many decimals as the step needs, so ticks read 0.25 0.50 0.75, not 0.2 0.5 0.8.
  int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  if (step < 1 && std::fabs(step * std::pow(10, decimals) - std::round(step * std::pow(10, decimals))) > 1e-6)
    ++decimals;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", std::clamp(decimals, 0, 6), value);
  return buf;
}

}  // namespace

Canvas::Canvas(int width, int height, Rgb background)
    : width_(width), height_(height), pixels_(static_cast<size_t>(width) * height * 3) {
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = background.r;
    pixels_[i + 1] = background.g;
    pixels_[i + 2] = background.b;
  }
}

void Canvas::set(int x, int y, Rgb color) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
  p[0] = color.r;
  p[1] = color.g;
  p[2] = color.b;
}

void Canvas::fill_rect(int x0, int y0, int x1, int y1, Rgb color) {
  for (int y = std::min(y0, y1); y <= std::max(y0, y1); ++y)
    for (int x = std::min(x0, x1); x <= std::max(x0, x1); ++x) set(x, y, color);
}

void Canvas::line(double fx0, double fy0, double fx1, double fy1, Rgb color, int thickness) {
  int x0 = static_cast<int>(std::lround(fx0)), y0 = static_cast<int>(std::lround(fy0));
  const int x1 = static_cast<int>(std::lround(fx1)), y1 = static_cast<int>(std::lround(fy1));
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  const int lo = -(thickness - 1) / 2, hi = thickness / 2;
  int err = dx + dy;
  for (;;) {
    fill_rect(x0 + lo, y0 + lo, x0 + hi, y0 + hi, color);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

int Canvas::text_width(const std::string& s, int scale) {
  return s.empty() ? 0 : (static_cast<int>(s.size()) * kAdvance - 1) * scale;
}

void Canvas::text(int x, int y, const std::string& s, Rgb color, int scale) {
  for (char c : s) {
    if (const Glyph* g = find_glyph(c))
      for (int row = 0; row < 7; ++row)
        for (int col = 0; col < 5; ++col)
          if (g->rows[row][col] == '#')
            fill_rect(x + col * scale, y + row * scale, x + (col + 1) * scale - 1, y + (row + 1) * scale - 1, color);
    x += kAdvance * scale;
  }
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(target, 1);
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  // Integer multiples of the step, so that errors do not accumulate.
  std::vector<double> ticks;
  const auto first = static_cast<int64_t>(std::ceil(lo / step - 1e-9));
  const auto last = static_cast<int64_t>(std::floor(hi / step + 1e-9));
  for (int64_t k = first; k <= last; ++k) ticks.push_back(static_cast<double>(k) * step);
  return ticks;
}

namespace {

void draw_panel(Canvas& canvas, const Chart& chart, int left, int top, int width, int height) {
  // Margins leave room for the title, tick labels and the x label.
  const int plot_left = left + 56, plot_right = left + width - 16;
  const int plot_top = top + 28, plot_bottom = top + height - 40;

  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const Series& s : chart.series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]);
      y_hi = std::max(y_hi, s.y[i]);
    }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  if (x_hi - x_lo < 1e-12) x_lo -= 0.5, x_hi += 0.5;
  if (y_hi - y_lo < 1e-12) y_lo -= 0.5, y_hi += 0.5;
  const double y_pad = (y_hi - y_lo) * 0.05;
  y_lo -= y_pad;
  y_hi += y_pad;

  auto px = [&](double x) { return plot_left + (x - x_lo) / (x_hi - x_lo) * (plot_right - plot_left); };
  auto py = [&](double y) { return plot_bottom - (y - y_lo) / (y_hi - y_lo) * (plot_bottom - plot_top); };

  canvas.text(left + (width - Canvas::text_width(chart.title, 2)) / 2, top + 6, chart.title, kBlack, 2);
  const std::vector<double> y_ticks = nice_ticks(y_lo, y_hi, 5);
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  for (double t : y_ticks) {
    const int y = static_cast<int>(std::lround(py(t)));
    canvas.line(plot_left, y, plot_right, y, kGrid);
    const std::string label = format_tick(t, y_step);
    canvas.text(plot_left - 6 - Canvas::text_width(label), y - 3, label, kBlack);
  }
  // Epochs are whole numbers: no ticks between them.
  std::vector<double> x_ticks = nice_ticks(x_lo, x_hi, 6);
  std::erase_if(x_ticks, [](double t) { return t != std::round(t); });
  for (double t : x_ticks) {
    const int x = static_cast<int>(std::lround(px(t)));
    canvas.line(x, plot_top, x, plot_bottom, kGrid);
    const std::string label = format_tick(t, 1.0);
    canvas.text(x - Canvas::text_width(label) / 2, plot_bottom + 6, label, kBlack);
  }
  canvas.line(plot_left, plot_top, plot_left, plot_bottom, kBlack);
  canvas.line(plot_left, plot_bottom, plot_right, plot_bottom, kBlack);
  canvas.text(plot_left + (plot_right - plot_left - Canvas::text_width(chart.x_label)) / 2, plot_bottom + 22,
              chart.x_label, kBlack);

  for (const Series& s : chart.series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i + 1 < n; ++i)
      canvas.line(px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1]), s.color, 2);
    for (size_t i = 0; i < n; ++i) {
      const int x = static_cast<int>(std::lround(px(s.x[i]))), y = static_cast<int>(std::lround(py(s.y[i])));
      canvas.fill_rect(x - 2, y - 2, x + 2, y + 2, s.color);
    }
  }
  // The legend sits on a white box in a corner, over the curves if it must.
  int label_width = 0;
  for (const Series& s : chart.series) label_width = std::max(label_width, Canvas::text_width(s.label));
  const int box_width = label_width + 34, box_height = static_cast<int>(chart.series.size()) * 12 + 6;
  const int box_right = plot_right - 6;
  const int box_top = chart.legend_at_bottom ? plot_bottom - 6 - box_height : plot_top + 6;
  if (!chart.series.empty()) {
    canvas.fill_rect(box_right - box_width, box_top, box_right, box_top + box_height, kWhite);
    for (int x = box_right - box_width; x <= box_right; ++x) {
      canvas.set(x, box_top, kGrid);
      canvas.set(x, box_top + box_height, kGrid);
    }
    for (int y = box_top; y <= box_top + box_height; ++y) {
      canvas.set(box_right - box_width, y, kGrid);
      canvas.set(box_right, y, kGrid);
    }
  }
  int legend_y = box_top + 4;
  for (const Series& s : chart.series) {
    const int legend_x = box_right - box_width + 6;
    canvas.line(legend_x, legend_y + 3, legend_x + 16, legend_y + 3, s.color, 2);
    canvas.text(legend_x + 22, legend_y, s.label, kBlack);
    legend_y += 12;
  }
}

}  // namespace

Canvas render_charts(const std::vector<Chart>& charts, int panel_width, int panel_height) {
  Canvas canvas(panel_width * std::max<int>(static_cast<int>(charts.size()), 1), panel_height);
  for (size_t i = 0; i < charts.size(); ++i)
    draw_panel(canvas, charts[i], static_cast<int>(i) * panel_width, 0, panel_width, panel_height);
  return canvas;
}

}  // namespace striate::tools
