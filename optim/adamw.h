// AdamW over named parameters, with the update of torch.optim.AdamW (decoupled weight decay,
// bias-corrected moments; fp32 CPU parameters through its fused kernel), written out so that its state is ours to
// checkpoint as safetensors and the learning rate and weight decay can follow a schedule step by step.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace bitnet {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
};

// Decay applies to the 2-D projection weights only (names ending in "_proj.weight"); never to
// norms, the embedding or the LM head.
bool applies_weight_decay(const std::string& parameter_name);

class AdamW {
 public:
  AdamW(std::vector<std::pair<std::string, torch::Tensor>> parameters, AdamWOptions options);

  // One update of every parameter that has a gradient, with this step's LR and weight decay.
  void step(double lr, double weight_decay);
  void zero_grad();

  int64_t step_count() const { return step_count_; }
  // "<param name>.exp_avg" and "<param name>.exp_avg_sq" for every parameter with state.
  std::vector<std::pair<std::string, torch::Tensor>> state_tensors() const;
  // Restores what state_tensors() returned; throws naming a missing or mis-shaped tensor.
  void load_state(const std::map<std::string, torch::Tensor>& tensors, int64_t step_count);

 private:
  struct Slot {
    std::string name;
    torch::Tensor param, exp_avg, exp_avg_sq;
    bool decay;
  };
  // The update with PyTorch's fused CPU kernel; false (nothing changed) where it does not apply.
  bool step_fused(double lr, double weight_decay);

  std::vector<Slot> slots_;
  AdamWOptions options_;
  int64_t step_count_ = 0;
  torch::Tensor step_tensor_ = torch::zeros({}, torch::kFloat);  // step_count_, as the fused kernel reads it
};

}  // namespace bitnet
