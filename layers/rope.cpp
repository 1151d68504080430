// RoPE tables and rotation (see rope.h).
#include "layers/rope.h"

namespace bitnet {

std::pair<torch::Tensor, torch::Tensor> rope_tables(int64_t seq_len, int64_t head_dim, double theta, int64_t start) {
  auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  // inv_freq (D/2): theta^(-2i/D), as 1 / theta^(2i/D) in fp32 like the reference models.
  torch::Tensor exponent = torch::arange(0, head_dim, 2, f32) / static_cast<double>(head_dim);
  torch::Tensor inv_freq = torch::pow(theta, exponent).reciprocal();
  torch::Tensor positions = torch::arange(start, start + seq_len, f32);  // (T)
  torch::Tensor freqs = torch::outer(positions, inv_freq);               // (T, D/2)
  torch::Tensor angles = torch::cat({freqs, freqs}, -1);                 // (T, D)
  return {angles.cos(), angles.sin()};
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  torch::Tensor xf = x.to(torch::kFloat);
  const int64_t half = xf.size(-1) / 2;
  torch::Tensor rotated = torch::cat({-xf.narrow(-1, half, half), xf.narrow(-1, 0, half)}, -1);
  return xf * cos + rotated * sin;
}

}  // namespace bitnet
