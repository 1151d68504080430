// BitLinear forward: fake-quantize in fp32, multiply in the compute dtype.
#include "layers/bit_linear.h"

#include "layers/quantize.h"

namespace bitnet {

BitLinearImpl::BitLinearImpl(const BitLinearOptions& options) : options_(options) {
  weight = register_parameter("weight", torch::empty({options.out_features, options.in_features}));
}

torch::Tensor BitLinearImpl::forward(const torch::Tensor& x) {
  if (input_observer) input_observer(x);
  const torch::Dtype dtype = options_.compute_dtype;
  if (!options_.quantize || lambda_ == 0.0) {
    return torch::nn::functional::linear(x.to(dtype), weight.to(dtype));
  }
  // Quantizers run in fp32 so their codes and scales are exactly the export's.
  torch::Tensor xq = int8_activation_ste(x.to(torch::kFloat), lambda_);  // (..., in)
  torch::Tensor wq = ternary_weight_ste(weight, lambda_);                 // (out, in)
  return torch::nn::functional::linear(xq.to(dtype), wq.to(dtype));
}

}  // namespace bitnet
