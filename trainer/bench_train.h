// `bitnet bench train CONFIG`: training throughput of a config without writing a run, on its
// train.device: median step time after warm-up, tokens/s, peak RSS (and peak GPU memory), model
// FLOPs utilisation against a bf16 (or fp32) matmul of the model's own projection shapes on the
// same device in the same process, and the same model with quant.mode=none as a ratio.
#pragma once

#include <cstdio>
#include <string>

#include "trainer/config.h"

namespace bitnet {

struct BenchTrainOptions {
  int64_t warmup_steps = 3;
  int64_t measured_steps = 10;
  bool compare_full_precision = true;  // also time quant.mode=none (a ternary config only)
};

void bench_train(const RunConfig& config, const BenchTrainOptions& options, std::FILE* out);

}  // namespace bitnet
