// Gradient clipping (see grad_clip.h).
#include "optim/grad_clip.h"

namespace bitnet {

torch::Tensor clip_grad_norm_tensor(const std::vector<torch::Tensor>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : parameters) {
    if (p.grad().defined()) norms.push_back(p.grad().norm(2).to(torch::kFloat));
  }
  if (norms.empty()) return torch::zeros({}, torch::kDouble);
  const torch::Tensor total = torch::stack(norms).norm(2).to(torch::kDouble);  // () fp64
  if (max_norm > 0) {
    // 1 when the norm is within bounds or not a number (a non-finite step is never applied);
    // max_norm / x as one division (a Scalar / Tensor would multiply by the reciprocal).
    const torch::Tensor coef =
        torch::where(total > max_norm, torch::full_like(total, max_norm).div_(total + 1e-6), torch::ones_like(total))
            .to(torch::kFloat);
    for (const auto& p : parameters) {
      if (p.grad().defined()) p.grad().mul_(coef);
    }
  }
  return total;
}

double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  return clip_grad_norm_tensor(parameters, max_norm).item<double>();
}

}  // namespace bitnet
