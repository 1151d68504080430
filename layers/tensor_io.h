// LibTorch tensors <-> safetensors files (formats/safetensors.h). Used for checkpoints, exports
// and pretrained imports. Tensors are written contiguous, on the CPU, in their own dtype.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace bitnet {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

void save_tensors(const std::string& path, const NamedTensors& tensors,
                  const std::map<std::string, std::string>& metadata = {});

// Every tensor of the file, copied into LibTorch tensors of the matching dtype.
// Throws formats::FormatError for a bad file (see formats/safetensors.h).
std::map<std::string, torch::Tensor> load_tensors(const std::string& path);

// Tensors that do not match a model, every name listed, for one error message. Loading a
// checkpoint, a pretrained model and a LoRA adapter all report this way.
struct TensorMismatch {
  std::vector<std::string> missing, unexpected, wrong_shape;
  // More kinds a reader checks (e.g. {"wrong dtype", names}), listed after the three above.
  std::vector<std::pair<std::string, std::vector<std::string>>> other;
  bool empty() const;
  // `headline`, then each non-empty list as "\n  missing (2):\n    name\n    name".
  std::string message(const std::string& headline) const;
};

// "name (file [2, 3], model [3, 3])", the wrong-shape entry of a TensorMismatch.
std::string shape_mismatch(const std::string& name, const torch::Tensor& file, const torch::Tensor& model);

// The names of `expected` (a model's) that `found` lacks or holds with another shape, and the
// names of `found` that `expected` does not have.
TensorMismatch compare_tensors(const NamedTensors& expected, const std::map<std::string, torch::Tensor>& found);

// Copies `source` into the module's parameters by name (shapes must match). Lists every
// missing, unexpected and mis-shaped name in one error unless `strict` is false, in which case
// only the names both sides have are copied. Returns the names copied.
std::vector<std::string> load_parameters(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& source,
                                         bool strict = true);

}  // namespace bitnet
