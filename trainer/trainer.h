// The training loop of `bitnet train` (docs/training.md).
#pragma once

#include <cstdio>
#include <string>

#include "trainer/communicator.h"
#include "trainer/config.h"

namespace bitnet {

// Exit codes: 0 done (or stopped at train.stop_after), 1 failure (message printed),
// 128 + signal when stopped by SIGINT/SIGTERM after checkpointing.
int run_training(const RunConfig& config, const std::string& config_path, const std::string& overrides_text,
                 Communicator& comm, std::FILE* out);

}  // namespace bitnet
