// `bitnet train` on a GPU (ctest label `gpu`): a stopped and resumed run on the GPU reproduces
// the uninterrupted GPU run bit for bit (deterministic algorithms, CUBLAS_WORKSPACE_CONFIG), and
// checkpoints move between devices: a GPU run resumes on the CPU and a CPU run on the GPU.
// Without a GPU every test reports itself skipped, with the binary's own reason.
#include <gtest/gtest.h>

#include "tests/e2e/cli_runner.h"

namespace bitnet::e2e {
namespace {

namespace fs = std::filesystem;

// Empty when `bitnet train train.device=cuda` can run here, else the reason it gave.
std::string gpu_unavailable_reason() {
  static const std::string reason = [] {
    TempDir tmp("gpu_probe");
    RunResult r = run_bitnet(
        with(tiny_run_args(tmp.path, "probe"), {"train.device=cuda", "train.steps=1", "schedule.warmup_steps=0"}));
    if (r.exit_code == 0) return std::string();
    for (const char* why : {"no CUDA GPU is visible", "this build has no CUDA support"}) {
      const size_t at = r.output.find(why);
      if (at != std::string::npos) return r.output.substr(at, r.output.find('\n', at) - at);
    }
    return std::string("train.device=cuda failed for another reason:\n") + r.output;
  }();
  return reason;
}

#define REQUIRE_GPU_RUN()                                             \
  do {                                                                \
    const std::string why = gpu_unavailable_reason();                 \
    if (why.rfind("train.device=cuda failed", 0) == 0) FAIL() << why; \
    if (!why.empty()) GTEST_SKIP() << why;                            \
  } while (0)

TEST(TrainGpuE2E, ResumeOnTheGpuIsBitIdentical) {
  REQUIRE_GPU_RUN();
  TempDir tmp("gpu_resume");
  const std::vector<std::string> gpu = {"train.device=cuda", "train.steps=20"};
  RunResult straight = run_bitnet(with(tiny_run_args(tmp.path, "straight"), gpu));
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  EXPECT_NE(straight.output.find("cuda:0"), std::string::npos) << straight.output;
  RunResult first = run_bitnet(with(tiny_run_args(tmp.path, "split"), with(gpu, {"train.stop_after=10"})));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  RunResult second = run_bitnet(with(tiny_run_args(tmp.path, "split"), with(gpu, {"resume=auto"})));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(train_losses(tmp.path / "straight"), train_losses(tmp.path / "split"));
  EXPECT_EQ(weights_checksum(tmp.path / "straight"), weights_checksum(tmp.path / "split"));
}

// Trains 10 of 20 steps on `first`, resumes on `then` for the rest; the loss keeps falling.
void train_then_resume_on(const TempDir& tmp, const std::string& name, const std::string& first,
                          const std::string& then) {
  RunResult a = run_bitnet(
      with(tiny_run_args(tmp.path, name), {"train.device=" + first, "train.steps=20", "train.stop_after=10"}));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  RunResult b =
      run_bitnet(with(tiny_run_args(tmp.path, name), {"train.device=" + then, "train.steps=20", "resume=auto"}));
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_NE(b.output.find("resumed from"), std::string::npos) << b.output;
  const std::vector<double> losses = train_losses(tmp.path / name);
  ASSERT_EQ(losses.size(), 20u);
  EXPECT_LT(losses.back(), losses.front() - 0.5);  // training went on from the other device's weights
}

TEST(TrainGpuE2E, CheckpointsMoveBetweenGpuAndCpu) {
  REQUIRE_GPU_RUN();
  TempDir tmp("gpu_cpu");
  train_then_resume_on(tmp, "g2c", "cuda", "cpu");
  train_then_resume_on(tmp, "c2g", "cpu", "cuda");
}

}  // namespace
}  // namespace bitnet::e2e
