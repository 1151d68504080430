// Forward/backward and evaluation (see train_step.h).
#include "trainer/train_step.h"

namespace bitnet {
namespace {

torch::Tensor to_long_tensor(const std::vector<int32_t>& values, const data::Batch& batch) {
  return torch::tensor(values, torch::kInt).view({batch.batch_size, batch.seq_len}).to(torch::kLong);
}

}  // namespace

torch::Tensor batch_inputs(const data::Batch& batch) { return to_long_tensor(batch.inputs, batch); }
torch::Tensor batch_targets(const data::Batch& batch) { return to_long_tensor(batch.targets, batch); }

torch::Tensor summed_cross_entropy(BitNetLM& model, const data::Batch& batch) {
  torch::Tensor doc_ids;  // packed fine-tuning rows: attention stays within each example
  if (!batch.doc_ids.empty()) doc_ids = to_long_tensor(batch.doc_ids, batch);
  torch::Tensor logits = model(batch_inputs(batch), doc_ids);  // (B, T, V) fp32
  const int64_t vocab = logits.size(-1);
  return torch::nn::functional::cross_entropy(
      logits.view({-1, vocab}), batch_targets(batch).view({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(data::kIgnoreIndex).reduction(torch::kSum));
}

double accumulate_gradients(BitNetLM& model, const std::vector<data::Batch>& micro_batches, int64_t step_targets) {
  double total = 0;
  for (const data::Batch& batch : micro_batches) {
    torch::Tensor loss_sum = summed_cross_entropy(model, batch);
    (loss_sum / static_cast<double>(step_targets)).backward();
    total += loss_sum.item<double>();
  }
  return total;
}

EvalResult evaluate(BitNetLM& model, const std::vector<data::Batch>& batches) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  EvalResult r;
  for (const data::Batch& batch : batches) {
    sum += summed_cross_entropy(model, batch).item<double>();
    r.targets += batch.num_targets;
  }
  r.loss = r.targets > 0 ? sum / double(r.targets) : 0.0;
  return r;
}

}  // namespace bitnet
