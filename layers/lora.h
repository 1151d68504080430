// LoRA on a BitNetLM: which projections get adapters (a LoRALinear, layers/lora_linear.h, swapped
// in for each), freezing the base, the adapter tensors by name, folding them into the latent
// weights, and PEFT's on-disk adapter layout:
//   DIR/adapter_model.safetensors  "base_model.model." + our name, e.g.
//                                  base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight (r, in)
//                                  base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight (out, r)
//   DIR/adapter_config.json        {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r", "lora_alpha",
//                                   "lora_dropout", "target_modules", "use_rslora", "bias": "none", ...}
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "layers/bitnet_lm.h"
#include "layers/lora_linear.h"
#include "layers/tensor_io.h"

namespace bitnet {

class LoraError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoraSpec {
  int64_t rank = 8;
  double alpha = 16.0;
  double dropout = 0.0;
  std::vector<std::string> target_modules = {"q_proj", "v_proj"};  // or {"all-linear"}
  bool use_rslora = false;
};

// Whether a tensor name is a LoRA adapter's ("...q_proj.lora_A.weight"), not a base weight.
bool is_lora_tensor_name(const std::string& name);

// alpha / rank, or alpha / sqrt(rank) with use_rslora.
double lora_scale(const LoraSpec& spec);
// Whether `linear_name` ("model.layers.0.self_attn.q_proj") is one of the spec's targets.
bool lora_targets(const LoraSpec& spec, const std::string& linear_name);

// Freezes every parameter (requires_grad false), then swaps a LoRALinear in for each targeted
// projection (A from a generator seeded with `seed`, in model order; B = 0), so only the adapters
// train. Returns the number of adapted layers.
int64_t apply_lora(BitNetLM& model, const LoraSpec& spec, uint64_t seed);

// The model's LoRALinear projections with their names ("model.layers.0.self_attn.q_proj"), in
// model order.
std::vector<std::pair<std::string, LoRALinear>> lora_linears(BitNetLM& model);

// The adapter tensors (lora_A / lora_B weights), by our names, in model order.
NamedTensors lora_parameters(BitNetLM& model);
// The frozen base tensors (every parameter that is not an adapter), by name.
NamedTensors base_parameters(BitNetLM& model);
// Copies adapter tensors into the model: the names must be exactly the model's adapter names
// (one error lists every missing, unexpected and mis-shaped one).
void load_lora_parameters(BitNetLM& model, const std::map<std::string, torch::Tensor>& tensors);

// Every base tensor with each adapter folded in: W + scale · B·A (fp32). No adapter tensors.
std::map<std::string, torch::Tensor> merged_base_weights(BitNetLM& model);

// PEFT adapter directory. `base_model` goes to base_model_name_or_path.
void save_peft_adapter(const std::string& dir, BitNetLM& model, const LoraSpec& spec, const std::string& base_model);
struct PeftAdapter {
  LoraSpec spec;
  std::map<std::string, torch::Tensor> tensors;  // our names (the "base_model.model." prefix removed)
};
// Reads and validates adapter_config.json (LORA, bias none, no per-module rank/alpha patterns)
// and adapter_model.safetensors. Throws LoraError naming the file and the problem.
PeftAdapter read_peft_adapter(const std::string& dir);

}  // namespace bitnet
