// Console formatting and the loss plot.
#include <gtest/gtest.h>

#include "trainer/console.h"
#include "trainer/loss_plot.h"

namespace bitnet {
namespace {

TEST(Console, Formats) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1234567), "1,234,567");
  EXPECT_EQ(format_count(-4096), "-4,096");
  EXPECT_EQ(format_si(3210000), "3.21M");
  EXPECT_EQ(format_duration(59), "59s");
  EXPECT_EQ(format_duration(243), "4m03s");
  EXPECT_EQ(format_duration(7300), "2h01m");
}

TEST(LossPlot, DrawsBothSeriesWithTitle) {
  const std::string svg = render_loss_svg({{1, 5.0}, {2, 4.0}, {3, 3.5}}, {{2, 4.2}}, "run <a&b>");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("run &lt;a&amp;b&gt;"), std::string::npos);
  EXPECT_NE(svg.find("train loss"), std::string::npos);
  EXPECT_NE(svg.find("val loss"), std::string::npos);
  EXPECT_NE(svg.find("<circle"), std::string::npos);  // the validation point
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(LossPlot, EmptyAndNonFiniteDoNotBreakIt) {
  const std::string svg = render_loss_svg({{1, std::nan("")}}, {}, "x");
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

}  // namespace
}  // namespace bitnet
