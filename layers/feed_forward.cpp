// Gated FFN with ReLU² or SiLU (see feed_forward.h).
#include "layers/feed_forward.h"

namespace bitnet {

torch::Tensor gated_activation(const torch::Tensor& gate, const torch::Tensor& up, formats::HiddenAct act) {
  torch::Tensor g = gate.to(torch::kFloat);
  torch::Tensor activated = act == formats::HiddenAct::relu2 ? torch::relu(g).square() : torch::silu(g);
  return activated * up.to(torch::kFloat);
}

FeedForwardImpl::FeedForwardImpl(const FeedForwardOptions& o) : options_(o) {
  auto linear = [&](int64_t in, int64_t out) {
    return BitLinear(BitLinearOptions{
        .in_features = in, .out_features = out, .quantize = o.quantize, .compute_dtype = o.compute_dtype});
  };
  gate_proj = register_module("gate_proj", linear(o.hidden_size, o.intermediate_size));
  up_proj = register_module("up_proj", linear(o.hidden_size, o.intermediate_size));
  down_proj = register_module("down_proj", linear(o.intermediate_size, o.hidden_size));
  ffn_sub_norm = register_module("ffn_sub_norm", RMSNorm(o.intermediate_size, o.rms_norm_eps));
}

void FeedForwardImpl::replace_projection(const std::string& name, std::shared_ptr<BitLinearImpl> replacement) {
  replace_bit_linear(*this, name, {&gate_proj, &up_proj, &down_proj}, std::move(replacement));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  torch::Tensor xq = gate_proj->prepare_input(x);  // gate and up see the same quantized input
  torch::Tensor h = gated_activation(gate_proj->forward_prepared(xq, x), up_proj->forward_prepared(xq, x),
                                     options_.activation);  // (B, T, F)
  return down_proj(ffn_sub_norm(h.to(x.scalar_type())));
}

}  // namespace bitnet
