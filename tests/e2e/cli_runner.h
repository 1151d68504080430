// Helpers for end-to-end tests: run the `bitnet` binary (capturing its output and exit code, or
// in the background to signal it), make temporary run directories, read metrics.jsonl.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace bitnet::e2e {

struct RunResult {
  int exit_code = -1;  // the process's exit status, or 128 + signal when a signal killed it
  std::string output;  // stdout and stderr together
};

// Runs BITNET_BINARY with args (no shell: each element is one argument).
RunResult run_bitnet(const std::vector<std::string>& args);
// Runs any program (a path) the same way.
RunResult run_program(const std::string& program, const std::vector<std::string>& args);

// Starts BITNET_BINARY in the background with output to `log_path`; returns its pid.
pid_t start_bitnet(const std::vector<std::string>& args, const std::string& log_path);
// Waits for a pid started by start_bitnet; returns exit code as in RunResult.
int wait_bitnet(pid_t pid);

// A fresh directory under the system temp dir, removed at destruction.
// The tests' scratch directory (tests/support/temp_dir.h) as a filesystem path.
class TempDir {
  bitnet::testing::TempDir dir_;  // first: `path` is initialised from it

 public:
  explicit TempDir(const std::string& tag) : dir_(tag), path(dir_.path()) {}
  const std::filesystem::path path;
};

// The per-step training losses of a run's metrics.jsonl, in file order, as printed (full
// precision JSON doubles).
std::vector<double> train_losses(const std::filesystem::path& run_dir);
// The "step" of the last training record in metrics.jsonl (0 when none).
int64_t last_logged_step(const std::filesystem::path& run_dir);
std::string read_file(const std::filesystem::path& path);
// `args` followed by `more`.
std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more);
// XXH64 of a run's final weights, as its latest checkpoint's manifest records it.
std::string weights_checksum(const std::filesystem::path& run_dir);
// GoogleTest expectations that two runs logged `steps` identical losses and ended with identical
// weights (a resumed run against the uninterrupted one).
void expect_same_training(const std::filesystem::path& run_a, const std::filesystem::path& run_b, size_t steps);

// Overrides for a tiny, fast, deterministic model on the fortunes corpus, writing its run under
// `log_dir` with the given name.
std::vector<std::string> tiny_run_args(const std::filesystem::path& log_dir, const std::string& name);

}  // namespace bitnet::e2e
