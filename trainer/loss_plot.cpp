// SVG line chart of the loss curves (see loss_plot.h).
#include "trainer/loss_plot.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace bitnet {
namespace {

constexpr double kWidth = 720, kHeight = 420;
constexpr double kLeft = 64, kRight = 20, kTop = 36, kBottom = 48;

std::string escape_xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A "nice" tick spacing (1, 2 or 5 times a power of ten) giving about `count` ticks.
double tick_step(double span, int count) {
  const double raw = span / count;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * p) return m * p;
  }
  return 10 * p;
}

}  // namespace

std::string render_loss_svg(const std::vector<LossPoint>& train, const std::vector<LossPoint>& val,
                            const std::string& title) {
  int64_t max_step = 1;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* series : {&train, &val}) {
    for (const LossPoint& p : *series) {
      if (!std::isfinite(p.loss)) continue;
      max_step = std::max(max_step, p.step);
      lo = std::min(lo, p.loss);
      hi = std::max(hi, p.loss);
    }
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-6) hi = lo + 1;
  const double pad = 0.05 * (hi - lo);
  lo -= pad;
  hi += pad;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x_of = [&](double step) { return kLeft + plot_w * step / double(max_step); };
  auto y_of = [&](double loss) { return kTop + plot_h * (hi - loss) / (hi - lo); };

  std::ostringstream svg;
  svg.precision(6);
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kWidth / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << escape_xml(title)
      << "</text>\n";
  const double ys = tick_step(hi - lo, 6);
  for (double v = std::ceil(lo / ys) * ys; v <= hi; v += ys) {
    svg << "<line x1=\"" << kLeft << "\" x2=\"" << kWidth - kRight << "\" y1=\"" << y_of(v) << "\" y2=\"" << y_of(v)
        << "\" stroke=\"#e4e4e4\"/>\n<text x=\"" << kLeft - 6 << "\" y=\"" << y_of(v) + 4 << "\" text-anchor=\"end\">"
        << v << "</text>\n";
  }
  const double xs = tick_step(double(max_step), 8);
  for (double s = 0; s <= max_step; s += xs) {
    svg << "<line x1=\"" << x_of(s) << "\" x2=\"" << x_of(s) << "\" y1=\"" << kTop << "\" y2=\"" << kHeight - kBottom
        << "\" stroke=\"#e4e4e4\"/>\n<text x=\"" << x_of(s) << "\" y=\"" << kHeight - kBottom + 16
        << "\" text-anchor=\"middle\">" << s << "</text>\n";
  }
  svg << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << plot_w << "\" height=\"" << plot_h
      << "\" fill=\"none\" stroke=\"#444\"/>\n"
      << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kHeight - 10 << "\" text-anchor=\"middle\">step</text>\n"
      << "<text x=\"16\" y=\"" << kTop + plot_h / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 16 "
      << kTop + plot_h / 2 << ")\">loss (nats/token)</text>\n";
  auto polyline = [&](const std::vector<LossPoint>& pts, const char* color, const char* label, double legend_y) {
    if (pts.empty()) return;
    svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.6\" points=\"";
    for (const LossPoint& p : pts) {
      if (std::isfinite(p.loss)) svg << x_of(double(p.step)) << "," << y_of(p.loss) << " ";
    }
    svg << "\"/>\n";
    for (const LossPoint& p : pts) {
      if (std::isfinite(p.loss) && &pts == &val) {
        svg << "<circle cx=\"" << x_of(double(p.step)) << "\" cy=\"" << y_of(p.loss) << "\" r=\"3\" fill=\"" << color
            << "\"/>\n";
      }
    }
    svg << "<line x1=\"" << kWidth - kRight - 110 << "\" x2=\"" << kWidth - kRight - 90 << "\" y1=\"" << legend_y
        << "\" y2=\"" << legend_y << "\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n<text x=\""
        << kWidth - kRight - 84 << "\" y=\"" << legend_y + 4 << "\">" << label << "</text>\n";
  };
  polyline(train, "#1f77b4", "train loss", kTop + 16);
  polyline(val, "#d62728", "val loss", kTop + 34);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace bitnet
