// Gated FFN with ReLU² or SiLU (see feed_forward.h).
#include "layers/feed_forward.h"

#include <cmath>

#include "layers/element_math.h"

namespace bitnet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// act(gate) * up as LibTorch ops took a cast, relu, square and multiply forward and as many
// passes backward over (tokens x intermediate_size) values, the widest activations of the model.
// On the CPU it is one pass each way; the forward computes the same fp32 operations in the same
// order as the ops.
float sigmoid(float g) {
  return 1.0f / (1.0f + std::exp(-g));
}

// The element loops run through for_each_index (element_math.h): vectorized, and AVX2-wide where
// the CPU has it.
template <typename In, typename Out>
void relu2_forward(const In* gate, const In* up, Out* h, int64_t n) {
  for_each_index(0, n, [&](int64_t i) {
    const float r = relu(to_float(gate[i]));
    h[i] = from_float<Out>((r * r) * to_float(up[i]));
  });
}

template <typename In, typename Out>
void silu_forward(const In* gate, const In* up, Out* h, int64_t n) {
  for_each_index(0, n, [&](int64_t i) {
    const float g = to_float(gate[i]);
    h[i] = from_float<Out>((g / (1.0f + std::exp(-g))) * to_float(up[i]));
  });
}

// relu²: d gate = (dh u) 2 relu(g), d up = dh relu(g)².
template <typename In, typename Out>
void relu2_backward(const Out* dh, const In* gate, const In* up, In* d_gate, In* d_up, int64_t n) {
  for_each_index(0, n, [&](int64_t i) {
    const float r = relu(to_float(gate[i])), d = to_float(dh[i]);
    d_gate[i] = from_float<In>((d * to_float(up[i])) * (2.0f * r));
    d_up[i] = from_float<In>(d * (r * r));
  });
}

// SiLU: d gate = (dh u) σ(g)(1 + g(1 − σ(g))), d up = dh g σ(g).
template <typename In, typename Out>
void silu_backward(const Out* dh, const In* gate, const In* up, In* d_gate, In* d_up, int64_t n) {
  for_each_index(0, n, [&](int64_t i) {
    const float g = to_float(gate[i]), d = to_float(dh[i]), s = sigmoid(g);
    d_gate[i] = from_float<In>((d * to_float(up[i])) * (s * (1.0f + g * (1.0f - s))));
    d_up[i] = from_float<In>(d * (g * s));
  });
}

constexpr int64_t kGrain = 16384;

template <typename In, typename Out>
void gated_forward(const In* gate, const In* up, Out* h, int64_t n, formats::HiddenAct act) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    if (act == formats::HiddenAct::relu2)
      relu2_forward(gate + begin, up + begin, h + begin, end - begin);
    else
      silu_forward(gate + begin, up + begin, h + begin, end - begin);
  });
}

template <typename In, typename Out>
void gated_backward(const Out* dh, const In* gate, const In* up, In* d_gate, In* d_up, int64_t n,
                    formats::HiddenAct act) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    if (act == formats::HiddenAct::relu2)
      relu2_backward(dh + begin, gate + begin, up + begin, d_gate + begin, d_up + begin, end - begin);
    else
      silu_backward(dh + begin, gate + begin, up + begin, d_gate + begin, d_up + begin, end - begin);
  });
}

// Calls f(In{}, Out{}) with the element types of `in` and `out` (each fp32 or bf16).
template <typename F>
void with_types(const torch::Tensor& in, torch::Dtype out, F&& f) {
  visit_float_or_bf16(in.scalar_type(),
                      [&](auto in_tag) { visit_float_or_bf16(out, [&](auto out_tag) { f(in_tag, out_tag); }); });
}

struct FusedGatedActivation : torch::autograd::Function<FusedGatedActivation> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate_in, const torch::Tensor& up_in,
                               int64_t act, torch::Dtype out_dtype) {
    const torch::Tensor gate = gate_in.contiguous(), up = up_in.contiguous();
    torch::Tensor h = torch::empty(gate.sizes(), gate.options().dtype(out_dtype));
    with_types(gate, out_dtype, [&](auto in_tag, auto out_tag) {
      using In = decltype(in_tag);
      using Out = decltype(out_tag);
      gated_forward(gate.data_ptr<In>(), up.data_ptr<In>(), h.data_ptr<Out>(), gate.numel(),
                    static_cast<formats::HiddenAct>(act));
    });
    ctx->save_for_backward({gate, up});
    ctx->saved_data["act"] = act;
    return h;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &gate = saved[0], &up = saved[1];
    const torch::Tensor dh = grad_out[0].contiguous();
    torch::Tensor d_gate = torch::empty_like(gate), d_up = torch::empty_like(up);
    with_types(gate, dh.scalar_type(), [&](auto in_tag, auto out_tag) {
      using In = decltype(in_tag);
      using Out = decltype(out_tag);
      gated_backward(dh.data_ptr<Out>(), gate.data_ptr<In>(), up.data_ptr<In>(), d_gate.data_ptr<In>(),
                     d_up.data_ptr<In>(), gate.numel(),
                     static_cast<formats::HiddenAct>(ctx->saved_data["act"].toInt()));
    });
    return {d_gate, d_up, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor gated_activation_reference(const torch::Tensor& gate, const torch::Tensor& up, formats::HiddenAct act,
                                         torch::Dtype out_dtype) {
  torch::Tensor g = gate.to(torch::kFloat);
  torch::Tensor activated = act == formats::HiddenAct::relu2 ? torch::relu(g).square() : torch::silu(g);
  return (activated * up.to(torch::kFloat)).to(out_dtype);
}

torch::Tensor gated_activation(const torch::Tensor& gate, const torch::Tensor& up, formats::HiddenAct act,
                               torch::Dtype out_dtype) {
  const bool fused = gate.device().is_cpu() && up.device().is_cpu() && gate.sizes() == up.sizes() &&
                     gate.scalar_type() == up.scalar_type() && is_float_or_bf16(gate.scalar_type()) &&
                     is_float_or_bf16(out_dtype);
  if (!fused) return gated_activation_reference(gate, up, act, out_dtype);
  return FusedGatedActivation::apply(gate, up, static_cast<int64_t>(act), out_dtype);
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
                                     options_.activation, x.scalar_type());  // (B, T, F)
  return down_proj(ffn_sub_norm(h));
}

}  // namespace bitnet
