// Pretrained weights for init_from (see pretrained.h).
#include "trainer/pretrained.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint.h"
#include "formats/error.h"
#include "formats/json_read.h"
#include "formats/model_names.h"
#include "formats/ternary_pack.h"
#include "layers/lora.h"
#include "layers/tensor_io.h"

namespace bitnet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PretrainedError(path.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return formats::parse_json_strict(text.str(), path.string());  // bounded depth, no duplicate keys
  } catch (const formats::FormatError& e) {
    throw PretrainedError(e.what());
  }
}

int64_t positive_int(const json& j, const std::string& key, const fs::path& file,
                     std::optional<int64_t> fallback = {}) {
  if (!j.contains(key) || j[key].is_null()) {
    if (fallback) return *fallback;
    throw PretrainedError(file.string() + ": required key '" + key + "' is missing");
  }
  if (!j[key].is_number_integer() || j[key].get<int64_t>() <= 0) {
    throw PretrainedError(file.string() + ": '" + key + "' must be a positive integer, found " +
                          formats::describe_json(j[key]));
  }
  return j[key].get<int64_t>();
}

double positive_number(const json& j, const std::string& key, const fs::path& file, double fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number() || !(j[key].get<double>() > 0)) {
    throw PretrainedError(file.string() + ": '" + key + "' must be a positive number, found " +
                          formats::describe_json(j[key]));
  }
  return j[key].get<double>();
}

// A string / boolean key, or `fallback` when it is absent or null; any other type is an error.
std::string string_key(const json& j, const std::string& key, const std::string& where, const std::string& fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_string())
    throw PretrainedError(where + ": '" + key + "' must be a string, found " + formats::describe_json(j[key]));
  return j[key].get<std::string>();
}

bool bool_key(const json& j, const std::string& key, const std::string& where, bool fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean())
    throw PretrainedError(where + ": '" + key + "' must be true or false, found " + formats::describe_json(j[key]));
  return j[key].get<bool>();
}

// Weight files of an HF directory: the shards of model.safetensors.index.json, or model.safetensors.
std::vector<std::string> hf_weight_files(const fs::path& dir) {
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    json j = read_json(index);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
      throw PretrainedError(index.string() + ": expected an object with a \"weight_map\" object");
    }
    std::set<std::string> seen;
    std::vector<std::string> files;
    for (const auto& [tensor, file] : j["weight_map"].items()) {
      if (!file.is_string())
        throw PretrainedError(index.string() + ": weight_map[\"" + tensor + "\"] is not a file name");
      const std::string name = file.get<std::string>();
      // Shards live beside the index: no directories, nothing that climbs out.
      if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name == "." ||
          name == "..") {
        throw PretrainedError(index.string() + ": shard name \"" + name + "\" must be a plain file name in " +
                              dir.string());
      }
      if (seen.insert(name).second) files.push_back((dir / name).string());
    }
    if (files.empty()) throw PretrainedError(index.string() + ": weight_map is empty");
    for (const auto& f : files) {
      if (!fs::exists(f)) throw PretrainedError(index.string() + " lists shard " + f + ", which does not exist");
    }
    return files;
  }
  if (fs::exists(dir / "model.safetensors")) return {(dir / "model.safetensors").string()};
  throw PretrainedError(dir.string() + ": no model.safetensors and no model.safetensors.index.json (sharded weights)");
}

// What transformers' config class of each model type assumes for a key config.json leaves out
// (BitNetConfig, LlamaConfig, MistralConfig in transformers 5). kv_heads 0 = num_attention_heads.
struct HfDefaults {
  int64_t vocab, hidden, intermediate, layers, heads, kv_heads;
  formats::HiddenAct act;
  int64_t max_positions;
  double rms_norm_eps;
  bool tie;
  double rope_theta;
};

HfDefaults hf_defaults(const std::string& model_type) {
  if (model_type == "bitnet")
    return {128256, 2560, 6912, 30, 20, 5, formats::HiddenAct::relu2, 2048, 1e-5, false, 500000.0};
  if (model_type == "mistral")
    return {32000, 4096, 14336, 32, 32, 8, formats::HiddenAct::silu, 131072, 1e-6, false, 10000.0};
  return {32000, 4096, 11008, 32, 32, 0, formats::HiddenAct::silu, 2048, 1e-6, false, 10000.0};  // llama
}

