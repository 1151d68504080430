// Replica checksum (see distributed_replicas.h).
#include "trainer/distributed_replicas.h"

#include <xxhash.h>

#include <memory>

#include "layers/quantize.h"
#include "trainer/distributed.h"

namespace bitnet {
namespace {

void hash_tensor(XXH64_state_t* state, const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  XXH64_update(state, c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size());
}

}  // namespace

uint64_t replica_checksum(torch::nn::Module& model) {
  std::unique_ptr<XXH64_state_t, decltype(&XXH64_freeState)> state(XXH64_createState(), &XXH64_freeState);
  XXH64_reset(state.get(), 0);
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    XXH64_update(state.get(), item.key().data(), item.key().size());
    hash_tensor(state.get(), item.value());
    if (item.value().dim() == 2) {
      hash_tensor(state.get(), ternary_weight_codes(item.value()));
      hash_tensor(state.get(), ternary_weight_scale(item.value()));
    }
  }
  return XXH64_digest(state.get()) >> 2;  // fits int64 with room to negate
}

void check_replicas_identical(Communicator& comm, torch::nn::Module& model, int64_t step) {
  if (comm.world_size() == 1) return;
  const auto mine = static_cast<int64_t>(replica_checksum(model));
  const int64_t largest = comm.all_reduce_max(mine);
  const int64_t smallest = -comm.all_reduce_max(-mine);
  if (largest != smallest) {
    throw DistributedError("after step " + std::to_string(step) +
                           " the ranks hold different weights (replica "
                           "checksums range from " +
                           std::to_string(smallest) + " to " + std::to_string(largest) + ", rank " +
                           std::to_string(comm.rank()) + " has " + std::to_string(mine) +
                           "): every rank must run the same bitnet build on the same kind of hardware");
  }
}

}  // namespace bitnet
