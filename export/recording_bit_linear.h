// RecordingBitLinear: the export verifier's stand-in for a projection of the reference model. It
// computes exactly what the BitLinear it replaces computes, and hands every input it quantizes
// (x before quantization, (..., in)) to a callback, so the verifier can compare the model's
// activations with the kernels' while the training forward carries no such hook.
#pragma once

#include <functional>

#include <torch/torch.h>

#include "layers/bit_linear.h"

namespace bitnet::exporting {

class RecordingBitLinearImpl : public BitLinearImpl {
 public:
  using Recorder = std::function<void(const torch::Tensor& x)>;
  // Takes `base`'s place on its weight tensor, options and λ (see BitNetLMImpl::replace_projection).
  RecordingBitLinearImpl(const BitLinearImpl& base, Recorder record);

  torch::Tensor prepare_input(const torch::Tensor& x) const override;

 private:
  Recorder record_;
};

}  // namespace bitnet::exporting
