// `bitnet lora merge`: fold a LoRA run's adapters into its base's latent weights
// (W' = W + scale · B·A), re-quantize, and measure how far the merged ternary model drifts from
// base + adapter on the run's held-out text. The merged model is written as an ordinary
// checkpoint (LoRA off, init_from cleared: self-contained), which `bitnet export` packs.
#pragma once

#include <cstdint>
#include <string>

namespace bitnet {

struct MergeReport {
  std::string checkpoint_dir;  // the LoRA checkpoint read
  std::string merged_dir;      // the merged checkpoint written (OUT/step_N; OUT/latest points at it)
  int64_t adapted_layers = 0;
  int64_t eval_tokens = 0;      // held-out target tokens measured
  double max_abs_prequant = 0;  // max |logits| difference, quantization off: merged vs base + adapter (exactness)
  double kl = 0;                // mean per-token KL(base + adapter ‖ merged ternary), nats
  double loss_base = 0;         // held-out cross-entropy: base alone (before fine-tuning)
  double loss_adapter = 0;      // base + adapter (what training optimised)
  double loss_merged = 0;       // merged ternary model (what an export computes)
  double codes_changed = 0;     // fraction of ternary codes of adapted projections that the merge changed
};

// `source` is a checkpoint directory or a run directory (its ckpt/latest). Throws with a message
// naming the problem (not a LoRA checkpoint, base missing, no held-out data, ...).
MergeReport merge_lora(const std::string& source, const std::string& out_root, int64_t eval_batches);

}  // namespace bitnet
