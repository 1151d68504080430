// The c10d side of distributed.h: TCPStore rendezvous, a Gloo or NCCL process group, bucketed
// all-reduce and the failure census that names lost ranks. This is the only file that includes
// c10d headers; the differences between LibTorch 1.x and 2.x are confined to the aliases below.
// Built with USE_C10D_GLOO (and USE_C10D_NCCL when the LibTorch in use has NCCL), see
// trainer/CMakeLists.txt.
#include <torch/version.h>

#include <chrono>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "trainer/distributed.h"

namespace bitnet {
namespace {

// LibTorch 2.0 split the collective implementations (ProcessGroupGloo, ProcessGroupNCCL) out of
// ProcessGroup into c10d::Backend; both bases offer the allreduce used here.
#if TORCH_VERSION_MAJOR >= 2
using CollectiveBackend = c10d::Backend;
#else
using CollectiveBackend = c10d::ProcessGroup;
#endif

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string join_ranks(const std::vector<int64_t>& ranks) {
  std::string out;
  for (int64_t r : ranks) out += (out.empty() ? "" : ", ") + std::to_string(r);
  return out;
}

std::vector<uint8_t> to_bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

// The message of a LibTorch error without the C++ backtrace c10::Error appends.
std::string message_of(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error != nullptr ? c10_error->what_without_backtrace() : e.what();
  const size_t cut = text.find("\nException raised from");
  if (cut != std::string::npos) text.resize(cut);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

class C10dCommunicator final : public ProcessGroupCommunicator {
 public:
  C10dCommunicator(const DistributedEnv& env, const DistributedConfig& config) : env_(env), config_(config) {
    if (config.backend == DistributedBackend::kNccl && !nccl_available()) {
      throw DistributedError(std::string("distributed.backend=nccl needs a LibTorch built with CUDA and NCCL; "
                                         "this build uses LibTorch ") +
                             TORCH_VERSION +
                             " without NCCL. Use distributed.backend=gloo, or rebuild against a CUDA LibTorch "
                             "(docs/distributed.md)");
    }
    if (config.backend == DistributedBackend::kAuto) {
      throw DistributedError("distributed.backend auto must be resolved to gloo or nccl before joining the group");
    }
    timeout_ = milliseconds(config.timeout_s * 1000);
    connect_store();
    create_group();
  }

  ~C10dCommunicator() override {
    if (broken_) {
      // Joining the group's worker threads could block on a peer that hangs; the process is
      // about to exit with an error anyway.
      (void)group_.release();
      (void)store_.release();
    }
  }

  int64_t rank() const override { return env_.rank; }
  int64_t world_size() const override { return env_.world_size; }
  int64_t local_rank() const override { return env_.local_rank; }
  const DistributedEnv& env() const override { return env_; }
  const CollectiveStats& stats() const override { return stats_; }

  void all_reduce_sum(std::vector<torch::Tensor>& tensors) override {
    const auto t0 = Clock::now();
    int64_t bytes = 0;
    for (const auto& t : tensors) bytes += t.defined() ? t.numel() * int64_t(t.element_size()) : 0;
    all_reduce_in_buckets(tensors, kBucketBytes, [&](std::vector<torch::Tensor>& flat) {
      run_collectives(flat, c10d::ReduceOp::SUM, "an all-reduce of " + std::to_string(bytes) + " bytes");
      stats_.bucket_reductions += int64_t(flat.size());
    });
    stats_.calls += 1;
    stats_.bytes += bytes;
    stats_.largest_call_bytes = std::max(stats_.largest_call_bytes, bytes);
    stats_.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }

  int64_t all_reduce_max(int64_t value) override {
    std::vector<torch::Tensor> one = {torch::tensor({value}, torch::kLong).to(device_)};
    run_collectives(one, c10d::ReduceOp::MAX, "a small agreement between ranks (stop flag or replica checksum)");
    return one[0].cpu().item<int64_t>();
  }

 private:
  void connect_store() {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env_.master_port);
    options.isServer = env_.rank == 0;
    options.numWorkers = static_cast<size_t>(env_.world_size);
    options.waitWorkers = true;
    options.timeout = timeout_;
    try {
      store_ = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, options);
    } catch (const std::exception& e) {
      throw DistributedError(rendezvous_failure(message_of(e)));
    }
  }

  std::string rendezvous_failure(const std::string& cause) const {
    const std::string where = env_.master_addr + ":" + std::to_string(env_.master_port);
    std::string what = env_.rank == 0
                           ? "rank 0 could not serve the rendezvous store at " + where + " or not all " +
                                 std::to_string(env_.world_size) + " ranks joined"
                           : "rank " + std::to_string(env_.rank) + " could not reach rank 0's rendezvous store at " +
                                 where + " or not every rank joined";
    return what + " within distributed.timeout_s=" + std::to_string(config_.timeout_s) +
           " (check MASTER_ADDR/MASTER_PORT, that the port is free on rank 0's host, and that every rank "
           "was started): " +
           cause;
  }

