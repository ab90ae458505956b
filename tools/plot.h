// Learning curves as a PNG, drawn by hand: an RGB canvas, lines, axes with
// "nice" tick values, and a small 5×7 bitmap font for the labels. No
// plotting library is needed, and the picture is the same on every machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace striate::tools {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

inline constexpr Rgb kBlack{0, 0, 0};
inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kGrid{225, 225, 225};
inline constexpr Rgb kBlue{31, 119, 180};
inline constexpr Rgb kOrange{255, 127, 14};
inline constexpr Rgb kGreen{44, 160, 44};
inline constexpr Rgb kRed{214, 39, 40};

// An 8-bit RGB image, rows top to bottom, 3 bytes a pixel.
class Canvas {
 public:
  Canvas(int width, int height, Rgb background = kWhite);
  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<uint8_t>& pixels() const { return pixels_; }

  void set(int x, int y, Rgb color);  // outside the canvas: ignored
  void fill_rect(int x0, int y0, int x1, int y1, Rgb color);  // inclusive corners
  // A line `thickness` pixels wide (Bresenham, stamped with a square).
  void line(double x0, double y0, double x1, double y1, Rgb color, int thickness = 1);
  // Text in the 5×7 font, `scale` pixels per font pixel; x, y: top left.
  // Letters print in lower case; characters the font lacks print as blanks.
  void text(int x, int y, const std::string& s, Rgb color, int scale = 1);
  static int text_width(const std::string& s, int scale = 1);
  static int text_height(int scale = 1) { return 7 * scale; }

 private:
  int width_, height_;
  std::vector<uint8_t> pixels_;
};

struct Series {
  std::string label;
  std::vector<double> x, y;
  Rgb color = kBlue;
};

struct Chart {
  std::string title;
  std::string x_label;
  std::vector<Series> series;
  // Rising curves (accuracy) leave the top right free; falling ones (loss) the bottom.
  bool legend_at_bottom = false;
};

// Tick values covering [lo, hi] at a step of 1, 2 or 5 × 10^k, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// Draws the charts side by side, each panel_width × panel_height pixels.
Canvas render_charts(const std::vector<Chart>& charts, int panel_width = 480, int panel_height = 360);

}  // namespace striate::tools
