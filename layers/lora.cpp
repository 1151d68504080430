// LoRA on a BitNetLM and PEFT's adapter files (see lora.h).
#include "layers/lora.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "formats/atomic_file.h"
#include "formats/json_read.h"
#include "formats/model_names.h"

namespace bitnet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kPeftPrefix = "base_model.model.";

std::string last_component(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

}  // namespace

bool is_lora_tensor_name(const std::string& name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos;
}

double lora_scale(const LoraSpec& spec) {
  return spec.use_rslora ? spec.alpha / std::sqrt(double(spec.rank)) : spec.alpha / double(spec.rank);
}

bool lora_targets(const LoraSpec& spec, const std::string& linear_name) {
  const std::string leaf = last_component(linear_name);
  for (const std::string& t : spec.target_modules) {
    if (t == "all-linear" || t == leaf) return true;
  }
  return false;
}

int64_t apply_lora(BitNetLM& model, const LoraSpec& spec, uint64_t seed) {
  if (spec.rank <= 0) throw LoraError("LoRA rank must be positive, got " + std::to_string(spec.rank));
  for (const std::string& t : spec.target_modules) {
    if (t != "all-linear" && formats::find_projection(t) == nullptr) {
      throw LoraError("unknown LoRA target module '" + t + "' (choose from " + formats::projection_module_list() +
                      ", or all-linear)");
    }
  }
  if (!lora_linears(model).empty()) throw LoraError("the model already has LoRA adapters");
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  const LoRAOptions adapter{.rank = spec.rank, .scale = lora_scale(spec), .dropout = spec.dropout};
  auto generator = at::detail::createCPUGenerator(seed);
  int64_t adapted = 0;
  for (auto& [name, linear] : model->bit_linears()) {
    if (!lora_targets(spec, name)) continue;
    model->replace_projection(name, std::make_shared<LoRALinearImpl>(*linear, adapter, generator));
    ++adapted;
  }
  if (adapted == 0) throw LoraError("no projection of the model matches lora.target_modules");
  return adapted;
}

std::vector<std::pair<std::string, LoRALinear>> lora_linears(BitNetLM& model) {
  std::vector<std::pair<std::string, LoRALinear>> out;
  for (auto& [name, linear] : model->bit_linears()) {
    if (auto lora = std::dynamic_pointer_cast<LoRALinearImpl>(linear.ptr())) out.emplace_back(name, LoRALinear(lora));
  }
  return out;
}

NamedTensors lora_parameters(BitNetLM& model) {
  NamedTensors out;
  for (auto& [name, lora] : lora_linears(model)) {
    for (const auto& [param, t] : lora->adapter_params()) out.emplace_back(name + "." + param, t);
  }
  return out;
}

NamedTensors base_parameters(BitNetLM& model) {
  NamedTensors out;
  for (const auto& item : model->named_parameters()) {
    if (!is_lora_tensor_name(item.key())) out.emplace_back(item.key(), item.value());
  }
  return out;
}

void load_lora_parameters(BitNetLM& model, const std::map<std::string, torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  NamedTensors params = lora_parameters(model);
  const TensorMismatch mismatch = compare_tensors(params, tensors);
  if (!mismatch.empty()) {
    throw LoraError(mismatch.message(
        "adapter tensors do not match the model's LoRA layers (check lora.rank and lora.target_modules):"));
  }
  for (auto& [name, p] : params) p.copy_(tensors.at(name).to(p.scalar_type()));
}

std::map<std::string, torch::Tensor> merged_base_weights(BitNetLM& model) {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, p] : base_parameters(model)) out[name] = p.detach().to(torch::kFloat).clone();
  for (auto& [name, linear] : model->bit_linears()) out[name + ".weight"] = linear->merged_weight();
  return out;
}

void save_peft_adapter(const std::string& dir, BitNetLM& model, const LoraSpec& spec, const std::string& base_model) {
  fs::create_directories(dir);
  NamedTensors tensors;
  for (const auto& [name, t] : lora_parameters(model)) tensors.emplace_back(kPeftPrefix + name, t.to(torch::kFloat));
  save_tensors((fs::path(dir) / "adapter_model.safetensors").string(), tensors, {{"format", "pt"}});
  json targets = spec.target_modules.size() == 1 && spec.target_modules[0] == "all-linear" ? json("all-linear")
                                                                                           : json(spec.target_modules);
  json config = {{"peft_type", "LORA"},
                 {"task_type", "CAUSAL_LM"},
                 {"r", spec.rank},
                 {"lora_alpha", spec.alpha},
                 {"lora_dropout", spec.dropout},
                 {"target_modules", targets},
                 {"use_rslora", spec.use_rslora},
                 {"bias", "none"},
                 {"fan_in_fan_out", false},
                 {"init_lora_weights", true},
                 {"inference_mode", true},
                 {"modules_to_save", nullptr},
                 {"rank_pattern", json::object()},
                 {"alpha_pattern", json::object()},
                 {"base_model_name_or_path", base_model}};
  formats::write_file_atomic((fs::path(dir) / "adapter_config.json").string(), config.dump(2) + "\n");
}

