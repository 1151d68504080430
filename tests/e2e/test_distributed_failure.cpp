// Failures of a 2-rank run started torchrun-style (one process per rank, environment variables):
// a rank killed or frozen makes the other fail with a message naming it, within
// distributed.timeout_s (each wait below has a deadline, so a hang fails the test instead of
// blocking it); SIGTERM to one rank stops both at the same step with a checkpoint.

#include <cstring>

#include <gtest/gtest.h>

#include "cli/launcher.h"
#include "tests/e2e/distributed_util.h"

namespace bitnet::test {
namespace {

// Two ranks of a long run; returns once rank 0 has logged `min_steps` steps.
std::vector<Child> start_two_ranks(const RunDir& dir, const std::string& cfg, const std::vector<std::string>& extra,
                                   int min_steps) {
  const std::string port = std::to_string(cli::free_loopback_port());
  std::vector<std::string> args = {"train", cfg, "train.steps=100000"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<Child> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.push_back(start_bitnet(
        args, {{"RANK", std::to_string(r)}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", port}},
        dir.path() + "/rank" + std::to_string(r)));
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_loss_lines(dir.run_path("run")) < min_steps && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(count_loss_lines(dir.run_path("run")), min_steps) << read_file(dir.path() + "/rank0.err");
  return ranks;
}

TEST(DistributedFailure, KilledRankIsNamedByTheSurvivor) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  std::vector<Child> ranks = start_two_ranks(dir, cfg, {"distributed.timeout_s=5"}, 3);
  ::kill(ranks[1].pid, SIGKILL);
  EXPECT_EQ(wait_for(ranks[1], std::chrono::seconds(10)), 128 + SIGKILL);
  // timeout_s bounds the collective; the census of survivors adds at most 3 s.
  EXPECT_EQ(wait_for(ranks[0], std::chrono::seconds(5 + 3 + 10)), 1);
  const std::string err = read_file(dir.path() + "/rank0.err");
  EXPECT_NE(err.find("rank 0: lost rank 1 (the process died"), std::string::npos) << err;
}

TEST(DistributedFailure, KilledRankZeroIsNamedThoughItTookTheStoreAlong) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  std::vector<Child> ranks = start_two_ranks(dir, cfg, {"distributed.timeout_s=5"}, 3);
  ::kill(ranks[0].pid, SIGKILL);
  EXPECT_EQ(wait_for(ranks[0], std::chrono::seconds(10)), 128 + SIGKILL);
  EXPECT_EQ(wait_for(ranks[1], std::chrono::seconds(5 + 3 + 10)), 1);
  const std::string err = read_file(dir.path() + "/rank1.err");
  EXPECT_NE(err.find("rank 1: lost rank 0 (it serves the rendezvous store at 127.0.0.1:"), std::string::npos) << err;
}

TEST(DistributedFailure, FrozenRankIsNamedWithinTheTimeout) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  std::vector<Child> ranks = start_two_ranks(dir, cfg, {"distributed.timeout_s=3"}, 3);
  ::kill(ranks[1].pid, SIGSTOP);  // alive, connections open, but no longer answering
  EXPECT_EQ(wait_for(ranks[0], std::chrono::seconds(3 + 3 + 10)), 1);
  ::kill(ranks[1].pid, SIGKILL);
  wait_for(ranks[1], std::chrono::seconds(10));
  const std::string err = read_file(dir.path() + "/rank0.err");
  EXPECT_NE(err.find("rank 0: lost rank 1"), std::string::npos) << err;
  EXPECT_NE(err.find("stopped responding for distributed.timeout_s=3"), std::string::npos) << err;
}

TEST(DistributedFailure, SigtermToOneRankStopsBothAtTheSameStepWithACheckpoint) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  std::vector<Child> ranks = start_two_ranks(dir, cfg, {}, 3);
  ::kill(ranks[1].pid, SIGTERM);
  EXPECT_EQ(wait_for(ranks[1], std::chrono::seconds(30)), 128 + SIGTERM);
  EXPECT_EQ(wait_for(ranks[0], std::chrono::seconds(30)), 128 + SIGTERM);
  const std::string out = read_file(dir.path() + "/rank0.out");
  const size_t at = out.find("stopped by signal 15 after step ");
  ASSERT_NE(at, std::string::npos) << out << read_file(dir.path() + "/rank0.err");
  const int64_t step = std::stoll(out.substr(at + std::strlen("stopped by signal 15 after step ")));
  const auto state = nlohmann::json::parse(read_file(dir.run_path("run") + "/ckpt/latest/state.json"));
  EXPECT_EQ(state["step"].get<int64_t>(), step);
  EXPECT_EQ(state["world_size"].get<int64_t>(), 2);
  EXPECT_EQ(read_losses(dir.run_path("run")).rbegin()->first, step);  // no rank went further
}

TEST(DistributedFailure, LauncherForwardsSigtermAndReportsTheCleanStop) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  const Child launcher = start_bitnet({"train", cfg, "train.steps=100000", "--nproc", "2"}, {}, dir.path() + "/l");
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_loss_lines(dir.run_path("run")) < 3 && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(launcher.pid, SIGTERM);
  EXPECT_EQ(wait_for(launcher, std::chrono::seconds(30)), 128 + SIGTERM) << read_file(dir.path() + "/l.err");
  EXPECT_NE(read_file(dir.path() + "/l.out").find("checkpoint saved. Resume with:"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.run_path("run") + "/ckpt/latest/state.json"));
  const std::string err = read_file(dir.path() + "/l.err");
  EXPECT_NE(err.find("[launcher] rank 0 stopped cleanly by SIGTERM (exit 143), rank 1 stopped cleanly by SIGTERM"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace bitnet::test
