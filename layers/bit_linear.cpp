// BitLinear forward: fake-quantize in fp32, multiply in the compute dtype.
#include "layers/bit_linear.h"

#include <cmath>

#include "layers/quantize.h"

namespace bitnet {

BitLinearImpl::BitLinearImpl(const BitLinearOptions& options) : options_(options) {
  weight = register_parameter("weight", torch::empty({options.out_features, options.in_features}));
}

bool BitLinearImpl::quantizing() const {
  return options_.quantize && lambda_ != 0.0;
}

torch::Tensor BitLinearImpl::prepare_input(const torch::Tensor& x) const {
  if (input_observer) input_observer(x);
  // Quantizers compute in fp32 so their codes and scales are exactly the export's.
  return quantizing() ? int8_activation_ste(x, lambda_, options_.compute_dtype) : x.to(options_.compute_dtype);
}

torch::Tensor BitLinearImpl::forward_prepared(const torch::Tensor& prepared, const torch::Tensor& input) {
  const torch::Dtype dtype = options_.compute_dtype;
  torch::Tensor y = quantizing() ? torch::nn::functional::linear(prepared, ternary_weight_ste(weight, lambda_, dtype))
                                 : torch::nn::functional::linear(prepared, weight.to(dtype));
  if (!lora_A) return y;
  TORCH_CHECK(input.defined(), "BitLinear with a LoRA adapter needs the unquantized input in forward_prepared");
  return (y.to(torch::kFloat) + lora_delta(input)).to(dtype);  // the adapter stays full precision
}

torch::Tensor BitLinearImpl::forward(const torch::Tensor& x) {
  return forward_prepared(prepare_input(x), x);
}

void BitLinearImpl::add_lora(int64_t rank, double scale, double dropout, at::Generator generator) {
  TORCH_CHECK(!lora_A, "BitLinear already has a LoRA adapter");
  const int64_t in = options_.in_features, out = options_.out_features;
  lora_A = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(in, rank).bias(false)));
  lora_B = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(rank, out).bias(false)));
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(double(in));  // kaiming_uniform(a = sqrt(5)), as PEFT initialises A
  lora_A->weight.uniform_(-bound, bound, generator);
  lora_B->weight.zero_();
  lora_scale_ = scale;
  lora_dropout_ = dropout;
}

torch::Tensor BitLinearImpl::lora_delta(const torch::Tensor& x) {
  torch::Tensor h = x.to(torch::kFloat);  // (..., in)
  if (lora_dropout_ > 0 && is_training()) h = torch::dropout(h, lora_dropout_, /*train=*/true);
  return lora_B(lora_A(h)) * lora_scale_;  // (..., out)
}

torch::Tensor BitLinearImpl::merged_weight() const {
  torch::NoGradGuard no_grad;
  torch::Tensor w = weight.detach().to(torch::kFloat).clone();
  if (!lora_A) return w;
  return w.addmm_(lora_B->weight.to(torch::kFloat), lora_A->weight.to(torch::kFloat), /*beta=*/1.0,
                  /*alpha=*/lora_scale_);
}

}  // namespace bitnet
