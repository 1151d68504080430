// The BitNet gated FFN: down_proj(ffn_sub_norm(act(gate_proj(x)) * up_proj(x))), with
// act = relu(x)² (BitNet b1.58, the default) or SiLU (the 1bitLLM graph llama.cpp runs).
#pragma once

#include <memory>
#include <string>

#include <torch/torch.h>

#include "formats/model_names.h"
#include "layers/bit_linear.h"
#include "layers/rms_norm.h"

namespace bitnet {

// act(gate) * up computed in fp32, returned in out_dtype. gate and up (..., F). On the CPU (gate and
// up both fp32 or both bf16) one fused pass forward and one backward.
torch::Tensor gated_activation(const torch::Tensor& gate, const torch::Tensor& up, formats::HiddenAct act,
                               torch::Dtype out_dtype);
// The same as LibTorch ops with LibTorch's autograd: used off the CPU, and the tests' reference.
torch::Tensor gated_activation_reference(const torch::Tensor& gate, const torch::Tensor& up, formats::HiddenAct act,
                                         torch::Dtype out_dtype);

struct FeedForwardOptions {
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  formats::HiddenAct activation = formats::HiddenAct::relu2;
  double rms_norm_eps = 1e-5;
  bool quantize = true;
  torch::Dtype compute_dtype = torch::kFloat;
};

class FeedForwardImpl : public torch::nn::Module {
 public:
  explicit FeedForwardImpl(const FeedForwardOptions& options);
  torch::Tensor forward(const torch::Tensor& x);  // (B, T, C) -> (B, T, C)
  // Swaps projection `name` (gate_proj, up_proj or down_proj) for `replacement` (see replace_bit_linear).
  void replace_projection(const std::string& name, std::shared_ptr<BitLinearImpl> replacement);

  BitLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  RMSNorm ffn_sub_norm{nullptr};

 private:
  FeedForwardOptions options_;
};
TORCH_MODULE(FeedForward);

}  // namespace bitnet