PeftAdapter read_peft_adapter(const std::string& dir) {
  const std::string config_path = (fs::path(dir) / "adapter_config.json").string();
  const std::string weights_path = (fs::path(dir) / "adapter_model.safetensors").string();
  std::ifstream in(config_path, std::ios::binary);
  if (!in)
    throw LoraError(config_path +
                    ": cannot open (a PEFT adapter directory holds adapter_config.json and adapter_model.safetensors)");
  std::ostringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = formats::parse_json_strict(text.str(), config_path);  // bounded depth, no duplicate keys
  } catch (const formats::FormatError& e) {
    throw LoraError(e.what());
  }
  auto fail = [&](const std::string& what) { throw LoraError(config_path + ": " + what); };
  if (!j.is_object()) fail("expected a JSON object");
  if (j.value("peft_type", std::string()) != "LORA") fail("peft_type must be \"LORA\"");
  if (j.contains("bias") && j["bias"] != "none")
    fail("bias (" + formats::describe_json(j["bias"]) + ") is not supported (only \"none\")");
  for (const char* key : {"rank_pattern", "alpha_pattern"}) {
    if (j.contains(key) && !j[key].is_null() && !j[key].empty())
      fail(std::string(key) + " is not supported (one rank and alpha for every layer)");
  }
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null() && !j["modules_to_save"].empty()) {
    fail("modules_to_save is not supported (only LoRA adapters)");
  }
  // PEFT options that change what an adapter computes or which layers it sits on; ours has none
  // of them, and ignoring one would load a different adapter silently. (Options that only choose
  // the initialisation, such as init_lora_weights or loftq_config, do not matter once trained.)
  static const std::vector<std::pair<const char*, const char*>> kUnsupported = {
      {"use_dora", "weight-decomposed LoRA"},
      {"lora_bias", "a bias on lora_B"},
      {"fan_in_fan_out", "transposed (Conv1D) weights"},
      {"layers_to_transform", "adapters on some layers only"},
      {"layers_pattern", "adapters on some layers only"},
      {"exclude_modules", "excluded modules"},
      {"layer_replication", "replicated layers"},
      {"trainable_token_indices", "trainable embedding rows"},
      {"target_parameters", "adapters on parameters"},
      {"use_qalora", "QALoRA pooling"},
      {"alora_invocation_tokens", "activated LoRA"},
      {"megatron_config", "Megatron layers"},
      {"use_bdlora", "block-diagonal LoRA"},
      {"arrow_config", "Arrow routing"}};
  for (const auto& [key, what] : kUnsupported) {
    if (!j.contains(key)) continue;
    const json& v = j[key];
    const bool set =
        !v.is_null() && !(v.is_boolean() && !v.get<bool>()) && !((v.is_object() || v.is_array()) && v.empty());
    if (set) fail(std::string(key) + " (" + formats::describe_json(v) + ": " + what + ") is not supported by our LoRA");
  }
  if (j.contains("target_modules") && j["target_modules"].is_string() && j["target_modules"] != "all-linear") {
    fail("target_modules " + formats::describe_json(j["target_modules"]) +
         " is a regular expression to PEFT; list the module names (e.g. [\"q_proj\", \"v_proj\"]) or use "
         "\"all-linear\"");
  }
  PeftAdapter a;
  try {
    a.spec.rank = j.at("r").get<int64_t>();
    a.spec.alpha = j.at("lora_alpha").get<double>();
    a.spec.dropout = j.value("lora_dropout", 0.0);
    a.spec.use_rslora = j.value("use_rslora", false);
    const json& t = j.at("target_modules");
    a.spec.target_modules =
        t.is_string() ? std::vector<std::string>{t.get<std::string>()} : t.get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    fail(std::string("missing or mistyped key: ") + e.what());
  }
  if (a.spec.rank <= 0 || a.spec.rank > 65536) fail("r must be in [1, 65536], found " + std::to_string(a.spec.rank));
  for (auto& [name, t] : load_tensors(weights_path)) {
    if (name.compare(0, kPeftPrefix.size(), kPeftPrefix) != 0) {
      throw LoraError(weights_path + ": tensor '" + name + "' does not start with '" + kPeftPrefix +
                      "' (PEFT's key prefix)");
    }
    std::string ours = name.substr(kPeftPrefix.size());
    // PEFT keeps the adapter name in memory ("lora_A.default.weight") but not in saved files; accept both.
    for (const char* ab : {".lora_A.default.", ".lora_B.default."}) {
      const size_t at = ours.find(ab);
      if (at != std::string::npos) ours.replace(at, std::string(ab).size(), std::string(ab).substr(0, 8));
    }
    a.tensors[ours] = t.to(torch::kFloat);
  }
  return a;
}

}  // namespace bitnet
