// A checkpoint as a model to run: its resolved config, its tokenizer (the copy of tokenizer.json
// the checkpoint carries, else the config's path) and the LibTorch model with its latent weights,
// computing in fp32. Used by `bitnet eval`; LoRA checkpoints (adapters only) are refused with the
// merge command to run first.
#pragma once

#include <memory>
#include <string>

#include "data/tokenizer.h"
#include "layers/bitnet_lm.h"
#include "trainer/config.h"

namespace bitnet {

// A checkpoint directory (holding manifest.json) as given, or a run directory's ckpt/latest.
// std::runtime_error when it is neither.
std::string resolve_checkpoint_dir(const std::string& checkpoint_or_run_dir);

// The tokenizer a checkpoint was trained with: for bpe, the checkpoint's own tokenizer.json when
// it has one (so the original file may have moved), else config.tokenizer.path.
std::unique_ptr<data::Tokenizer> checkpoint_tokenizer(const std::string& checkpoint_dir, const RunConfig& config);

struct CheckpointModel {
  std::string dir;  // the checkpoint directory
  RunConfig config;
  std::shared_ptr<data::Tokenizer> tokenizer;
  BitNetLM model{nullptr};  // eval mode, fp32 compute, on the CPU
};

// Verifies and loads the checkpoint (std::runtime_error naming the directory on any failure).
CheckpointModel load_checkpoint_model(const std::string& checkpoint_or_run_dir);

}  // namespace bitnet