  void create_group() {
    auto group_store = c10::make_intrusive<c10d::PrefixStore>("bitnet/pg", store_);
    try {
      if (config_.backend == DistributedBackend::kGloo) {
        auto options = c10d::ProcessGroupGloo::Options::create(timeout_);
        if (!env_.socket_ifname.empty()) {
          options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(env_.socket_ifname));
        } else if (is_loopback(env_.master_addr)) {
          options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        } else {
          options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        }
        group_ =
            c10::make_intrusive<c10d::ProcessGroupGloo>(group_store, int(env_.rank), int(env_.world_size), options);
        device_ = torch::Device(torch::kCPU);
        return;
      }
      if (config_.backend == DistributedBackend::kNccl) {
#ifdef USE_C10D_NCCL
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = timeout_;
        group_ =
            c10::make_intrusive<c10d::ProcessGroupNCCL>(group_store, int(env_.rank), int(env_.world_size), options);
        device_ = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env_.local_rank));
        return;
#endif
      }
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      throw DistributedError(rendezvous_failure(std::string("creating the ") + enum_name(config_.backend) +
                                                " process group failed: " + message_of(e)));
    }
    throw DistributedError(std::string("distributed.backend ") + enum_name(config_.backend) +
                           " is not available in this build");
  }

  void run_collectives(std::vector<torch::Tensor>& flat, c10d::ReduceOp op, const std::string& what) {
    if (broken_) throw DistributedError("the process group already failed; no further collectives are possible");
    c10d::AllreduceOptions options;
    options.reduceOp = op;
    options.timeout = timeout_;
    try {
      std::vector<c10::intrusive_ptr<c10d::Work>> pending;
      pending.reserve(flat.size());
      for (auto& t : flat) {
        std::vector<torch::Tensor> one = {t};
        pending.push_back(group_->allreduce(one, options));
      }
      for (auto& work : pending) work->wait(timeout_);
    } catch (const std::exception& e) {
      fail(what, message_of(e));
    }
  }

  // A collective failed: find out which ranks are gone, so every survivor can say so.
  [[noreturn]] void fail(const std::string& during, const std::string& cause) {
    broken_ = true;
    std::string first_line = cause.substr(0, cause.find('\n'));
    throw DistributedError("rank " + std::to_string(env_.rank) + ": lost " + lost_ranks() + " during " + during + " (" +
                           first_line +
                           "). Every rank of this run stops; resume all of them with "
                           "resume=auto from the last checkpoint");
  }

  std::string lost_ranks() {
    const std::string store_at = env_.master_addr + ":" + std::to_string(env_.master_port);
    try {
      const milliseconds grace = std::min(timeout_, milliseconds(3000));
      store_->setTimeout(grace);
      store_->set("bitnet/alive/" + std::to_string(env_.rank), to_bytes("1"));
      std::vector<int64_t> missing;
      const auto deadline = Clock::now() + grace;
      do {
        missing.clear();
        for (int64_t r = 0; r < env_.world_size; ++r) {
          if (!store_->check({"bitnet/alive/" + std::to_string(r)})) missing.push_back(r);
        }
        if (missing.empty()) break;
        std::this_thread::sleep_for(milliseconds(100));
      } while (Clock::now() < deadline);
      // The first survivor to finish the census names the lost ranks for everybody; a later one
      // could otherwise count the first (already exiting) as lost.
      const std::string key = "bitnet/lost";
      if (store_->check({key})) {
        const std::vector<uint8_t> named = store_->get(key);
        return std::string(named.begin(), named.end());
      }
      const std::string named = missing.empty()
                                    ? std::string("no rank (all answered; a network error between ranks?)")
                                    : (missing.size() == 1 ? "rank " : "ranks ") + join_ranks(missing) +
                                          " (the process died, or stopped responding for distributed.timeout_s=" +
                                          std::to_string(config_.timeout_s) + ")";
      store_->set(key, to_bytes(named));
      if (env_.rank == 0 && env_.world_size > 2) std::this_thread::sleep_for(grace);  // keep the store up for them
      return named;
    } catch (const std::exception&) {
      if (env_.rank == 0) return "the rendezvous store (rank 0's own) answers no more";
      return "rank 0 (it serves the rendezvous store at " + store_at +
             " and no longer answers: the process "
             "died or its host is unreachable)";
    }
  }

  DistributedEnv env_;
  DistributedConfig config_;
  milliseconds timeout_{0};
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<CollectiveBackend> group_;
  torch::Device device_{torch::kCPU};
  CollectiveStats stats_;
  bool broken_ = false;
};

}  // namespace

bool nccl_available() {
#ifdef USE_C10D_NCCL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<ProcessGroupCommunicator> join_process_group(const DistributedEnv& env,
                                                             const DistributedConfig& config) {
  if (config.timeout_s < 1) throw DistributedError("distributed.timeout_s must be at least 1 second");
  return std::make_unique<C10dCommunicator>(env, config);
}

}  // namespace bitnet
