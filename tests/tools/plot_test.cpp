// The hand-drawn learning-curve plots.
#include <gtest/gtest.h>

#include "plot.h"

namespace striate::tools {
namespace {

Rgb pixel(const Canvas& c, int x, int y) {
  const uint8_t* p = &c.pixels()[(static_cast<size_t>(y) * c.width() + x) * 3];
  return {p[0], p[1], p[2]};
}
bool is(const Rgb& a, const Rgb& b) { return a.r == b.r && a.g == b.g && a.b == b.b; }

TEST(Plot, NiceTicksUseOneTwoOrFiveTimesAPowerOfTen) {
  const std::vector<double> unit = nice_ticks(0, 1, 5);
  ASSERT_EQ(unit.size(), 6u);
  for (size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * i, 1e-12);
  const std::vector<double> t = nice_ticks(78.3, 91.2, 5);
  ASSERT_GE(t.size(), 3u);
  EXPECT_DOUBLE_EQ(t[0], 80);
  EXPECT_DOUBLE_EQ(t[1] - t[0], 5);  // 12.9 / 5 rounds up to a step of 5
  EXPECT_LE(t.back(), 91.2);
  EXPECT_EQ(nice_ticks(3, 3), std::vector<double>{3});
  for (double v : nice_ticks(-0.37, 2.9, 6)) EXPECT_TRUE(v >= -0.37 && v <= 2.9);
}

TEST(Plot, LinesReachBothEndsAndStayInside) {
  Canvas c(20, 10);
  c.line(2, 3, 17, 8, kRed);
  EXPECT_TRUE(is(pixel(c, 2, 3), kRed));
  EXPECT_TRUE(is(pixel(c, 17, 8), kRed));
  EXPECT_TRUE(is(pixel(c, 0, 9), kWhite));
  c.line(-50, -50, 100, 100, kBlue, 3);  // clipped, not a crash
  EXPECT_TRUE(is(pixel(c, 5, 5), kBlue));
}

TEST(Plot, TextUsesTheFontAndSkipsUnknownCharacters) {
  EXPECT_EQ(Canvas::text_width("epoch"), 5 * 6 - 1);
  EXPECT_EQ(Canvas::text_width("ab", 2), (2 * 6 - 1) * 2);
  EXPECT_EQ(Canvas::text_width(""), 0);
  Canvas c(40, 10);
  c.text(0, 0, "1", kBlack);
  EXPECT_TRUE(is(pixel(c, 2, 0), kBlack));  // the top of the "1"
  EXPECT_TRUE(is(pixel(c, 0, 0), kWhite));
  Canvas blank(40, 10);
  blank.text(0, 0, "#~", kBlack);  // not in the font: nothing drawn
  EXPECT_EQ(blank.pixels(), Canvas(40, 10).pixels());
  Canvas upper(40, 10), lower(40, 10);
  upper.text(0, 0, "LOSS", kBlack);
  lower.text(0, 0, "loss", kBlack);
  EXPECT_EQ(upper.pixels(), lower.pixels());
}

TEST(Plot, ChartsArePanelsSideBySide) {
  Chart loss{"loss", "epoch", {{"train", {1, 2, 3}, {0.9, 0.5, 0.3}, kBlue}, {"test", {1, 2, 3}, {0.8, 0.6, 0.5}, kOrange}}};
  Chart acc{"accuracy (%)", "epoch", {{"test", {1, 2, 3}, {80, 85, 88}, kOrange}}, true};
  const Canvas c = render_charts({loss, acc}, 300, 200);
  EXPECT_EQ(c.width(), 600);
  EXPECT_EQ(c.height(), 200);
  int blue = 0, orange = 0;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x) {
      blue += is(pixel(c, x, y), kBlue);
      orange += is(pixel(c, x, y), kOrange);
    }
  EXPECT_GT(blue, 100);
  EXPECT_GT(orange, 200);
  // A single point, or no data at all, still draws.
  render_charts({Chart{"one", "epoch", {{"train", {1}, {0.5}, kBlue}}}, Chart{"none", "epoch", {}}});
}

}  // namespace
}  // namespace striate::tools
