// Timing our training step (see bench_step_timing.h).
#include "trainer/bench_step_timing.h"

#include <algorithm>
#include <chrono>

#include "checkpoint/model_options.h"
#include "optim/adamw.h"
#include "optim/grad_clip.h"
#include "trainer/device.h"
#include "trainer/run_data.h"
#include "trainer/train_step.h"

namespace bitnet {
namespace {
using Clock = std::chrono::steady_clock;

constexpr double kTrialSeconds = 0.02;
constexpr int kTrials = 5;
}  // namespace

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double matmul_flops_per_second(const std::vector<std::pair<int64_t, int64_t>>& shapes, int64_t tokens,
                               torch::Dtype dtype, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  double best = 0;
  for (const auto& [in, out] : shapes) {
    torch::Tensor a = torch::randn({tokens, in}).to(device, dtype), b = torch::randn({in, out}).to(device, dtype);
    auto seconds_for = [&](int reps) {
      synchronize(device);
      const auto t0 = Clock::now();
      for (int i = 0; i < reps; ++i) torch::matmul(a, b);
      synchronize(device);
      return std::chrono::duration<double>(Clock::now() - t0).count();
    };
    seconds_for(1);  // warm-up
    // Trials of at least kTrialSeconds each, the fastest taken: a matmul on AMX or a GPU takes
    // well under a millisecond, and a few calls timed once measured one run's clock and the
    // slices a VM's host took from it (the rate varied 3x between runs).
    int reps = 1;
    double secs = seconds_for(reps);
    while (secs < kTrialSeconds && reps < (1 << 16)) secs = seconds_for(reps *= 2);
    for (int trial = 1; trial < kTrials; ++trial) secs = std::min(secs, seconds_for(reps));
    best = std::max(best, 2.0 * double(tokens) * double(in) * double(out) * reps / secs);
  }
  return best;
}

double model_flops_per_step(const RunConfig& config, const StepFigures& f) {
  const int64_t tokens_per_step = config.train.micro_batch * config.data.seq_len * config.train.grad_accum;
  const double attention =
      12.0 * double(config.model.num_layers) * double(config.data.seq_len) * double(config.model.hidden_size);
  return (6.0 * f.matmul_params + attention) * double(tokens_per_step);
}

StepFigures measure_steps(const RunConfig& config, int64_t warmup, int64_t measured, const torch::Device& device) {
  torch::manual_seed(static_cast<uint64_t>(config.train.seed));
  RunData data = prepare_run_data(config, 0, 1);
  const int64_t vocab = config.model.vocab_size > 0 ? config.model.vocab_size : data.tokenizer->vocab_size();
  BitNetLM model(model_options(config, vocab, compute_dtype_for(config.train.precision, device)));
  model->reset_parameters(static_cast<uint64_t>(config.train.seed));
  model->to(device);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : model->named_parameters()) named.emplace_back(item.key(), item.value());
  AdamW optimizer(
      named, AdamWOptions{.beta1 = config.optim.betas[0], .beta2 = config.optim.betas[1], .eps = config.optim.eps});
  const std::vector<torch::Tensor> params = model->parameters();

  StepFigures f;
  reset_peak_device_memory(device);
  for (int64_t s = 0; s < warmup + measured; ++s) {
    std::vector<data::Batch> batches;
    for (int64_t i = 0; i < config.train.grad_accum; ++i) batches.push_back(data.train->next(config.train.micro_batch));
    int64_t targets = 0;
    for (const auto& b : batches) targets += b.num_targets;
    synchronize(device);
    const auto t0 = Clock::now();
    accumulate_gradients_tensor(model, batches, targets);
    clip_grad_norm_tensor(params, config.optim.grad_clip);
    optimizer.step(config.optim.lr, config.optim.weight_decay);
    optimizer.zero_grad();
    synchronize(device);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (s >= warmup) f.step_ms.push_back(ms);
  }
  f.peak_device_bytes = peak_device_memory(device);
  f.parameters = model->num_parameters();
  f.vocab_size = vocab;
  f.quantized = model->options().quantize;
  f.matmul_params = double(vocab) * double(config.model.hidden_size);
  for (auto& [name, linear] : model->bit_linears()) {
    const auto& o = linear->options();
    f.matmul_params += double(o.in_features) * double(o.out_features);
    if (std::find(f.shapes.begin(), f.shapes.end(), std::make_pair(o.in_features, o.out_features)) == f.shapes.end())
      f.shapes.emplace_back(o.in_features, o.out_features);
  }
  return f;
}

}  // namespace bitnet
