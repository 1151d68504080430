// Training checkpoints (docs/training.md):
//   ckpt/step_00001200/
//     model.safetensors   fp32 latent weights, Hugging Face names
//     optim.safetensors   AdamW moments ("<param>.exp_avg", "<param>.exp_avg_sq")
//     state.json          step, tokens seen, data cursor, RNG state, config hash, threads, ...
//     config.yaml         the resolved run config (so a checkpoint alone rebuilds its model)
//     manifest.json       every other file's size and XXH64, written last
//   ckpt/latest -> step_00001200   (a symlink, replaced by rename)
// A checkpoint is written into a temporary directory, fsync'd, then renamed into place, so a
// crash leaves either the previous checkpoints or the complete new one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "data/batches.h"

namespace bitnet {

class CheckpointError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TrainState {
  int64_t step = 0;         // optimizer updates completed
  int64_t tokens_seen = 0;  // training tokens consumed, all ranks together
  data::DataCursor cursor;  // where the training stream continues
  int64_t nan_skips = 0;    // steps skipped for a non-finite loss or gradient
  std::string config_hash;  // of the config with run-control keys normalised
  int64_t threads = 0;
  int64_t world_size = 1;
  std::string torch_rng;   // hex of the global CPU generator state
  std::string device_rng;  // hex of the GPU generator's state (runs on a GPU; empty on the CPU)
};

struct CheckpointContents {
  std::string dir;
  TrainState state;
  std::map<std::string, torch::Tensor> model;  // latent weights by HF name
  std::map<std::string, torch::Tensor> optim;  // AdamW moments
  std::string config_yaml;
};

std::string checkpoint_dir_name(int64_t step);  // "step_00001200"

// Writes a checkpoint under `ckpt_root`, points `latest` at it, and removes the oldest ones
// beyond keep_last. A write that fails removes its temporary directory before the error leaves. Returns its directory.
// `extra_files` (name, contents), e.g. the BPE tokenizer.json the run trained with, are written beside the others and
// listed in the manifest, so the checkpoint is self-contained.
std::string save_checkpoint(const std::string& ckpt_root,
                            const std::vector<std::pair<std::string, torch::Tensor>>& model,
                            const std::vector<std::pair<std::string, torch::Tensor>>& optim, const TrainState& state,
                            const std::string& config_yaml, int64_t keep_last,
                            const std::vector<std::pair<std::string, std::string>>& extra_files = {});

// Removes the temporary directories (".tmp-step_*-PID", ".old-step_*-PID") that a checkpoint
// writer which is no longer running left under ckpt_root (killed, or failed before it could clean
// up); a live writer's are left alone. Returns the paths removed. save_checkpoint calls it.
std::vector<std::string> remove_stale_checkpoint_temporaries(const std::string& ckpt_root);

// "" when every required file and every other file listed in the manifest exists with its size
// and checksum; else the reason.
std::string verify_checkpoint(const std::string& dir);

// Verifies, then reads everything. Throws CheckpointError naming the directory and the problem.
CheckpointContents load_checkpoint(const std::string& dir);
// Only the resolved config.yaml text of a verified checkpoint.
std::string load_checkpoint_config(const std::string& dir);

// The newest step_* directory under ckpt_root whose manifest verifies. Each newer one that does
// not is reported in `rejected` as "dir: reason".
std::optional<std::string> find_latest_checkpoint(const std::string& ckpt_root, std::vector<std::string>* rejected);

}  // namespace bitnet
