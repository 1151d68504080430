// Checking that every rank of a data-parallel run holds the same model. Ranks start from the
// same seed and apply the same all-reduced update, and the ternary codes and scales are pure
// functions of the latent weights, so nothing needs synchronising beyond the gradients; this
// check turns that argument into a tested fact at every checkpoint (docs/distributed.md).
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "trainer/communicator.h"

namespace bitnet {

// 62-bit XXH64 over every parameter's name and bytes plus, for each 2-D weight, its ternary
// codes and scale as the forward pass computes them (layers/quantize.h).
uint64_t replica_checksum(torch::nn::Module& model);

// Collective: every rank must call it at the same step. Throws DistributedError naming the step
// when the ranks' checksums differ (a rank diverged: different build, threads or data).
void check_replicas_identical(Communicator& comm, torch::nn::Module& model, int64_t step);

}  // namespace bitnet