// RoPE base: transformers 5 writes rope_parameters {rope_type, rope_theta}; older files rope_theta
// and perhaps rope_scaling. Only plain RoPE is supported.
double rope_theta_of(const json& j, const fs::path& file, double fallback) {
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    throw PretrainedError(file.string() + ": rope_scaling (" + formats::describe_json(j["rope_scaling"]) + ")" +
                          " is not supported (plain RoPE only)");
  }
  if (j.contains("rope_parameters") && !j["rope_parameters"].is_null()) {
    const json& r = j["rope_parameters"];
    if (!r.is_object())
      throw PretrainedError(file.string() + ": rope_parameters must be an object, found " + formats::describe_json(r));
    const std::string type = string_key(r, "rope_type", file.string() + ": rope_parameters", "default");
    if (type != "default") {
      throw PretrainedError(file.string() + ": rope_parameters.rope_type \"" + type +
                            "\" is not supported (plain RoPE only: \"default\")");
    }
    return positive_number(r, "rope_theta", file, positive_number(j, "rope_theta", file, fallback));
  }
  return positive_number(j, "rope_theta", file, fallback);
}

// transformers' bitnet quantization_config: how the projections are stored.
PretrainedSource::Packing packing_of(const json& j, const fs::path& file) {
  if (!j.contains("quantization_config") || j["quantization_config"].is_null()) return PretrainedSource::Packing::none;
  const json& q = j["quantization_config"];
  const std::string where = file.string() + ": quantization_config";
  if (!q.is_object() || string_key(q, "quant_method", where, "") != "bitnet") {
    throw PretrainedError(where +
                          " is not transformers' bitnet one (quant_method \"bitnet\"): other quantized "
                          "weights cannot be read");
  }
  if (bool_key(q, "use_rms_norm", where, false)) {
    throw PretrainedError(where +
                          ".use_rms_norm is true: every projection would carry its own RMSNorm, which this model "
                          "does not have");
  }
  const std::string linear = string_key(q, "linear_class", where, "bitlinear");
  const std::string mode = string_key(q, "quantization_mode", where, "offline");
  if (linear == "bitlinear") return PretrainedSource::Packing::scale_divides;  // always packed, y / scale
  if (linear != "autobitlinear") {
    throw PretrainedError(where + ".linear_class \"" + linear + "\" is not supported (bitlinear or autobitlinear)");
  }
  if (mode == "online") return PretrainedSource::Packing::none;  // master weights, quantized on the fly
  if (mode != "offline") {
    throw PretrainedError(where + ".quantization_mode \"" + mode + "\" is not supported (online or offline)");
  }
  return PretrainedSource::Packing::scale_multiplies;
}

