// BitLinear forward: fake-quantize in fp32, multiply in the compute dtype.
#include "layers/bit_linear.h"

#include "layers/quantize.h"

namespace bitnet {

BitLinearImpl::BitLinearImpl(const BitLinearOptions& options) : options_(options) {
  weight = register_parameter("weight", torch::empty({options.out_features, options.in_features}));
}

bool BitLinearImpl::quantizing() const { return options_.quantize && lambda_ != 0.0; }

torch::Tensor BitLinearImpl::prepare_input(const torch::Tensor& x) const {
  if (input_observer) input_observer(x);
  // Quantizers compute in fp32 so their codes and scales are exactly the export's.
  return quantizing() ? int8_activation_ste(x, lambda_, options_.compute_dtype) : x.to(options_.compute_dtype);
}

torch::Tensor BitLinearImpl::forward_prepared(const torch::Tensor& prepared) {
  const torch::Dtype dtype = options_.compute_dtype;
  if (!quantizing()) return torch::nn::functional::linear(prepared, weight.to(dtype));
  torch::Tensor wq = ternary_weight_ste(weight, lambda_);  // (out, in) fp32
  return torch::nn::functional::linear(prepared, wq.to(dtype));
}

torch::Tensor BitLinearImpl::forward(const torch::Tensor& x) { return forward_prepared(prepare_input(x)); }

}  // namespace bitnet
