// `bitnet bench train CONFIG`: training throughput of a config without writing a run, on its
// train.device: median step time after warm-up, tokens/s, peak RSS (and peak GPU memory), model
// FLOPs utilisation against a bf16 (or fp32) matmul of the model's own projection shapes on the
// same device in the same process, the same model with quant.mode=none as a ratio, and (on the
// CPU) the same step again while competing processes load the machine.
#pragma once

#include <cstdio>
#include <string>

#include "trainer/config.h"

namespace bitnet {

struct BenchTrainOptions {
  int64_t warmup_steps = 3;
  int64_t measured_steps = 10;
  bool compare_full_precision = true;  // also time quant.mode=none (a ternary config only)
  // Also time the step with this many competing processes running (CompetingLoad); -1 = as many
  // as the machine has hardware threads, 0 = skip. CPU runs only.
  int competing_processes = -1;
};

void bench_train(const RunConfig& config, const BenchTrainOptions& options, std::FILE* out);

}  // namespace bitnet
