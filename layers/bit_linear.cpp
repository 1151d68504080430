// BitLinear forward: fake-quantize in fp32, multiply in the compute dtype.
#include "layers/bit_linear.h"

#include <stdexcept>

#include "layers/quantize.h"

namespace bitnet {

BitLinearImpl::BitLinearImpl(const BitLinearOptions& options) : options_(options) {
  weight = register_parameter("weight", torch::empty({options.out_features, options.in_features}));
}

BitLinearImpl::BitLinearImpl(Replacing replacing) : options_(replacing.base.options_), lambda_(replacing.base.lambda_) {
  const torch::Tensor& shared = replacing.base.weight;
  weight = register_parameter("weight", shared, shared.requires_grad());
  train(replacing.base.is_training());
}

bool BitLinearImpl::quantizing() const {
  return options_.quantize && lambda_ != 0.0;
}

torch::Tensor BitLinearImpl::prepare_input(const torch::Tensor& x) const {
  // Quantizers compute in fp32 so their codes and scales are exactly the export's.
  return quantizing() ? int8_activation_ste(x, lambda_, options_.compute_dtype) : x.to(options_.compute_dtype);
}

torch::Tensor BitLinearImpl::forward_prepared(const torch::Tensor& prepared, const torch::Tensor& /*input*/) {
  const torch::Dtype dtype = options_.compute_dtype;
  return quantizing() ? torch::nn::functional::linear(prepared, ternary_weight_ste(weight, lambda_, dtype))
                      : torch::nn::functional::linear(prepared, weight.to(dtype));
}

torch::Tensor BitLinearImpl::forward(const torch::Tensor& x) {
  return forward_prepared(prepare_input(x), x);
}

torch::Tensor BitLinearImpl::merged_weight() const {
  torch::NoGradGuard no_grad;
  return weight.detach().to(torch::kFloat).clone();
}

void replace_bit_linear(torch::nn::Module& owner, const std::string& name, std::initializer_list<BitLinear*> members,
                        std::shared_ptr<BitLinearImpl> replacement) {
  const auto children = owner.named_children();
  const std::shared_ptr<torch::nn::Module>* child = children.find(name);
  BitLinear* member = nullptr;
  for (BitLinear* m : members) {
    if (child != nullptr && m->ptr() == *child) member = m;
  }
  if (member == nullptr) throw std::invalid_argument(owner.name() + " has no projection '" + name + "' to replace");
  const BitLinearOptions &was = (*member)->options(), &now = replacement->options();
  if (was.in_features != now.in_features || was.out_features != now.out_features) {
    throw std::invalid_argument("the replacement for " + name + " is " + std::to_string(now.out_features) + "x" +
                                std::to_string(now.in_features) + ", the projection " +
                                std::to_string(was.out_features) + "x" + std::to_string(was.in_features));
  }
  *member = BitLinear(owner.replace_module(name, std::move(replacement)));
}

}  // namespace bitnet
