// Checkpoints: round trip, manifest verification against truncation and flipped bytes, resume
// selection skipping damaged checkpoints, keep_last pruning and the `latest` link, and no
// temporary directory left behind by a failed or killed writer.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "checkpoint/checkpoint.h"
#include "tests/support/temp_dir.h"

namespace bitnet {
namespace {

namespace fs = std::filesystem;

// The tests' scratch directory (tests/support/temp_dir.h) as a filesystem path.
class TempDir {
  bitnet::testing::TempDir dir_{"ckpt"};  // first: `path` is initialised from it

 public:
  const fs::path path{dir_.path()};
};

std::string save_step(const fs::path& root, int64_t step, int64_t keep_last = 5) {
  TrainState s;
  s.step = step;
  s.tokens_seen = step * 100;
  s.cursor = {1, step};
  s.config_hash = "abc";
  s.threads = 2;
  s.torch_rng = "00ff";
  torch::Tensor w = torch::full({2, 3}, float(step));
  return save_checkpoint(root.string(), {{"model.w", w}}, {{"model.w.exp_avg", w * 2}}, s, "name: x\n", keep_last);
}

void flip_byte(const fs::path& file, std::streamoff at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.read(&c, 1);
  c ^= 0x01;
  f.seekp(at);
  f.write(&c, 1);
}

TEST(Checkpoint, RoundTrip) {
  TempDir tmp;
  const std::string dir = save_step(tmp.path, 12);
  EXPECT_EQ(fs::path(dir).filename(), "step_00000012");
  EXPECT_EQ(verify_checkpoint(dir), "");
  CheckpointContents c = load_checkpoint(dir);
  EXPECT_EQ(c.state.step, 12);
  EXPECT_EQ(c.state.tokens_seen, 1200);
  EXPECT_EQ(c.state.cursor.epoch, 1);
  EXPECT_EQ(c.state.cursor.position, 12);
  EXPECT_EQ(c.state.torch_rng, "00ff");
  EXPECT_TRUE(torch::equal(c.model.at("model.w"), torch::full({2, 3}, 12.0f)));
  EXPECT_TRUE(torch::equal(c.optim.at("model.w.exp_avg"), torch::full({2, 3}, 24.0f)));
  EXPECT_EQ(c.config_yaml, "name: x\n");
  EXPECT_EQ(fs::read_symlink(tmp.path / "latest"), "step_00000012");
}

TEST(Checkpoint, FlippedByteIsDetected) {
  TempDir tmp;
  const std::string dir = save_step(tmp.path, 3);
  flip_byte(fs::path(dir) / "model.safetensors", 100);
  EXPECT_NE(verify_checkpoint(dir).find("model.safetensors does not match its checksum"), std::string::npos);
  try {
    load_checkpoint(dir);
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("is not usable"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, TruncatedFileIsDetected) {
  TempDir tmp;
  const std::string dir = save_step(tmp.path, 3);
  const fs::path f = fs::path(dir) / "optim.safetensors";
  fs::resize_file(f, fs::file_size(f) - 7);
  EXPECT_NE(verify_checkpoint(dir).find("optim.safetensors has"), std::string::npos) << verify_checkpoint(dir);
}

TEST(Checkpoint, MissingManifestMeansIncomplete) {
  TempDir tmp;
  const std::string dir = save_step(tmp.path, 3);
  fs::remove(fs::path(dir) / "manifest.json");
  EXPECT_NE(verify_checkpoint(dir).find("incomplete"), std::string::npos);
}

TEST(Checkpoint, LatestValidSkipsDamagedNewerOnes) {
  TempDir tmp;
  save_step(tmp.path, 10);
  const std::string newer = save_step(tmp.path, 20);
  flip_byte(fs::path(newer) / "state.json", 5);
  std::vector<std::string> rejected;
  auto found = find_latest_checkpoint(tmp.path.string(), &rejected);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(fs::path(*found).filename(), "step_00000010");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find("step_00000020"), std::string::npos);
}

TEST(Checkpoint, KeepLastPrunesOldest) {
  TempDir tmp;
  for (int64_t s : {1, 2, 3, 4}) save_step(tmp.path, s, /*keep_last=*/2);
  EXPECT_FALSE(fs::exists(tmp.path / "step_00000001"));
  EXPECT_FALSE(fs::exists(tmp.path / "step_00000002"));
  EXPECT_TRUE(fs::exists(tmp.path / "step_00000003"));
  EXPECT_TRUE(fs::exists(tmp.path / "step_00000004"));
  EXPECT_EQ(fs::read_symlink(tmp.path / "latest"), "step_00000004");
}

TEST(Checkpoint, ResavingAStepReplacesIt) {
  TempDir tmp;
  save_step(tmp.path, 7);
  const std::string dir = save_step(tmp.path, 7);
  EXPECT_EQ(verify_checkpoint(dir), "");
  for (const auto& e : fs::directory_iterator(tmp.path)) {
    EXPECT_EQ(e.path().filename().string().rfind(".tmp", 0), std::string::npos) << e.path();
  }
}

// Names of the entries of `root` that start with a dot (temporary directories, the link's temp).
std::vector<std::string> hidden_entries(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string n = e.path().filename().string();
    if (n[0] == '.') out.push_back(n);
  }
  return out;
}

TEST(Checkpoint, FailedWriteLeavesNoTemporaryDirectory) {
  TempDir tmp;
  save_step(tmp.path, 1);
  TrainState s;
  s.step = 2;
  s.torch_rng = "00";
  // An extra file in a directory that does not exist: the write fails half-way through.
  EXPECT_ANY_THROW(save_checkpoint(tmp.path.string(), {{"model.w", torch::ones({2})}}, {}, s, "name: x\n", 5,
                                   {{"no/such/dir/file.json", "{}"}}));
  EXPECT_TRUE(hidden_entries(tmp.path).empty()) << hidden_entries(tmp.path)[0];
  EXPECT_FALSE(fs::exists(tmp.path / "step_00000002"));
  EXPECT_EQ(*find_latest_checkpoint(tmp.path.string(), nullptr), (tmp.path / "step_00000001").string());
}

TEST(Checkpoint, TemporariesOfDeadWritersAreRemovedAndLiveOnesKept) {
  TempDir tmp;
  // A pid that no longer runs: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
  const fs::path dead = tmp.path / (".tmp-step_00000007-" + std::to_string(child));
  const fs::path dead_old = tmp.path / (".old-step_00000003-" + std::to_string(child));
  const fs::path live = tmp.path / (".tmp-step_00000008-" + std::to_string(::getppid()));  // our parent runs
  const fs::path unrelated = tmp.path / ".tmp-notes";
  for (const auto& d : {dead, dead_old, live, unrelated}) fs::create_directories(d);
  std::ofstream(dead / "model.safetensors") << std::string(4096, 'x');

  save_step(tmp.path, 9);  // each save sweeps first
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(dead_old));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(unrelated));
  EXPECT_TRUE(fs::exists(tmp.path / "step_00000009" / "manifest.json"));
}

}  // namespace
}  // namespace bitnet
