// LoRA merge and drift report (see lora_merge.h).
#include "trainer/lora_merge.h"

#include <filesystem>
#include <stdexcept>

#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_model.h"
#include "checkpoint/model_options.h"
#include "layers/lora.h"
#include "layers/quantize.h"
#include "layers/tensor_io.h"
#include "trainer/finetune_setup.h"
#include "trainer/pretrained.h"
#include "trainer/run_data.h"
#include "trainer/train_step.h"

namespace bitnet {
namespace {

torch::Tensor token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::nn::functional::cross_entropy(
      logits.view({-1, logits.size(-1)}), targets.view({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(data::kIgnoreIndex).reduction(torch::kSum));
}

}  // namespace

MergeReport merge_lora(const std::string& source, const std::string& out_root, int64_t eval_batches) {
  torch::NoGradGuard no_grad;
  MergeReport r;
  r.checkpoint_dir = resolve_checkpoint_dir(source);
  const CheckpointContents ckpt = load_checkpoint(r.checkpoint_dir);
  const RunConfig config = parse_config(ckpt.config_yaml, r.checkpoint_dir + "/config.yaml");
  if (config.lora.rank == 0) {
    throw std::runtime_error(r.checkpoint_dir +
                             " is not a LoRA checkpoint (lora.rank is 0): it already holds every "
                             "weight, export it directly with `bitnet export`");
  }
  RunData data = prepare_run_data(config, 0, 1);
  if (!data.val) {
    throw std::runtime_error("the run's data.val_fraction is 0: there is no held-out text to measure the drift on");
  }
  BitNetOptions options = model_options(config, config.model.vocab_size);
  options.compute_dtype = torch::kFloat;

  // base + adapter, exactly as trained (frozen base from init_from, adapters from the checkpoint)
  BitNetLM adapted(options);
  adapted->reset_parameters(static_cast<uint64_t>(config.train.seed));
  load_pretrained(adapted, inspect_pretrained(config.init_from), config.init_from_ignore);
  r.adapted_layers = apply_lora(adapted, lora_spec(config.lora), 0);
  load_lora_parameters(adapted, ckpt.model);
  adapted->eval();

  BitNetLM base(options), merged(options);
  std::map<std::string, torch::Tensor> base_weights;
  for (const auto& [name, t] : base_parameters(adapted)) base_weights[name] = t;
  load_parameters(*base, base_weights);
  const std::map<std::string, torch::Tensor> merged_weights = merged_base_weights(adapted);
  load_parameters(*merged, merged_weights);
  base->eval();
  merged->eval();

  int64_t changed = 0, total = 0;
  for (auto& [name, linear] : lora_linears(adapted)) {
    const torch::Tensor a = ternary_weight_codes(linear->weight),
                        b = ternary_weight_codes(merged_weights.at(name + ".weight"));
    changed += a.ne(b).sum().item<int64_t>();
    total += a.numel();
  }
  r.codes_changed = total ? double(changed) / double(total) : 0.0;

  double kl_sum = 0, ce_base = 0, ce_adapter = 0, ce_merged = 0;
  for (const data::Batch& batch : data.val->first(eval_batches, config.train.micro_batch)) {
    const torch::Tensor inputs = batch_inputs(batch), targets = batch_targets(batch);
    const torch::Tensor la = adapted(inputs), lm = merged(inputs), lb = base(inputs);  // (B, T, V)
    const torch::Tensor mask = targets.ne(data::kIgnoreIndex).to(torch::kFloat);       // (B, T)
    const torch::Tensor pa = torch::log_softmax(la, -1), pm = torch::log_softmax(lm, -1);
    kl_sum += ((pa.exp() * (pa - pm)).sum(-1) * mask).sum().item<double>();
    ce_adapter += token_cross_entropy(la, targets).item<double>();
    ce_merged += token_cross_entropy(lm, targets).item<double>();
    ce_base += token_cross_entropy(lb, targets).item<double>();
    r.eval_tokens += batch.num_targets;

    // Before re-quantization the merge is exact: with quantization off both compute x(W + sBA)ᵀ.
    adapted->set_quant_lambda(0.0);
    merged->set_quant_lambda(0.0);
    r.max_abs_prequant = std::max(r.max_abs_prequant, (adapted(inputs) - merged(inputs)).abs().max().item<double>());
    adapted->set_quant_lambda(1.0);
    merged->set_quant_lambda(1.0);
  }
  const double n = double(std::max<int64_t>(1, r.eval_tokens));
  r.kl = kl_sum / n;
  r.loss_base = ce_base / n;
  r.loss_adapter = ce_adapter / n;
  r.loss_merged = ce_merged / n;

  RunConfig out = config;  // self-contained: every weight is in the merged checkpoint
  out.lora = LoraConfig{};
  out.init_from.clear();
  out.init_from_ignore.clear();
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : merged->named_parameters()) tensors.emplace_back(item.key(), item.value());
  r.merged_dir = save_checkpoint(out_root, tensors, {}, ckpt.state, config_to_yaml(out), 1);
  return r;
}

}  // namespace bitnet
