// Data-parallel training equals single-process training with the same global batch, and a
// resumed 2-rank run continues exactly where the uninterrupted one goes (docs/distributed.md).
#include <cmath>

#include <gtest/gtest.h>

#include "layers/tensor_io.h"
#include "tests/e2e/distributed_util.h"

namespace bitnet::test {
namespace {

constexpr auto kDeadline = std::chrono::seconds(90);

// Step -> field of metrics.jsonl's training records.
std::map<int64_t, double> read_field(const std::string& run_dir, const std::string& field) {
  std::map<int64_t, double> out;
  std::istringstream lines(read_file(run_dir + "/metrics.jsonl"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) out[j["step"].get<int64_t>()] = j[field].get<double>();
  }
  return out;
}

void expect_same_per_step(const std::string& run_a, const std::string& run_b, const std::string& field, int64_t steps,
                          double rel_tol) {
  const auto a = read_field(run_a, field), b = read_field(run_b, field);
  ASSERT_EQ(a.size(), size_t(steps)) << field;
  ASSERT_EQ(b.size(), size_t(steps)) << field;
  for (int64_t s = 1; s <= steps; ++s) {
    ASSERT_TRUE(a.count(s) && b.count(s)) << "step " << s;
    EXPECT_LE(std::abs(a.at(s) - b.at(s)), rel_tol * std::abs(a.at(s)))
        << field << " at step " << s << ": " << a.at(s) << " vs " << b.at(s);
  }
}

// Root-mean-square difference of every tensor <= rms_tol, and no single element further apart
// than max_tol.
void expect_same_weights(const std::string& run_a, const std::string& run_b, double rms_tol, double max_tol) {
  const auto a = load_tensors(run_a + "/ckpt/latest/model.safetensors");
  const auto b = load_tensors(run_b + "/ckpt/latest/model.safetensors");
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const torch::Tensor d = (t.to(torch::kDouble) - b.at(name).to(torch::kDouble));
    EXPECT_LE(d.pow(2).mean().sqrt().item<double>(), rms_tol) << name;
    EXPECT_LE(d.abs().max().item<double>(), max_tol) << name;
  }
}

int run_and_wait(const std::vector<std::string>& args, const std::string& log_prefix) {
  const int code = wait_for(start_bitnet(args, {}, log_prefix), kDeadline);
  if (code != 0)
    ADD_FAILURE() << "bitnet exited " << code << ":\n"
                  << read_file(log_prefix + ".out") << read_file(log_prefix + ".err");
  return code;
}

// The two runs sum the same per-token gradients in a different order (one GEMM over 4 rows vs two
// over 2 rows plus the all-reduce), so they agree to fp32 round-off, not bit for bit. AdamW
// (eps 1e-8) turns round-off in a near-zero gradient into an lr-sized step for a few elements,
// so weights are compared by RMS per tensor (1e-6) plus a loose per-element bound (5e-5, a
// sixtieth of lr; measured 1.4e-6 with LibTorch 1.13 and 1.8e-5 with 2.11). (Ternary
// rounding can amplify round-off further when a weight sits on a rounding threshold: with other
// seeds of this config, micro_batch 4 vs 2 x grad_accum 2 in ONE process differs as much; see
// docs/distributed.md. Seed 7 has no such flip.) Gradient norms are compared too because Adam
// would hide a wrong gradient scale in the losses.
class TwoRanksVsOne : public ::testing::TestWithParam<std::string> {};

TEST_P(TwoRanksVsOne, MicroBatchTwoOnTwoRanksEqualsMicroBatchFourOnOne) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  const std::string quant = "quant.mode=" + GetParam();
  ASSERT_EQ(run_and_wait({"train", cfg, quant, "name=one", "train.micro_batch=4"}, dir.path() + "/one"), 0);
  ASSERT_EQ(run_and_wait({"train", cfg, quant, "name=two", "train.micro_batch=2", "--nproc", "2"}, dir.path() + "/two"),
            0);
  expect_same_per_step(dir.run_path("one"), dir.run_path("two"), "loss", 10, 1e-6);
  expect_same_per_step(dir.run_path("one"), dir.run_path("two"), "grad_norm", 10, 1e-6);
  expect_same_weights(dir.run_path("one"), dir.run_path("two"), 1e-6, 5e-5);

