// RMSNorm: x * rsqrt(mean(x²) + eps) * weight, computed in fp32 and returned in x's dtype.
// Used for the pre-norms, the BitNet sub-norms (attn_sub_norm, ffn_sub_norm) and the final norm.
#pragma once

#include <torch/torch.h>

namespace bitnet {

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);  // (..., dim) -> (..., dim)

  torch::Tensor weight;  // (dim), starts at ones

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

}  // namespace bitnet
