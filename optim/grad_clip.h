// Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ computes it.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace bitnet {

// The L2 norm of all gradients together (before clipping). When max_norm > 0 and the norm is
// finite and above it, every gradient is scaled by max_norm / (norm + 1e-6).
double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace bitnet
