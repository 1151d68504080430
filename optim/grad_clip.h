// Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ computes it.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace bitnet {

// The L2 norm of all gradients together (before clipping). When max_norm > 0 and the norm is
// above it, every gradient is scaled by max_norm / (norm + 1e-6) (computed in fp64, applied in
// fp32). The norm stays a 0-dim fp64 tensor on the gradients' device, so a GPU step is not
// synchronised with the host here: read it once when it is logged.
torch::Tensor clip_grad_norm_tensor(const std::vector<torch::Tensor>& parameters, double max_norm);

// The same, read back to the host.
double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace bitnet
