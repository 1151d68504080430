// How ranks of a data-parallel run talk to each other. The training loop only sees this
// interface: a single process uses LocalCommunicator (every call is a no-op); distributed runs
// implement it over a c10d process group.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace bitnet {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int64_t rank() const = 0;
  virtual int64_t world_size() const = 0;
  // Index of this rank on its machine (its GPU when there is one per rank).
  virtual int64_t local_rank() const { return 0; }
  // In-place sum over ranks of each tensor (same shapes and order on every rank).
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  // Max over ranks of a flag such as "I received SIGTERM", so every rank stops at the same step.
  virtual int64_t all_reduce_max(int64_t value) = 0;
  bool is_main() const { return rank() == 0; }
};

class LocalCommunicator final : public Communicator {
 public:
  int64_t rank() const override { return 0; }
  int64_t world_size() const override { return 1; }
  void all_reduce_sum(std::vector<torch::Tensor>&) override {}
  int64_t all_reduce_max(int64_t value) override { return value; }
};

}  // namespace bitnet
