// Data-parallel runs on PyTorch's distributed engine (c10d), docs/distributed.md.
//
// A rank learns its place from the environment torchrun, a scheduler or `bitnet train --nproc`
// sets (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), meets the
// others at a c10d TCPStore served by rank 0, and joins a Gloo (CPU) or NCCL (CUDA builds)
// process group. ProcessGroupCommunicator implements trainer/communicator.h over it: tensors
// are summed in flattened buckets, and a collective that fails (a rank died or hung past
// distributed.timeout_s) becomes a DistributedError naming the ranks that were lost.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/communicator.h"
#include "trainer/config.h"

namespace bitnet {

class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DistributedEnv {
  int64_t rank = 0;
  int64_t local_rank = 0;
  int64_t world_size = 1;
  int64_t local_world_size = 1;  // ranks on this machine (threads per rank default to cores / this)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string socket_ifname;  // GLOO_SOCKET_IFNAME: network interface Gloo uses ("" = by address)
};

// Looks up one environment variable; nullptr when unset. std::getenv in production.
using EnvLookup = std::function<const char*(const char*)>;

// nullopt when WORLD_SIZE is unset (a plain single-process run). Otherwise every variable is
// checked: RANK and WORLD_SIZE are required, MASTER_ADDR/MASTER_PORT are required when
// WORLD_SIZE > 1, LOCAL_RANK defaults to RANK and LOCAL_WORLD_SIZE to WORLD_SIZE. A missing or
// malformed value (not an integer, rank outside [0, WORLD_SIZE), port outside 1..65535) is a
// DistributedError naming the variable, its value and what was expected.
std::optional<DistributedEnv> read_distributed_env(const EnvLookup& lookup);

// Byte ranges of `tensors` grouped into buckets for flattened all-reduce: tensors of one dtype
// and device, in order, at most `bucket_bytes` per bucket (a larger tensor gets its own).
// Undefined tensors are skipped. Each bucket lists indices into `tensors`.
std::vector<std::vector<size_t>> plan_buckets(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes);

// Sums `tensors` in place with one collective per bucket: `reduce_flat` receives each bucket as
// one flat contiguous tensor and must sum it over ranks in place. Buckets of a single
// contiguous tensor are reduced without a copy.
void all_reduce_in_buckets(std::vector<torch::Tensor>& tensors, int64_t bucket_bytes,
                           const std::function<void(std::vector<torch::Tensor>& flat)>& reduce_flat);

// What the collectives cost, for the closing line of a run and the figures in docs.
struct CollectiveStats {
  int64_t calls = 0;              // all_reduce_sum calls
  int64_t bucket_reductions = 0;  // collectives issued for them
  int64_t bytes = 0;              // payload summed, all calls
  double seconds = 0;             // wall time inside all_reduce_sum (waiting for slower ranks too)
  int64_t largest_call_bytes = 0;
};

class ProcessGroupCommunicator : public Communicator {
 public:
  ~ProcessGroupCommunicator() override = default;
  virtual const DistributedEnv& env() const = 0;
  virtual const CollectiveStats& stats() const = 0;
};

// Joins the process group described by `env` with `config.backend` and `config.timeout_s` (the
// limit for rendezvous and for every collective). Rank 0 serves the TCPStore at
// MASTER_ADDR:MASTER_PORT. Throws DistributedError when the backend is not in this build (nccl
// on a CPU-only LibTorch), the port cannot be bound, or not every rank arrives in time.
std::unique_ptr<ProcessGroupCommunicator> join_process_group(const DistributedEnv& env,
                                                             const DistributedConfig& config);

// Whether this build's LibTorch has NCCL (distributed.backend=nccl).
bool nccl_available();

// Bytes per all-reduce bucket (as PyTorch DDP's default, 25 MiB).
inline constexpr int64_t kBucketBytes = 25 << 20;

}  // namespace bitnet