PretrainedSource inspect_hf(const fs::path& dir) {
  const fs::path file = dir / "config.json";
  json j = read_json(file);
  if (!j.is_object()) throw PretrainedError(file.string() + ": expected a JSON object");
  PretrainedSource s;
  s.dir = dir.string();
  s.config_file = file.string();
  const std::string type = string_key(j, "model_type", file.string(), "");
  if (type == "bitnet") {
    s.kind = "bitnet";
  } else if (type == "llama" || type == "mistral") {
    s.kind = "llama";
  } else {
    throw PretrainedError(file.string() + ": model_type \"" + type +
                          "\" is not supported (bitnet, or a LLaMA-family model: llama, mistral)");
  }
  s.packing = packing_of(j, file);
  if (s.packing != PretrainedSource::Packing::none && s.kind != "bitnet") {
    throw PretrainedError(file.string() +
                          ": packed ternary weights (quantization_config) are read for model_type bitnet only");
  }
  const HfDefaults d = hf_defaults(type);
  for (const char* key : {"attention_bias", "mlp_bias"}) {
    if (bool_key(j, key, file.string(), false))
      throw PretrainedError(file.string() + ": '" + key + "' is true; BitNet projections have no biases");
  }
  const std::string act_name = string_key(j, "hidden_act", file.string(), enum_name(d.act));
  const std::optional<formats::HiddenAct> act = parse_enum<formats::HiddenAct>(act_name);
  if (!act) {
    throw PretrainedError(file.string() + ": hidden_act \"" + act_name + "\" is not supported (" +
                          enum_name_list<formats::HiddenAct>(" or ") + ")");
  }
  ModelConfig& m = s.model;
  m.hidden_size = positive_int(j, "hidden_size", file, d.hidden);
  m.intermediate_size = positive_int(j, "intermediate_size", file, d.intermediate);
  m.num_layers = positive_int(j, "num_hidden_layers", file, d.layers);
  m.num_heads = positive_int(j, "num_attention_heads", file, d.heads);
  m.num_kv_heads = positive_int(j, "num_key_value_heads", file, d.kv_heads > 0 ? d.kv_heads : m.num_heads);
  m.vocab_size = positive_int(j, "vocab_size", file, d.vocab);
  m.max_seq_len = positive_int(j, "max_position_embeddings", file, d.max_positions);
  m.rope_theta = rope_theta_of(j, file, d.rope_theta);
  m.rms_norm_eps = positive_number(j, "rms_norm_eps", file, d.rms_norm_eps);
  m.tie_embeddings = bool_key(j, "tie_word_embeddings", file.string(), d.tie);
  m.hidden_act = *act;
  if (j.contains("head_dim") && !j["head_dim"].is_null() && j["head_dim"] != m.hidden_size / m.num_heads) {
    throw PretrainedError(file.string() + ": head_dim " + formats::describe_json(j["head_dim"]) +
                          " differs from hidden_size / num_attention_heads = " +
                          std::to_string(m.hidden_size / m.num_heads) + " (not supported)");
  }
  s.weight_files = hf_weight_files(dir);
  return s;
}

