// A BitLinear that records its inputs (see recording_bit_linear.h).
#include "export/recording_bit_linear.h"

#include <utility>

namespace bitnet::exporting {

RecordingBitLinearImpl::RecordingBitLinearImpl(const BitLinearImpl& base, Recorder record)
    : BitLinearImpl(Replacing{base}), record_(std::move(record)) {}

torch::Tensor RecordingBitLinearImpl::prepare_input(const torch::Tensor& x) const {
  record_(x);
  return BitLinearImpl::prepare_input(x);
}

}  // namespace bitnet::exporting
