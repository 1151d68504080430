// The fine-tuning part of a run's setup: pretrained weights (init_from), LoRA adapters (lora.*),
// and what a LoRA run checkpoints and restores (the adapters only; the base comes back from
// init_from). Kept apart from the loop so trainer.cpp only calls in.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "layers/bitnet_lm.h"
#include "layers/lora.h"
#include "trainer/config.h"

namespace bitnet {

LoraSpec lora_spec(const LoraConfig& config);

// Called once the model is built and initialised and before the optimizer sees its parameters.
// A new run (resuming false) loads init_from and lora.adapter_from; a resumed run takes its
// weights from the checkpoint, except that a LoRA run re-reads its frozen base from init_from.
// LoRA adapters are added (and the base frozen) either way. Returns lines for the console.
std::vector<std::string> prepare_finetune(BitNetLM& model, const RunConfig& config, bool resuming);

// The parameters the optimizer updates (requires_grad), in model order.
std::vector<torch::Tensor> trainable_parameters(BitNetLM& model);
// What a checkpoint of this run stores: every parameter, or under LoRA only the adapters.
std::vector<std::pair<std::string, torch::Tensor>> checkpoint_tensors(BitNetLM& model, const RunConfig& config);
// The inverse: strict load of checkpoint_tensors() back into the model.
void load_checkpoint_tensors(BitNetLM& model, const RunConfig& config,
                             const std::map<std::string, torch::Tensor>& tensors);

// Peak resident set size of this process so far, in bytes (VmHWM; 0 when unknown).
int64_t peak_rss_bytes();

}  // namespace bitnet
