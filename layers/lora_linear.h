// LoRALinear: a BitLinear with a LoRA adapter, swapped in for a projection as torchtune's
// LoRALinear replaces nn.Linear. It computes the BitLinear's output plus scale · B·A·dropout(x),
// the adapter in fp32 at full precision:
//   lora_A (rank, in): kaiming-uniform from the given generator (bound 1/sqrt(in), as PEFT does)
//   lora_B (out, rank): 0, so the output is the BitLinear's until B trains.
//
// It derives from BitLinearImpl instead of holding the BitLinear as a child module because a
// child would rename the projection's weight ("q_proj.weight" -> "q_proj.base.weight"), and the
// names are a contract: our checkpoints, load_pretrained and PEFT's adapter files all use
// "...q_proj.weight", "...q_proj.lora_A.weight" and "...q_proj.lora_B.weight". Deriving, it
// registers the replaced BitLinear's weight tensor itself under "weight".
#pragma once

#include <torch/torch.h>

#include "layers/bit_linear.h"
#include "layers/tensor_io.h"

namespace bitnet {

struct LoRAOptions {
  int64_t rank = 8;
  double scale = 1.0;    // alpha / rank (or alpha / sqrt(rank) with rsLoRA)
  double dropout = 0.0;  // on the adapter's input, in training mode only
};

class LoRALinearImpl : public BitLinearImpl {
 public:
  // Takes `base`'s place on its weight tensor (frozen or not, as it is), options and λ.
  LoRALinearImpl(const BitLinearImpl& base, const LoRAOptions& options, at::Generator generator);

  // The BitLinear's output plus delta(input), summed in fp32 and returned in the compute dtype.
  torch::Tensor forward_prepared(const torch::Tensor& prepared, const torch::Tensor& input = {}) override;
  // W + scale · B·A (fp32, no autograd): the latent weight with the adapter folded in.
  torch::Tensor merged_weight() const override;

  // scale · B·A·dropout(x) in fp32, (..., in) -> (..., out).
  torch::Tensor delta(const torch::Tensor& x);
  // The adapter's tensors by their names in this module: lora_A.weight, lora_B.weight.
  NamedTensors adapter_params() const;
  const LoRAOptions& lora_options() const { return adapter_; }

  torch::nn::Linear lora_A{nullptr}, lora_B{nullptr};  // (rank, in), (out, rank)

 private:
  LoRAOptions adapter_;
};
TORCH_MODULE(LoRALinear);

}  // namespace bitnet
