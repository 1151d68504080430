// A BitLinear with a LoRA adapter (see lora_linear.h).
#include "layers/lora_linear.h"

#include <cmath>
#include <stdexcept>

namespace bitnet {

LoRALinearImpl::LoRALinearImpl(const BitLinearImpl& base, const LoRAOptions& options, at::Generator generator)
    : BitLinearImpl(Replacing{base}), adapter_(options) {
  if (options.rank <= 0) throw std::invalid_argument("LoRA rank must be positive, got " + std::to_string(options.rank));
  const int64_t in = base.options().in_features, out = base.options().out_features;
  lora_A = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(in, options.rank).bias(false)));
  lora_B = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(options.rank, out).bias(false)));
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(double(in));  // kaiming_uniform(a = sqrt(5)), as PEFT initialises A
  lora_A->weight.uniform_(-bound, bound, generator);
  lora_B->weight.zero_();
}

torch::Tensor LoRALinearImpl::forward_prepared(const torch::Tensor& prepared, const torch::Tensor& input) {
  TORCH_CHECK(input.defined(), "a LoRALinear needs the unquantized input in forward_prepared");
  const torch::Tensor y = BitLinearImpl::forward_prepared(prepared, input);
  return (y.to(torch::kFloat) + delta(input)).to(options().compute_dtype);  // the adapter stays full precision
}

torch::Tensor LoRALinearImpl::delta(const torch::Tensor& x) {
  torch::Tensor h = x.to(torch::kFloat);  // (..., in)
  if (adapter_.dropout > 0 && is_training()) h = torch::dropout(h, adapter_.dropout, /*train=*/true);
  return lora_B(lora_A(h)) * adapter_.scale;  // (..., out)
}

torch::Tensor LoRALinearImpl::merged_weight() const {
  torch::NoGradGuard no_grad;
  return BitLinearImpl::merged_weight().addmm_(lora_B->weight.to(torch::kFloat), lora_A->weight.to(torch::kFloat),
                                               /*beta=*/1.0, /*alpha=*/adapter_.scale);
}

NamedTensors LoRALinearImpl::adapter_params() const {
  return {{"lora_A.weight", lora_A->weight}, {"lora_B.weight", lora_B->weight}};
}

}  // namespace bitnet
