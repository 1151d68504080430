// One optimizer step's forward/backward work, and evaluation. The loss of a step is the sum of
// token cross-entropies over every micro-batch (and rank), divided by the number of target
// tokens of the whole step, so gradient accumulation is the same as one big batch.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "data/batches.h"
#include "layers/bitnet_lm.h"

namespace bitnet {

// (B, T) int64 tensors of a batch's inputs and targets (targets keep kIgnoreIndex), on `device`
// (copied asynchronously from pinned memory for a GPU).
torch::Tensor batch_inputs(const data::Batch& batch, const torch::Device& device = torch::kCPU);
torch::Tensor batch_targets(const data::Batch& batch, const torch::Device& device = torch::kCPU);

// The device the model's parameters live on.
torch::Device model_device(BitNetLM& model);

// Sum of cross-entropy over the targets of one batch (a 0-dim fp32 tensor, with autograd).
torch::Tensor summed_cross_entropy(BitNetLM& model, const data::Batch& batch);

// Forward + backward of every micro-batch, each loss divided by `step_targets` (the target
// count of the whole step, all ranks). Gradients accumulate into .grad. Returns the summed
// cross-entropy of these batches (not divided) as a 0-dim fp64 tensor on the model's device: no
// host synchronisation until someone reads it.
torch::Tensor accumulate_gradients_tensor(BitNetLM& model, const std::vector<data::Batch>& micro_batches,
                                          int64_t step_targets);
// The same, read back to the host.
double accumulate_gradients(BitNetLM& model, const std::vector<data::Batch>& micro_batches, int64_t step_targets);

struct EvalResult {
  double loss = 0;  // mean cross-entropy per target token
  int64_t targets = 0;
};
EvalResult evaluate(BitNetLM& model, const std::vector<data::Batch>& batches);

}  // namespace bitnet
