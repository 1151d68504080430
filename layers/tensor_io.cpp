// Tensor <-> safetensors conversion (see tensor_io.h).
#include "layers/tensor_io.h"

#include <cstring>
#include <set>
#include <sstream>
#include <stdexcept>

#include "formats/safetensors.h"

namespace bitnet {
namespace {

formats::DType to_format_dtype(torch::ScalarType t, const std::string& name) {
  switch (t) {
    case torch::kDouble:
      return formats::DType::F64;
    case torch::kFloat:
      return formats::DType::F32;
    case torch::kHalf:
      return formats::DType::F16;
    case torch::kBFloat16:
      return formats::DType::BF16;
    case torch::kLong:
      return formats::DType::I64;
    case torch::kInt:
      return formats::DType::I32;
    case torch::kShort:
      return formats::DType::I16;
    case torch::kChar:
      return formats::DType::I8;
    case torch::kByte:
      return formats::DType::U8;
    case torch::kBool:
      return formats::DType::BOOL;
    default:
      throw std::invalid_argument("tensor '" + name + "' has a dtype safetensors cannot hold");
  }
}

torch::ScalarType to_torch_dtype(formats::DType t) {
  switch (t) {
    case formats::DType::F64:
      return torch::kDouble;
    case formats::DType::F32:
      return torch::kFloat;
    case formats::DType::F16:
      return torch::kHalf;
    case formats::DType::BF16:
      return torch::kBFloat16;
    case formats::DType::I64:
      return torch::kLong;
    case formats::DType::I32:
      return torch::kInt;
    case formats::DType::I16:
      return torch::kShort;
    case formats::DType::I8:
      return torch::kChar;
    case formats::DType::U8:
      return torch::kByte;
    case formats::DType::BOOL:
      return torch::kBool;
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
    entries.push_back(
        {name, to_format_dtype(t.scalar_type(), name), t.sizes().vec(), t.data_ptr(), static_cast<size_t>(t.nbytes())});
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

bool TensorMismatch::empty() const {
  if (!missing.empty() || !unexpected.empty() || !wrong_shape.empty()) return false;
  for (const auto& [kind, names] : other) {
    if (!names.empty()) return false;
  }
  return true;
}

std::string TensorMismatch::message(const std::string& headline) const {
  std::ostringstream msg;
  msg << headline;
  auto list = [&](const std::string& what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    msg << "\n  " << what << " (" << names.size() << "):";
    for (const auto& n : names) msg << "\n    " << n;
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("wrong shape", wrong_shape);
  for (const auto& [kind, names] : other) list(kind, names);
  return msg.str();
}

std::string shape_mismatch(const std::string& name, const torch::Tensor& file, const torch::Tensor& model) {
  return name + " (file " + c10::str(file.sizes()) + ", model " + c10::str(model.sizes()) + ")";
}

TensorMismatch compare_tensors(const NamedTensors& expected, const std::map<std::string, torch::Tensor>& found) {
  TensorMismatch m;
  std::set<std::string> names;
  for (const auto& [name, t] : expected) {
    names.insert(name);
    auto it = found.find(name);
    if (it == found.end()) {
      m.missing.push_back(name);
    } else if (it->second.sizes() != t.sizes()) {
      m.wrong_shape.push_back(shape_mismatch(name, it->second, t));
    }
  }
  for (const auto& [name, t] : found) {
    if (!names.count(name)) m.unexpected.push_back(name);
  }
  return m;
}

std::vector<std::string> load_parameters(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& source,
                                         bool strict) {
  torch::NoGradGuard no_grad;
  NamedTensors params;
  for (auto& item : module.named_parameters()) params.emplace_back(item.key(), item.value());
  TensorMismatch mismatch = compare_tensors(params, source);
  if (!strict) {  // only shapes must agree
    mismatch.missing.clear();
    mismatch.unexpected.clear();
  }
  if (!mismatch.empty()) throw std::runtime_error(mismatch.message("weights do not match the model:"));
  std::vector<std::string> copied;
  for (auto& [name, p] : params) {
    auto it = source.find(name);
    if (it == source.end()) continue;  // not strict: keeps its value
    p.copy_(it->second.to(p.scalar_type()));
    copied.push_back(name);
  }
  return copied;
}

}  // namespace bitnet
