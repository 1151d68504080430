// RMSNorm: x * rsqrt(mean(x²) + eps) * weight, computed in fp32 and returned in x's dtype. On the
// CPU (fp32 or bf16 input, fp32 weight) forward and backward are fused passes over the rows.
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

// The same function as LibTorch ops (to fp32, pow, mean, rsqrt, multiplies, cast back), with
// LibTorch's autograd: what RMSNorm runs off the CPU, and the reference its fused CPU pass is
// tested against.
torch::Tensor rms_norm_reference(const torch::Tensor& x, const torch::Tensor& weight, double eps);

}  // namespace bitnet
