// Tensor <-> safetensors conversion (see tensor_io.h).
#include "layers/tensor_io.h"

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "formats/safetensors.h"

namespace bitnet {
namespace {

formats::DType to_format_dtype(torch::ScalarType t, const std::string& name) {
  switch (t) {
    case torch::kDouble: return formats::DType::F64;
    case torch::kFloat: return formats::DType::F32;
    case torch::kHalf: return formats::DType::F16;
    case torch::kBFloat16: return formats::DType::BF16;
    case torch::kLong: return formats::DType::I64;
    case torch::kInt: return formats::DType::I32;
    case torch::kShort: return formats::DType::I16;
    case torch::kChar: return formats::DType::I8;
    case torch::kByte: return formats::DType::U8;
    case torch::kBool: return formats::DType::BOOL;
    default: throw std::invalid_argument("tensor '" + name + "' has a dtype safetensors cannot hold");
  }
}

torch::ScalarType to_torch_dtype(formats::DType t) {
  switch (t) {
    case formats::DType::F64: return torch::kDouble;
    case formats::DType::F32: return torch::kFloat;
    case formats::DType::F16: return torch::kHalf;
    case formats::DType::BF16: return torch::kBFloat16;
    case formats::DType::I64: return torch::kLong;
    case formats::DType::I32: return torch::kInt;
    case formats::DType::I16: return torch::kShort;
    case formats::DType::I8: return torch::kChar;
    case formats::DType::U8: return torch::kByte;
    case formats::DType::BOOL: return torch::kBool;
  }
  throw std::logic_error("unhandled dtype");
}

}  // namespace

void save_tensors(const std::string& path, const NamedTensors& tensors,
                  const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep_alive;  // contiguous CPU copies must outlive the write
  std::vector<formats::TensorToWrite> entries;
  keep_alive.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    keep_alive.push_back(tensor.detach().to(torch::kCPU).contiguous());
    const torch::Tensor& t = keep_alive.back();
    entries.push_back({name, to_format_dtype(t.scalar_type(), name), t.sizes().vec(), t.data_ptr(),
                       static_cast<size_t>(t.nbytes())});
  }
  formats::write_safetensors(path, entries, metadata);
}

std::map<std::string, torch::Tensor> load_tensors(const std::string& path) {
  formats::SafetensorsReader reader = formats::SafetensorsReader::open(path);
  std::map<std::string, torch::Tensor> out;
  for (const formats::TensorInfo& info : reader.tensors()) {
    torch::Tensor t = torch::empty(info.shape, torch::TensorOptions().dtype(to_torch_dtype(info.dtype)));
    std::memcpy(t.data_ptr(), reader.data(info), info.nbytes);
    out.emplace(info.name, std::move(t));
  }
  return out;
}

std::vector<std::string> load_parameters(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& source,
                                         bool strict) {
  torch::NoGradGuard no_grad;
  std::vector<std::string> missing, mis_shaped, copied;
  auto params = module.named_parameters();
  for (auto& item : params) {
    auto it = source.find(item.key());
    if (it == source.end()) {
      missing.push_back(item.key());
    } else if (it->second.sizes() != item.value().sizes()) {
      mis_shaped.push_back(item.key() + " (file " + c10::str(it->second.sizes()) + ", model " +
                           c10::str(item.value().sizes()) + ")");
    } else {
      copied.push_back(item.key());
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : source) {
    if (!params.contains(name)) unexpected.push_back(name);
  }
  if (!mis_shaped.empty() || (strict && (!missing.empty() || !unexpected.empty()))) {
    std::ostringstream msg;
    auto list = [&](const char* what, const std::vector<std::string>& names) {
      if (names.empty()) return;
      msg << "\n  " << what << " (" << names.size() << "):";
      for (const auto& n : names) msg << "\n    " << n;
    };
    msg << "weights do not match the model:";
    list("missing", missing);
    list("unexpected", unexpected);
    list("wrong shape", mis_shaped);
    throw std::runtime_error(msg.str());
  }
  for (const auto& name : copied) params[name].copy_(source.at(name).to(params[name].scalar_type()));
  return copied;
}

}  // namespace bitnet