  // Rank 0's progress goes through unprefixed, once; the run reports its collectives.
  const std::string out = read_file(dir.path() + "/two.out");
  EXPECT_NE(out.find("x 2 rank(s) = 128 tokens/step"), std::string::npos) << out;
  EXPECT_NE(out.find("\nstep 10/10 | loss"), std::string::npos) << out;
  EXPECT_EQ(out.find("[rank 1]"), std::string::npos) << out;
  EXPECT_NE(out.find("all-reduce (gloo, 2 ranks)"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(QuantModes, TwoRanksVsOne, ::testing::Values("ternary", "none"));

TEST(DistributedTraining, ResumedTwoRankRunReproducesTheUninterruptedOne) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  ASSERT_EQ(run_and_wait({"train", cfg, "name=full", "--nproc", "2"}, dir.path() + "/full"), 0);
  ASSERT_EQ(run_and_wait({"train", cfg, "name=split", "train.stop_after=5", "--nproc", "2"}, dir.path() + "/a"), 0);
  EXPECT_EQ(read_losses(dir.run_path("split")).size(), 5u);
  ASSERT_EQ(run_and_wait({"train", cfg, "name=split", "resume=auto", "--nproc", "2"}, dir.path() + "/b"), 0);
  EXPECT_NE(read_file(dir.path() + "/b.out").find("resumed from"), std::string::npos);
  // Same ranks, same order of every sum: the resumed run is bit for bit the uninterrupted one.
  expect_same_per_step(dir.run_path("full"), dir.run_path("split"), "loss", 10, 0.0);
  expect_same_weights(dir.run_path("full"), dir.run_path("split"), 0.0, 0.0);
}

// On 2 ranks, pre-training shards written by `bitnet data prepare` are streamed, each rank reading
// only its windows, and a stopped and resumed run on them equals the uninterrupted run on the
// same corpus read as text, bit for bit.
TEST(DistributedTraining, ResumedTwoRankRunOnStreamedShardsEqualsTheTextRun) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  const std::string shards = dir.path() + "/shards";
  ASSERT_EQ(run_and_wait({"data", "prepare", dir.path() + "/corpus.txt", "--separator", "%", "--out", shards,
                          "--shard-tokens", "2000"},
                         dir.path() + "/prep"),
            0);
  ASSERT_EQ(run_and_wait({"train", cfg, "name=text", "--nproc", "2"}, dir.path() + "/text"), 0);
  const std::vector<std::string> on_shards = {
      "train", cfg, "name=shards", "data.format=shards", "data.paths=" + shards, "--nproc", "2"};
  std::vector<std::string> stop = on_shards, resume = on_shards;
  stop.push_back("train.stop_after=5");
  resume.push_back("resume=auto");
  ASSERT_EQ(run_and_wait(stop, dir.path() + "/a"), 0);
  EXPECT_NE(read_file(dir.path() + "/a.out").find("streamed from"), std::string::npos);
  EXPECT_EQ(read_losses(dir.run_path("shards")).size(), 5u);
  ASSERT_EQ(run_and_wait(resume, dir.path() + "/b"), 0);
  EXPECT_NE(read_file(dir.path() + "/b.out").find("resumed from"), std::string::npos);
  expect_same_per_step(dir.run_path("text"), dir.run_path("shards"), "loss", 10, 0.0);
  expect_same_weights(dir.run_path("text"), dir.run_path("shards"), 0.0, 0.0);
}

TEST(DistributedTraining, ResumingWithAnotherWorldSizeIsRefusedWithAReason) {
  RunDir dir;
  const std::string cfg = dir.write_config("c.yaml");
  ASSERT_EQ(run_and_wait({"train", cfg, "train.stop_after=2", "--nproc", "2"}, dir.path() + "/a"), 0);
  const Child one = start_bitnet({"train", cfg, "resume=auto"}, {}, dir.path() + "/b");
  EXPECT_EQ(wait_for(one, kDeadline), 1);
  EXPECT_NE(read_file(dir.path() + "/b.err").find("was written with 2 ranks, this run has 1"), std::string::npos)
      << read_file(dir.path() + "/b.err");
}

}  // namespace
}  // namespace bitnet::test
