// loss.svg: train and validation loss against steps, as a self-contained SVG (no plotting
// dependency). Redrawn from the full history at each evaluation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet {

struct LossPoint {
  int64_t step;
  double loss;
};

std::string render_loss_svg(const std::vector<LossPoint>& train, const std::vector<LossPoint>& val,
                            const std::string& title);

}  // namespace bitnet
