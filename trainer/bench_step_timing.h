// The pieces of `bitnet bench train` that time our training step: warm-up + measured optimizer
// steps of a config, the model FLOPs of a step, and the matmul rate MFU is measured against.
// Shared by the plain benchmark (bench_train.h) and the side-by-side one against transformers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "trainer/config.h"

namespace bitnet {

struct StepFigures {
  std::vector<double> step_ms;  // measured steps
  int64_t parameters = 0;
  int64_t vocab_size = 0;                           // as the model was built (config or tokenizer)
  double matmul_params = 0;                         // projections + LM head
  std::vector<std::pair<int64_t, int64_t>> shapes;  // distinct (in, out) of the projections
  int64_t peak_device_bytes = 0;
  bool quantized = false;
};

// Runs `warmup` + `measured` optimizer steps (forward, backward, clip, AdamW, zero_grad) of
// `config` on `device`, at the thread count the caller set; the time includes waiting for the
// device, so a GPU step is measured to its end.
StepFigures measure_steps(const RunConfig& config, int64_t warmup, int64_t measured, const torch::Device& device);

double median(std::vector<double> v);

// Model FLOPs of one optimizer step: 6 · (projection + LM-head parameters) · tokens for the
// matmuls of forward and backward, plus 12 · layers · T · C · tokens for attention scores and
// values (the usual transformer estimate); the elementwise work of quantization and norms is not
// counted, which is why it shows up as lost utilisation.
double model_flops_per_step(const RunConfig& config, const StepFigures& figures);

// Best sustained matmul FLOP/s over the model's (tokens × in) · (in × out) shapes on `device`: per
// shape, the fastest of 5 trials of at least 20 ms each.
double matmul_flops_per_second(const std::vector<std::pair<int64_t, int64_t>>& shapes, int64_t tokens,
                               torch::Dtype dtype, const torch::Device& device);

}  // namespace bitnet
