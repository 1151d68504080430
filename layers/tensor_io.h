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

// Copies `source` into the module's parameters by name (shapes must match). Lists every
// missing, unexpected and mis-shaped name in one error unless `strict` is false, in which case
// only the names both sides have are copied. Returns the names copied.
std::vector<std::string> load_parameters(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& source,
                                         bool strict = true);

}  // namespace bitnet
