// Quantizers and straight-through estimators; formulas in quantize.h and docs/DESIGN.md §3.
#include "layers/quantize.h"

namespace bitnet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Forward blends the latent tensor with its fake-quantized value; backward is the identity
// (the straight-through estimator), so the optimizer updates the fp32 latent weights.
template <torch::Tensor (*FakeQuant)(const torch::Tensor&)>
struct StraightThrough : torch::autograd::Function<StraightThrough<FakeQuant>> {
  static torch::Tensor forward(AutogradContext*, torch::Tensor x, double lambda) {
    torch::Tensor xq = FakeQuant(x).to(x.scalar_type());
    if (lambda == 1.0) return xq;
    return x + (xq - x) * lambda;
  }
  static tensor_list backward(AutogradContext*, tensor_list grad_out) {
    return {grad_out[0], torch::Tensor()};
  }
};

}  // namespace

torch::Tensor ternary_weight_scale(const torch::Tensor& weight) {
  return weight.to(torch::kFloat).abs().mean().clamp_min(kQuantEps).reciprocal();
}

torch::Tensor ternary_weight_codes(const torch::Tensor& weight) {
  torch::Tensor w = weight.to(torch::kFloat);
  return (w * ternary_weight_scale(w)).round().clamp(-1, 1).to(torch::kInt8);
}

torch::Tensor ternary_weight_fake_quant(const torch::Tensor& weight) {
  torch::Tensor w = weight.to(torch::kFloat);
  torch::Tensor s = ternary_weight_scale(w);
  return (w * s).round().clamp(-1, 1) / s;
}

torch::Tensor int8_activation_scale(const torch::Tensor& x) {
  torch::Tensor absmax = x.to(torch::kFloat).abs().amax(-1, /*keepdim=*/true);
  // 127 / absmax as one fp32 division (not 127 * (1 / absmax)), as the CPU kernels compute it.
  torch::Tensor denom = absmax.clamp_min(kQuantEps);
  return torch::full_like(denom, 127.0).div_(denom);
}

torch::Tensor int8_activation_codes(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat);
  return (xf * int8_activation_scale(xf)).round().clamp(-128, 127).to(torch::kInt8);
}

torch::Tensor int8_activation_fake_quant(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat);
  torch::Tensor s = int8_activation_scale(xf);
  return (xf * s).round().clamp(-128, 127) / s;
}

torch::Tensor ternary_weight_ste(const torch::Tensor& weight, double lambda) {
  return StraightThrough<ternary_weight_fake_quant>::apply(weight, lambda);
}

torch::Tensor int8_activation_ste(const torch::Tensor& x, double lambda) {
  return StraightThrough<int8_activation_fake_quant>::apply(x, lambda);
}

}  // namespace bitnet