PretrainedSource inspect_checkpoint(const fs::path& dir) {
  const std::string problem = verify_checkpoint(dir.string());
  if (!problem.empty()) throw PretrainedError("checkpoint " + dir.string() + " does not verify: " + problem);
  RunConfig c;
  try {
    c = parse_config(load_checkpoint_config(dir.string()), (dir / "config.yaml").string());
  } catch (const std::exception& e) {
    throw PretrainedError(std::string("cannot read the checkpoint's config: ") + e.what());
  }
  if (c.lora.rank > 0) {
    throw PretrainedError("checkpoint " + dir.string() +
                          " is a LoRA checkpoint (it holds only adapters): fold them into "
                          "its base first with `bitnet lora merge " +
                          dir.string() + " --out DIR`, then init_from DIR/latest");
  }
  PretrainedSource s;
  s.dir = dir.string();
  s.kind = "checkpoint";
  s.config_file = (dir / "config.yaml").string();
  s.model = c.model;
  s.weight_files = {(dir / "model.safetensors").string()};
  if (s.model.vocab_size == 0) {  // it was taken from the tokenizer: read it off the embedding
    auto tensors = load_tensors(s.weight_files[0]);
    auto it = tensors.find(formats::kEmbeddingTensor.hf);
    if (it == tensors.end() || it->second.dim() != 2)
      throw PretrainedError(s.weight_files[0] + ": no 2-D " + formats::kEmbeddingTensor.hf);
    s.model.vocab_size = it->second.size(0);
  }
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A BitNet sub-norm weight (model.layers.N.<sub-norm>.weight), which LLaMA-family checkpoints lack.
bool is_sub_norm(const std::string& name) {
  for (const formats::LayerNormName& n : formats::layer_norm_names()) {
    if (n.sub_norm && name.find(std::string(".") + n.hf + ".") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

bool name_matches(const std::string& pattern, const std::string& name) {
  // Iterative glob with backtracking to the last '*'.
  size_t p = 0, n = 0, star = std::string::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

PretrainedSource inspect_pretrained(const std::string& dir_text) {
  fs::path dir(dir_text);
  if (!fs::is_directory(dir)) throw PretrainedError("init_from " + dir_text + ": not a directory");
  if (fs::exists(dir / "config.json")) return inspect_hf(dir);
  if (fs::exists(dir / "manifest.json")) return inspect_checkpoint(dir);
  if (fs::exists(dir / "ckpt" / "latest")) return inspect_checkpoint(fs::canonical(dir / "ckpt" / "latest"));
  throw PretrainedError("init_from " + dir_text +
                        ": neither a Hugging Face model directory (config.json) nor a "
                        "checkpoint (manifest.json) nor a run directory (ckpt/latest)");
}

namespace {

// A model key's value for a message: a mode by its name, anything else as it is.
template <typename T>
auto shown(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    return enum_name(value);
  } else {
    return value;
  }
}

}  // namespace

RunConfig resolve_init_from(const RunConfig& config) {
  if (config.init_from.empty()) return config;
  const PretrainedSource s = inspect_pretrained(config.init_from);
  RunConfig out = config;
  const ModelConfig defaults;
  std::string problems;
  auto take = [&](const char* key, auto& mine, const auto& theirs, const auto& def) {
    if (mine != def && mine != theirs) {
      std::ostringstream m;
      m << std::boolalpha << "\n  model." << key << " is " << shown(mine) << " in the run config but " << shown(theirs)
        << " in " << s.config_file;
      problems += m.str();
    }
    mine = theirs;
  };
  ModelConfig& m = out.model;
  take("vocab_size", m.vocab_size, s.model.vocab_size, defaults.vocab_size);
  take("hidden_size", m.hidden_size, s.model.hidden_size, defaults.hidden_size);
  take("num_layers", m.num_layers, s.model.num_layers, defaults.num_layers);
  take("num_heads", m.num_heads, s.model.num_heads, defaults.num_heads);
  take("num_kv_heads", m.num_kv_heads, s.model.num_kv_heads, defaults.num_kv_heads);
  take("intermediate_size", m.intermediate_size, s.model.intermediate_size, defaults.intermediate_size);
  take("max_seq_len", m.max_seq_len, s.model.max_seq_len, defaults.max_seq_len);
  take("rope_theta", m.rope_theta, s.model.rope_theta, defaults.rope_theta);
  take("rms_norm_eps", m.rms_norm_eps, s.model.rms_norm_eps, defaults.rms_norm_eps);
  take("tie_embeddings", m.tie_embeddings, s.model.tie_embeddings, defaults.tie_embeddings);
  take("hidden_act", m.hidden_act, s.model.hidden_act, defaults.hidden_act);
  if (!problems.empty()) {
    throw ConfigError("init_from " + config.init_from +
                      ": the architecture comes from the pretrained model; remove "
                      "these model keys from the run config or make them equal:" +
                      problems);
  }
  try {
    validate_config(out);
  } catch (const ConfigError& e) {
    throw ConfigError("init_from " + config.init_from + " gives an architecture this run cannot use: " + e.what());
  }
  return out;
}

PretrainedLoad load_pretrained(BitNetLM& model, const PretrainedSource& source,
                               const std::vector<std::string>& ignore) {
  torch::NoGradGuard no_grad;
  auto ignored = [&](const std::string& name) {
    for (const auto& p : ignore) {
      if (name_matches(p, name)) return true;
    }
    return false;
  };
  std::map<std::string, torch::Tensor> params;
  for (const auto& item : model->named_parameters()) {
    if (!is_lora_tensor_name(item.key())) params.emplace(item.key(), item.value());
  }
  PretrainedLoad r;
  std::set<std::string> done;
  TensorMismatch mismatch;
  std::vector<std::string> bad_dtype, duplicated;
  // Packed projections and their scales, which may sit in different shards: joined at the end.
  const bool packed_source = source.packing != PretrainedSource::Packing::none;
  std::map<std::string, torch::Tensor> packed, scales;
  for (const std::string& file : source.weight_files) {
    std::map<std::string, torch::Tensor> tensors = load_tensors(file);
    for (auto& [name, t] : tensors) {
      if (ignored(name)) {
        r.ignored.push_back(name + " (in " + fs::path(file).filename().string() + ")");
        continue;
      }
      const std::string buffer = ".rotary_emb.inv_freq";  // older LLaMA files carry this derived buffer
      if (name.size() > buffer.size() && name.compare(name.size() - buffer.size(), buffer.size(), buffer) == 0)
        continue;
      if (packed_source && ends_with(name, ".weight_scale")) {
        scales[name.substr(0, name.size() - 6)] = t;  // keyed by the weight's name
        continue;
      }
      auto it = params.find(name);
      if (packed_source && it != params.end() && t.scalar_type() == torch::kByte) {
        if (!packed.emplace(name, t).second) duplicated.push_back(name);
        continue;
      }
      if (it == params.end()) {
        mismatch.unexpected.push_back(name);
      } else if (!done.insert(name).second) {
        duplicated.push_back(name);
      } else if (t.scalar_type() != torch::kFloat && t.scalar_type() != torch::kHalf &&
                 t.scalar_type() != torch::kBFloat16) {
        bad_dtype.push_back(name + " (" + std::string(c10::toString(t.scalar_type())) + "; expected F32, F16 or BF16)");
      } else if (t.sizes() != it->second.sizes()) {
        mismatch.wrong_shape.push_back(shape_mismatch(name, t, it->second));
      } else {
        it->second.copy_(t.to(torch::kFloat));
        ++r.loaded;
      }
    }
  }
  for (auto& [name, t] : packed) {
    torch::Tensor& p = params.at(name);
    auto scale = scales.find(name);
    if (p.dim() != 2 || t.dim() != 2 || t.size(0) * 4 != p.size(0) || t.size(1) != p.size(1)) {
      mismatch.wrong_shape.push_back(name + " (packed U8 " + c10::str(t.sizes()) +
                                     ", expected [out/4, in] for the model's " + c10::str(p.sizes()) + ")");
    } else if (scale == scales.end()) {
      continue;  // listed as missing below, with the name of the absent scale
    } else if (scale->second.numel() != 1 || !scale->second.is_floating_point()) {
      bad_dtype.push_back(name + "_scale (" + c10::str(scale->second.sizes()) + " " +
                          std::string(c10::toString(scale->second.scalar_type())) + "; expected one float)");
    } else {
      const torch::Tensor bytes = t.contiguous();
      std::vector<int8_t> codes(static_cast<size_t>(p.numel()));
      try {
        formats::unpack_hf_bitnet(bytes.data_ptr<uint8_t>(), static_cast<size_t>(bytes.numel()), p.size(0), p.size(1),
                                  codes.data());
      } catch (const formats::FormatError& e) {
        throw PretrainedError(source.dir + ": " + name + ": " + e.what());
      }
      const float s = scale->second.to(torch::kFloat).item<float>();
      const torch::Tensor trits = torch::from_blob(codes.data(), p.sizes(), torch::kInt8).to(torch::kFloat);
      // transformers' autobitlinear multiplies the output by weight_scale, bitlinear divides by it.
      p.copy_(source.packing == PretrainedSource::Packing::scale_multiplies ? trits * s : trits / s);
      done.insert(name);
      ++r.loaded;
      ++r.unpacked;
    }
  }
  for (const auto& [name, t] : scales) {
    if (!packed.count(name)) mismatch.unexpected.push_back(name + "_scale (no packed " + name + " beside it)");
  }
  for (auto& [name, p] : params) {
    if (packed.count(name) && !done.count(name)) {  // a bad shape or scale is listed already
      if (!scales.count(name)) mismatch.missing.push_back(name + "_scale (the scale of the packed " + name + ")");
      continue;
    }
    if (done.count(name)) continue;
    if (ignored(name)) {
      r.ignored.push_back(name + " (model, keeps its initialisation)");
    } else if (source.kind == "llama" && is_sub_norm(name)) {
      p.fill_(1.0);  // LLaMA has no sub-norms: identity scale, then QAT learns them
      r.initialised.push_back(name);
    } else {
      mismatch.missing.push_back(name);
    }
  }
  mismatch.other = {{"wrong dtype", bad_dtype}, {"in more than one shard", duplicated}};
  if (!mismatch.empty()) {
    throw PretrainedError(
        mismatch.message("init_from " + source.dir + ": the weights do not match the model built from " +
                         source.config_file + ":") +
        "\n  (to accept differences on purpose, list name patterns under init_from_ignore, e.g. [\"lm_head.weight\"])");
  }
  return r;
}

}  // namespace bitnet
