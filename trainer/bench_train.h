// `bitnet bench train CONFIG`: training throughput of a config without writing a run: median
// step time after warm-up, tokens/s, peak RSS, and model FLOPs utilisation against a bf16 (or
// fp32) matmul of the model's own projection shapes measured in the same process.
#pragma once

#include <cstdio>
#include <string>

#include "trainer/config.h"

namespace bitnet {

struct BenchTrainOptions {
  int64_t warmup_steps = 3;
  int64_t measured_steps = 10;
};

void bench_train(const RunConfig& config, const BenchTrainOptions& options, std::FILE* out);

}  // namespace bitnet
