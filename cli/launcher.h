// `bitnet train --nproc N`: a small torchrun --standalone. Starts N copies of this executable as
// ranks 0..N-1 of one data-parallel run on loopback (RANK, LOCAL_RANK, WORLD_SIZE,
// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT=a free port), forwards their output,
// forwards SIGINT/SIGTERM to every rank, and returns the worst exit code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bitnet::cli {

struct LaunchOptions {
  int nproc = 1;
  std::vector<std::string> args;  // argv[1..] of each rank, e.g. {"train", "cfg.yaml", "train.steps=10"}
  int64_t timeout_s = 300;        // distributed.timeout_s: after one rank fails, the others get this
                                  // long (plus a margin) to notice before they are terminated
};

// Output: rank 0's stdout goes through untouched (progress lines, live status on a terminal);
// every other stream is forwarded line by line with a "[rank k] " prefix (stderr to stderr).
// Children run in their own process groups, so a terminal's Ctrl-C reaches them once, through
// the launcher. Returns worst_exit_code of the ranks' exit codes (128 + signal for a rank killed
// by a signal). Throws std::runtime_error when a process cannot be started.
int launch_local_ranks(const LaunchOptions& options);

// The most telling of the ranks' exit codes: an error (anything but 0 and the clean stop codes
// 130/143 of SIGINT/SIGTERM) wins over a clean stop, which wins over 0; among errors the
// largest (a rank killed by a signal, 128 + n, outranks one that exited with 1).
int worst_exit_code(const std::vector<int>& codes);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0 and release).
int free_loopback_port();

}  // namespace bitnet::cli
