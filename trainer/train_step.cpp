// Forward/backward and evaluation (see train_step.h).
#include "trainer/train_step.h"

#include "trainer/device.h"

namespace bitnet {
namespace {

torch::Tensor to_long_tensor(const std::vector<int32_t>& values, const data::Batch& batch,
                             const torch::Device& device) {
  // int32 crosses to the device (half the bytes), widened to int64 there.
  torch::Tensor host = torch::tensor(values, torch::kInt).view({batch.batch_size, batch.seq_len});
  return to_device(host, device).to(torch::kLong);
}

}  // namespace

torch::Tensor batch_inputs(const data::Batch& batch, const torch::Device& device) {
  return to_long_tensor(batch.inputs, batch, device);
}
torch::Tensor batch_targets(const data::Batch& batch, const torch::Device& device) {
  return to_long_tensor(batch.targets, batch, device);
}

torch::Device model_device(BitNetLM& model) {
  return model->model->embed_tokens->weight.device();
}

torch::Tensor summed_cross_entropy(BitNetLM& model, const data::Batch& batch) {
  const torch::Device device = model_device(model);
  torch::Tensor doc_ids;  // packed fine-tuning rows: attention stays within each example
  if (!batch.doc_ids.empty()) doc_ids = to_long_tensor(batch.doc_ids, batch, device);
  torch::Tensor logits = model(batch_inputs(batch, device), doc_ids);  // (B, T, V) fp32
  const int64_t vocab = logits.size(-1);
  return torch::nn::functional::cross_entropy(
      logits.view({-1, vocab}), batch_targets(batch, device).view({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(data::kIgnoreIndex).reduction(torch::kSum));
}

torch::Tensor accumulate_gradients_tensor(BitNetLM& model, const std::vector<data::Batch>& micro_batches,
                                          int64_t step_targets) {
  torch::Tensor total = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(model_device(model)));
  for (const data::Batch& batch : micro_batches) {
    torch::Tensor loss_sum = summed_cross_entropy(model, batch);
    (loss_sum / static_cast<double>(step_targets)).backward();
    total += loss_sum.detach().to(torch::kDouble);  // fp64 like the host sum it replaces
  }
  return total;
}

double accumulate_gradients(BitNetLM& model, const std::vector<data::Batch>& micro_batches, int64_t step_targets) {
  return accumulate_gradients_tensor(model, micro_batches, step_targets).item<double>();
}

EvalResult evaluate(BitNetLM& model, const std::vector<data::Batch>& batches) {
  torch::NoGradGuard no_grad;
  torch::Tensor sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kDouble).device(model_device(model)));
  EvalResult r;
  for (const data::Batch& batch : batches) {
    sum += summed_cross_entropy(model, batch).to(torch::kDouble);
    r.targets += batch.num_targets;
  }
  r.loss = r.targets > 0 ? sum.item<double>() / double(r.targets) : 0.0;
  return r;
}

}  // namespace bitnet
