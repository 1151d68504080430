// The model a run config describes: the layer options (shapes, activation, quantization) of
// BitNetLM, shared by training, checkpoint loading and export so they build the same model.
#pragma once

#include <cstdint>

#include "layers/bitnet_lm.h"
#include "trainer/config.h"

namespace bitnet {

// `compute_dtype` is the matmul dtype: fp32 to run a checkpoint as it is (eval, export, merges);
// training passes what train.precision resolves to on its device (trainer/device.h).
BitNetOptions model_options(const RunConfig& config, int64_t vocab_size, torch::Dtype compute_dtype = torch::kFloat);

}  // namespace bitnet
