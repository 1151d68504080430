// Exception type of the CPU runtime (kernels/): every error a user can cause (bad shapes, bad
// tokens, an unavailable BITNET_KERNEL path) is thrown as KernelError with an actionable message.
#pragma once

#include <stdexcept>
#include <string>

namespace bitnet::kernels {

class KernelError : public std::runtime_error {
 public:
  explicit KernelError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace bitnet::kernels
