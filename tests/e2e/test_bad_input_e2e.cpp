// Bad input through the real binary: each class of config error, missing or empty data, and
// damaged checkpoints give the documented message and a non-zero exit, never a crash; the
// previous checkpoint stays usable.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/e2e/cli_runner.h"

namespace bitnet::e2e {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

// A clean failure: non-zero, not killed by a signal, and the expected message.
void expect_clean_failure(const RunResult& r, const std::string& message) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_LT(r.exit_code, 128) << "killed by a signal: " << r.output;
  EXPECT_NE(r.output.find(message), std::string::npos) << "expected '" << message << "' in:\n" << r.output;
}

std::vector<std::string> tiny(const TempDir& tmp, std::vector<std::string> more) {
  std::vector<std::string> args = tiny_run_args(tmp.path, "bad");
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(BadInputE2E, UnknownKeyNamesFileLineColumnAndSuggests) {
  TempDir tmp("unknown_key");
  write(tmp.path / "c.yaml", "data:\n  paths: [x.txt]\noptim:\n  learning_rate: 0.1\n");
  expect_clean_failure(run_bitnet({"train", (tmp.path / "c.yaml").string()}),
                       "c.yaml:4:3: unknown key 'optim.learning_rate' (did you mean 'optim.lr'?)");
}

TEST(BadInputE2E, DuplicateKey) {
  TempDir tmp("dup_key");
  write(tmp.path / "c.yaml", "data:\n  paths: [x.txt]\ntrain:\n  steps: 5\n  steps: 6\n");
  expect_clean_failure(run_bitnet({"train", (tmp.path / "c.yaml").string()}), "duplicate key 'train.steps'");
}

TEST(BadInputE2E, WrongTypeAndOutOfRangeOverrides) {
  TempDir tmp("types");
  expect_clean_failure(run_bitnet(tiny(tmp, {"train.steps=abc"})), "expected an integer, found 'abc'");
  expect_clean_failure(run_bitnet(tiny(tmp, {"train.steps=0"})), "train.steps");
  expect_clean_failure(run_bitnet(tiny(tmp, {"model.hidden_act=gelu"})), "model.hidden_act");
  expect_clean_failure(run_bitnet(tiny(tmp, {"optim.lr"})), "override 'optim.lr'");
  expect_clean_failure(run_bitnet(tiny(tmp, {"optim.lrr=1"})), "did you mean 'optim.lr'");
}

TEST(BadInputE2E, MissingConfigAndDataFiles) {
  TempDir tmp("missing");
  expect_clean_failure(run_bitnet({"train", (tmp.path / "nope.yaml").string()}), "nope.yaml");
  expect_clean_failure(run_bitnet(tiny(tmp, {"data.paths=[/nonexistent/corpus.txt]"})),
                       "no file matches '/nonexistent/corpus.txt'");
}

TEST(BadInputE2E, EmptyCorpus) {
  TempDir tmp("empty");
  write(tmp.path / "empty.txt", "%\n\n%\n");
  expect_clean_failure(run_bitnet(tiny(tmp, {"data.paths=[" + (tmp.path / "empty.txt").string() + "]"})),
                       "no documents found");
}

TEST(BadInputE2E, DamagedCheckpointsAreRefusedAndThePreviousOneIsUsed) {
  TempDir tmp("damaged");
  RunResult r = run_bitnet(tiny(tmp, {"train.steps=10", "checkpoint.every=5"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path ckpt = tmp.path / "bad" / "ckpt";
  ASSERT_TRUE(fs::exists(ckpt / "step_00000005"));
  ASSERT_TRUE(fs::exists(ckpt / "step_00000010"));

  // Starting again without resume must not overwrite the run.
  expect_clean_failure(run_bitnet(tiny(tmp, {"train.steps=10"})), "already has checkpoints");

  // A flipped byte in the newest checkpoint: an explicit resume fails, resume=auto falls back.
  {
    std::fstream f(ckpt / "step_00000010" / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(200);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x10;
    f.seekp(200);
    f.write(&c, 1);
  }
  expect_clean_failure(run_bitnet(tiny(tmp, {"train.steps=12", "resume=" + (ckpt / "step_00000010").string()})),
                       "does not match its checksum");
  RunResult fallback = run_bitnet(tiny(tmp, {"train.steps=12", "resume=auto"}));
  EXPECT_EQ(fallback.exit_code, 0) << fallback.output;
  EXPECT_NE(fallback.output.find("skipping checkpoint"), std::string::npos) << fallback.output;
  EXPECT_NE(fallback.output.find("at step 5"), std::string::npos) << fallback.output;

  // A truncated checkpoint file.
  const fs::path optim = ckpt / "step_00000012" / "optim.safetensors";
  ASSERT_TRUE(fs::exists(optim));
  fs::resize_file(optim, fs::file_size(optim) / 2);
  expect_clean_failure(run_bitnet(tiny(tmp, {"train.steps=14", "resume=" + (ckpt / "step_00000012").string()})),
                       "optim.safetensors has");

  // Every checkpoint damaged: resume=auto refuses (naming them) instead of starting over on top.
  for (const auto& entry : fs::directory_iterator(ckpt)) {
    const std::string n = entry.path().filename().string();
    if (n.rfind("step_", 0) == 0 && !entry.is_symlink()) fs::remove(entry.path() / "manifest.json");
  }
  const std::string before = read_file(ckpt / "step_00000012" / "model.safetensors");
  RunResult all_damaged = run_bitnet(tiny(tmp, {"train.steps=14", "resume=auto"}));
  expect_clean_failure(all_damaged, "every checkpoint in");
  EXPECT_NE(all_damaged.output.find("step_00000012: no manifest.json"), std::string::npos) << all_damaged.output;
  EXPECT_NE(all_damaged.output.find("To start over on purpose"), std::string::npos) << all_damaged.output;
  EXPECT_EQ(read_file(ckpt / "step_00000012" / "model.safetensors"), before);  // untouched
  EXPECT_FALSE(fs::exists(ckpt / "step_00000014"));
}

TEST(BadInputE2E, ResumeWithAChangedModelIsRefused) {
  TempDir tmp("changed");
  ASSERT_EQ(run_bitnet(tiny(tmp, {"train.steps=4"})).exit_code, 0);
  expect_clean_failure(run_bitnet(tiny(tmp, {"train.steps=8", "model.hidden_size=128", "resume=auto"})),
                       "different config");
}

}  // namespace
}  // namespace bitnet::e2e
