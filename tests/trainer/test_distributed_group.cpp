// The c10d communicator with two threads of this process as ranks 0 and 1 over loopback: sums
// and maxima against hand-computed values, the replica check, and naming a rank that left.
#include <unistd.h>

#include <functional>
#include <future>

#include <gtest/gtest.h>

#include "cli/launcher.h"
#include "trainer/distributed.h"
#include "trainer/distributed_replicas.h"

namespace bitnet {
namespace {

// Runs body(rank, communicator) on two threads that form one 2-rank gloo group.
void with_two_ranks(const std::function<void(int, ProcessGroupCommunicator&)>& body, int64_t timeout_s = 20) {
  const int port = cli::free_loopback_port();
  DistributedConfig config;
  config.backend = DistributedBackend::kGloo;
  config.timeout_s = timeout_s;
  auto run_rank = [&](int rank) {
    DistributedEnv env;
    env.rank = env.local_rank = rank;
    env.world_size = env.local_world_size = 2;
    env.master_addr = "127.0.0.1";
    env.master_port = port;
    std::unique_ptr<ProcessGroupCommunicator> comm = join_process_group(env, config);
    body(rank, *comm);
  };
  auto other = std::async(std::launch::async, run_rank, 1);
  run_rank(0);
  other.get();
}

TEST(DistributedGroup, SumsEveryTensorAndDtype) {
  with_two_ranks([](int rank, ProcessGroupCommunicator& comm) {
    EXPECT_EQ(comm.rank(), rank);
    EXPECT_EQ(comm.world_size(), 2);
    const double r = rank;
    std::vector<torch::Tensor> t = {torch::tensor({0.5 + r}, torch::kDouble),
                                    torch::arange(12, torch::kFloat).view({3, 4}) * (r + 1),
                                    torch::full({5}, 1.0f + float(r)), torch::full({3, 2}, 10.0f * float(r)).t()};
    comm.all_reduce_sum(t);
    EXPECT_DOUBLE_EQ(t[0].item<double>(), 0.5 + 1.5);
    EXPECT_TRUE(torch::equal(t[1], torch::arange(12, torch::kFloat).view({3, 4}) * 3));  // (1 + 2) x
    EXPECT_TRUE(torch::equal(t[2], torch::full({5}, 3.0f)));
    EXPECT_TRUE(torch::equal(t[3], torch::full({2, 3}, 10.0f)));
    EXPECT_EQ(comm.all_reduce_max(rank == 0 ? 15 : 0), 15);
    EXPECT_EQ(comm.all_reduce_max(rank == 1 ? -3 : -7), -3);
    EXPECT_EQ(comm.stats().calls, 1);
    EXPECT_EQ(comm.stats().bytes, 8 + 48 + 20 + 24);
  });
}

TEST(DistributedGroup, ReplicaCheckPassesForEqualModelsAndCatchesADifference) {
  with_two_ranks([](int rank, ProcessGroupCommunicator& comm) {
    torch::nn::Linear a(torch::nn::LinearOptions(4, 3));
    {
      torch::NoGradGuard no_grad;
      a->weight.copy_(torch::linspace(-1, 1, 12).view({3, 4}));
      a->bias.copy_(torch::tensor({0.1f, 0.2f, 0.3f}));
    }
    EXPECT_NO_THROW(check_replicas_identical(comm, *a, 4));
    {
      // Rank 1 nudges one weight far enough to change its ternary code.
      torch::NoGradGuard no_grad;
      if (rank == 1) a->weight[0][0].fill_(0.0f);
    }
    try {
      check_replicas_identical(comm, *a, 5);
      ADD_FAILURE() << "rank " << rank << ": no error for different weights";
    } catch (const DistributedError& e) {
      EXPECT_NE(std::string(e.what()).find("after step 5 the ranks hold different weights"), std::string::npos);
    }
  });
}

TEST(DistributedGroup, SurvivorNamesTheRankThatLeft) {
  std::string message;
  with_two_ranks(
      [&](int rank, ProcessGroupCommunicator& comm) {
        std::vector<torch::Tensor> t = {torch::ones({4})};
        comm.all_reduce_sum(t);  // both present
        if (rank == 1) return;   // rank 1 leaves: its communicator closes its connections
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        try {
          comm.all_reduce_sum(t);
          ADD_FAILURE() << "all-reduce without rank 1 succeeded";
        } catch (const DistributedError& e) {
          message = e.what();
        }
      },
      /*timeout_s=*/5);
  EXPECT_NE(message.find("rank 0: lost rank 1"), std::string::npos) << message;
}

TEST(DistributedGroup, NcclWithoutNcclIsAClearErrorBeforeAnyWaiting) {
  if (nccl_available()) GTEST_SKIP() << "this LibTorch has NCCL";
  DistributedEnv env;
  env.world_size = 2;  // rank 1 never comes: the backend must be refused before rendezvous
  env.master_port = cli::free_loopback_port();
  DistributedConfig config;
  config.backend = DistributedBackend::kNccl;
  config.timeout_s = 30;
  try {
    join_process_group(env, config);
    ADD_FAILURE() << "nccl accepted";
  } catch (const DistributedError& e) {
    EXPECT_NE(std::string(e.what()).find("distributed.backend=nccl needs a LibTorch built with CUDA and NCCL"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace bitnet
