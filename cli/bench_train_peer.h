// `bitnet bench train CONFIG --peer transformers`: our training step beside Hugging Face
// transformers' own BitNet (bench/hf_bitnet_train.py, run from the .venv as a child process) with
// the same shapes, batch and optimizer, interleaved per thread count in one run. Figures only.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "trainer/config.h"

namespace bitnet::cli {

struct PeerBenchOptions {
  int64_t warmup_steps = 3;
  int64_t measured_steps = 10;
  std::vector<int> threads = {1, 2};
  std::vector<std::string> modes = {"eager", "compiled"};  // the peer's: plain eager, torch.compile
};

// Prints the side-by-side table to `out`; throws when the peer's model does not match ours (its
// parameter count differs) or the peer cannot be started.
void bench_train_vs_transformers(const RunConfig& config, const PeerBenchOptions& options, std::FILE* out);

}  // namespace bitnet::cli
