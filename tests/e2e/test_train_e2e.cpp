// `bitnet train` end to end on a tiny config: the loss falls and the run directory is complete;
// a stopped and resumed run reproduces the uninterrupted one bit for bit (losses and final
// weights), whether it stopped at train.stop_after or on SIGTERM.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <numeric>
#include <thread>

#include "tests/e2e/cli_runner.h"

namespace bitnet::e2e {
namespace {

namespace fs = std::filesystem;

double mean(const std::vector<double>& v, size_t begin, size_t end) {
  return std::accumulate(v.begin() + long(begin), v.begin() + long(end), 0.0) / double(end - begin);
}

TEST(TrainE2E, LossFallsAndRunDirectoryIsComplete) {
  TempDir tmp("loss_falls");
  RunResult r = run_bitnet(tiny_run_args(tmp.path, "tiny"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path run = tmp.path / "tiny";
  const std::vector<double> losses = train_losses(run);
  ASSERT_EQ(losses.size(), 30u);
  EXPECT_LT(mean(losses, 25, 30), mean(losses, 0, 5) - 0.5) << r.output;
  for (const char* f : {"config.yaml", "metrics.jsonl", "samples.txt", "loss.svg", "ckpt/latest/manifest.json",
                        "ckpt/latest/model.safetensors", "ckpt/latest/optim.safetensors", "ckpt/latest/state.json"}) {
    EXPECT_TRUE(fs::exists(run / f)) << f;
  }
  EXPECT_NE(r.output.find("step 30/30 | loss "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("val loss"), std::string::npos);
  EXPECT_NE(r.output.find("sample: The "), std::string::npos);
  EXPECT_NE(read_file(run / "metrics.jsonl").find("\"val_loss\""), std::string::npos);
  // Running the finished run again with resume=auto says it is complete and changes nothing.
  RunResult again = run_bitnet(with(tiny_run_args(tmp.path, "tiny"), {"resume=auto"}));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already complete"), std::string::npos) << again.output;
}

TEST(TrainE2E, StopAndResumeReproducesTheUninterruptedRunBitForBit) {
  TempDir tmp("resume");
  const std::vector<std::string> twenty = {"train.steps=20"};
  RunResult straight = run_bitnet(with(tiny_run_args(tmp.path, "straight"), twenty));
  ASSERT_EQ(straight.exit_code, 0) << straight.output;

  RunResult first = run_bitnet(with(tiny_run_args(tmp.path, "split"), {"train.steps=20", "train.stop_after=10"}));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("resume=auto"), std::string::npos) << first.output;
  EXPECT_EQ(train_losses(tmp.path / "split").size(), 10u);
  RunResult second = run_bitnet(with(tiny_run_args(tmp.path, "split"), {"train.steps=20", "resume=auto"}));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("resumed from"), std::string::npos) << second.output;

  expect_same_training(tmp.path / "straight", tmp.path / "split", 20);
}

// Pre-training shards written by `bitnet data prepare` are streamed (read window by window), and
// give the very windows of the same corpus read as text: a stopped and resumed run on the shards
// reproduces the uninterrupted run on the text bit for bit.
TEST(TrainE2E, StreamedShardsResumeToTheUninterruptedTextRunBitForBit) {
  TempDir tmp("resume_shards");
  const std::vector<std::string> twenty = {"train.steps=20"};
  RunResult straight = run_bitnet(with(tiny_run_args(tmp.path, "text"), twenty));
  ASSERT_EQ(straight.exit_code, 0) << straight.output;

  const std::string shards = (tmp.path / "shards").string();
  RunResult prep = run_bitnet({"data", "prepare", "/usr/share/games/fortunes/*.u8", "--separator", "%", "--out", shards,
                               "--shard-tokens", "200000"});
  ASSERT_EQ(prep.exit_code, 0) << prep.output;
  const std::vector<std::string> on_shards = {"data.format=shards", "data.paths=" + shards, "train.steps=20"};
  RunResult first = run_bitnet(with(tiny_run_args(tmp.path, "shards"), with(on_shards, {"train.stop_after=10"})));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("streamed from"), std::string::npos) << first.output;
  EXPECT_EQ(train_losses(tmp.path / "shards").size(), 10u);
  RunResult second = run_bitnet(with(tiny_run_args(tmp.path, "shards"), with(on_shards, {"resume=auto"})));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("resumed from"), std::string::npos) << second.output;

  expect_same_training(tmp.path / "text", tmp.path / "shards", 20);
}

// quant.start_fraction: full precision for steps 1-10 (metrics say λ 0), ternary after; a run
// stopped in the full-precision phase resumes into the ternary one exactly.
TEST(TrainE2E, FullPrecisionThenTernaryResumesAcrossTheSwitch) {
  TempDir tmp("fp_then_ternary");
  const std::vector<std::string> phases = {"train.steps=20", "quant.start_fraction=0.5"};
  RunResult straight = run_bitnet(with(tiny_run_args(tmp.path, "straight"), phases));
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  EXPECT_NE(straight.output.find("full precision for steps 1-10 then ternary"), std::string::npos) << straight.output;
  const std::string metrics = read_file(tmp.path / "straight" / "metrics.jsonl");
  size_t lambda_zero = 0;
  for (size_t at = metrics.find("\"quant_lambda\":0.0"); at != std::string::npos;
       at = metrics.find("\"quant_lambda\":0.0", at + 1)) {
    ++lambda_zero;
  }
  EXPECT_EQ(lambda_zero, 10u) << metrics;

  RunResult first = run_bitnet(with(tiny_run_args(tmp.path, "split"), with(phases, {"train.stop_after=7"})));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  RunResult second = run_bitnet(with(tiny_run_args(tmp.path, "split"), with(phases, {"resume=auto"})));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  expect_same_training(tmp.path / "straight", tmp.path / "split", 20);
}

TEST(TrainE2E, SigtermCheckpointsAndResumeReproducesTheRun) {
  TempDir tmp("sigterm");
  const std::vector<std::string> long_run = {"train.steps=150", "sample.tokens=4"};
  RunResult straight = run_bitnet(with(tiny_run_args(tmp.path, "straight"), long_run));
  ASSERT_EQ(straight.exit_code, 0) << straight.output;

  const fs::path run = tmp.path / "stopped";
  const pid_t pid = start_bitnet(with(tiny_run_args(tmp.path, "stopped"), long_run), (tmp.path / "log1").string());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (last_logged_step(run) < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGTERM);
  const int code = wait_bitnet(pid);
  const std::string log = read_file(tmp.path / "log1");
  ASSERT_EQ(code, 128 + SIGTERM) << log;
  EXPECT_NE(log.find("stopped by signal 15"), std::string::npos) << log;
  EXPECT_NE(log.find("resume=auto"), std::string::npos) << log;
  const int64_t stopped_at = last_logged_step(run);
  EXPECT_GE(stopped_at, 5);
  EXPECT_LT(stopped_at, 150) << "the run finished before the signal arrived";

  RunResult resumed = run_bitnet(with(tiny_run_args(tmp.path, "stopped"), with(long_run, {"resume=auto"})));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const std::vector<double> a = train_losses(tmp.path / "straight"), b = train_losses(run);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "step " << i + 1;
  EXPECT_EQ(weights_checksum(tmp.path / "straight"), weights_checksum(run));
}

}  // namespace
}  // namespace bitnet::e2e
