// Gradient clipping (see grad_clip.h).
#include "optim/grad_clip.h"

#include <cmath>

namespace bitnet {

double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : parameters) {
    if (p.grad().defined()) norms.push_back(p.grad().norm(2).to(torch::kFloat));
  }
  if (norms.empty()) return 0.0;
  const double total = torch::stack(norms).norm(2).item<double>();
  if (max_norm > 0 && std::isfinite(total) && total > max_norm) {
    const double coef = max_norm / (total + 1e-6);
    for (const auto& p : parameters) {
      if (p.grad().defined()) p.grad().mul_(coef);
    }
  }
  return total;
}

}  // namespace bitnet
