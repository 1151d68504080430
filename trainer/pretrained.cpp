// Pretrained weights for init_from (see pretrained.h).
#include "trainer/pretrained.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "formats/json_read.h"
#include "layers/tensor_io.h"
#include "trainer/checkpoint.h"

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

int64_t positive_int(const json& j, const std::string& key, const fs::path& file, std::optional<int64_t> fallback = {}) {
  if (!j.contains(key) || j[key].is_null()) {
    if (fallback) return *fallback;
    throw PretrainedError(file.string() + ": required key '" + key + "' is missing");
  }
  if (!j[key].is_number_integer() || j[key].get<int64_t>() <= 0) {
    throw PretrainedError(file.string() + ": '" + key + "' must be a positive integer, found " + formats::describe_json(j[key]));
  }
  return j[key].get<int64_t>();
}

double positive_number(const json& j, const std::string& key, const fs::path& file, double fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number() || !(j[key].get<double>() > 0)) {
    throw PretrainedError(file.string() + ": '" + key + "' must be a positive number, found " + formats::describe_json(j[key]));
  }
  return j[key].get<double>();
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
      if (!file.is_string()) throw PretrainedError(index.string() + ": weight_map[\"" + tensor + "\"] is not a file name");
      const std::string name = file.get<std::string>();
      // Shards live beside the index: no directories, nothing that climbs out.
      if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos || name == "." || name == "..") {
        throw PretrainedError(index.string() + ": shard name \"" + name + "\" must be a plain file name in " + dir.string());
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

PretrainedSource inspect_hf(const fs::path& dir) {
  const fs::path file = dir / "config.json";
  json j = read_json(file);
  if (!j.is_object()) throw PretrainedError(file.string() + ": expected a JSON object");
  PretrainedSource s;
  s.dir = dir.string();
  s.config_file = file.string();
  const std::string type = j.value("model_type", std::string());
  if (type == "bitnet") {
    s.kind = "bitnet";
  } else if (type == "llama" || type == "mistral") {
    s.kind = "llama";
  } else {
    throw PretrainedError(file.string() + ": model_type \"" + type +
                          "\" is not supported (bitnet, or a LLaMA-family model: llama, mistral)");
  }
  if (j.contains("quantization_config") && !j["quantization_config"].is_null()) {
    throw PretrainedError(file.string() + ": has a quantization_config: these are packed ternary weights, which cannot "
                          "be trained. Start from the full-precision master weights (e.g. microsoft/bitnet-b1.58-2B-4T-bf16)");
  }
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    throw PretrainedError(file.string() + ": rope_scaling (" + formats::describe_json(j["rope_scaling"]) + ")" +
                          " is not supported (plain RoPE only)");
  }
  for (const char* key : {"attention_bias", "mlp_bias"}) {
    if (j.value(key, false)) throw PretrainedError(file.string() + ": '" + key + "' is true; BitNet projections have no biases");
  }
  const std::string act = j.value("hidden_act", s.kind == "bitnet" ? std::string("relu2") : std::string("silu"));
  if (act != "relu2" && act != "silu") {
    throw PretrainedError(file.string() + ": hidden_act \"" + act + "\" is not supported (relu2 or silu)");
  }
  ModelConfig& m = s.model;
  m.hidden_size = positive_int(j, "hidden_size", file);
  m.intermediate_size = positive_int(j, "intermediate_size", file);
  m.num_layers = positive_int(j, "num_hidden_layers", file);
  m.num_heads = positive_int(j, "num_attention_heads", file);
  m.num_kv_heads = positive_int(j, "num_key_value_heads", file, m.num_heads);
  m.vocab_size = positive_int(j, "vocab_size", file);
  m.max_seq_len = positive_int(j, "max_position_embeddings", file, int64_t{2048});
  m.rope_theta = positive_number(j, "rope_theta", file, 10000.0);
  m.rms_norm_eps = positive_number(j, "rms_norm_eps", file, 1e-6);
  m.tie_embeddings = j.value("tie_word_embeddings", s.kind == "bitnet");
  m.hidden_act = act;
  if (j.contains("head_dim") && !j["head_dim"].is_null() && j["head_dim"] != m.hidden_size / m.num_heads) {
    throw PretrainedError(file.string() + ": head_dim " + formats::describe_json(j["head_dim"]) + " differs from hidden_size / num_attention_heads = " +
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
    throw PretrainedError("checkpoint " + dir.string() + " is a LoRA checkpoint (it holds only adapters): fold them into "
                          "its base first with `bitnet lora merge " + dir.string() + " --out DIR`, then init_from DIR/latest");
  }
  PretrainedSource s;
  s.dir = dir.string();
  s.kind = "checkpoint";
  s.config_file = (dir / "config.yaml").string();
  s.model = c.model;
  s.weight_files = {(dir / "model.safetensors").string()};
  if (s.model.vocab_size == 0) {  // it was taken from the tokenizer: read it off the embedding
    auto tensors = load_tensors(s.weight_files[0]);
    auto it = tensors.find("model.embed_tokens.weight");
    if (it == tensors.end() || it->second.dim() != 2) throw PretrainedError(s.weight_files[0] + ": no 2-D model.embed_tokens.weight");
    s.model.vocab_size = it->second.size(0);
  }
  return s;
}

bool is_sub_norm(const std::string& name) {
  return name.find(".attn_sub_norm.") != std::string::npos || name.find(".ffn_sub_norm.") != std::string::npos;
}

bool is_adapter(const std::string& name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos;
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
  throw PretrainedError("init_from " + dir_text + ": neither a Hugging Face model directory (config.json) nor a "
                        "checkpoint (manifest.json) nor a run directory (ckpt/latest)");
}

RunConfig resolve_init_from(const RunConfig& config) {
  if (config.init_from.empty()) return config;
  const PretrainedSource s = inspect_pretrained(config.init_from);
  RunConfig out = config;
  const ModelConfig defaults;
  std::string problems;
  auto take = [&](const char* key, auto& mine, const auto& theirs, const auto& def) {
    if (mine != def && mine != theirs) {
      std::ostringstream m;
      m << std::boolalpha << "\n  model." << key << " is " << mine << " in the run config but " << theirs << " in " << s.config_file;
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
    throw ConfigError("init_from " + config.init_from + ": the architecture comes from the pretrained model; remove "
                      "these model keys from the run config or make them equal:" + problems);
  }
  try {
    validate_config(out);
  } catch (const ConfigError& e) {
    throw ConfigError("init_from " + config.init_from + " gives an architecture this run cannot use: " + e.what());
  }
  return out;
}

PretrainedLoad load_pretrained(BitNetLM& model, const PretrainedSource& source, const std::vector<std::string>& ignore) {
  torch::NoGradGuard no_grad;
  auto ignored = [&](const std::string& name) {
    for (const auto& p : ignore) {
      if (name_matches(p, name)) return true;
    }
    return false;
  };
  std::map<std::string, torch::Tensor> params;
  for (const auto& item : model->named_parameters()) {
    if (!is_adapter(item.key())) params.emplace(item.key(), item.value());
  }
  PretrainedLoad r;
  std::set<std::string> done;
  std::vector<std::string> unexpected, mis_shaped, bad_dtype, duplicated;
  for (const std::string& file : source.weight_files) {
    std::map<std::string, torch::Tensor> tensors = load_tensors(file);
    for (auto& [name, t] : tensors) {
      if (ignored(name)) {
        r.ignored.push_back(name + " (in " + fs::path(file).filename().string() + ")");
        continue;
      }
      const std::string buffer = ".rotary_emb.inv_freq";  // older LLaMA files carry this derived buffer
      if (name.size() > buffer.size() && name.compare(name.size() - buffer.size(), buffer.size(), buffer) == 0) continue;
      auto it = params.find(name);
      if (it == params.end()) {
        unexpected.push_back(name);
      } else if (!done.insert(name).second) {
        duplicated.push_back(name);
      } else if (t.scalar_type() != torch::kFloat && t.scalar_type() != torch::kHalf && t.scalar_type() != torch::kBFloat16) {
        bad_dtype.push_back(name + " (" + std::string(c10::toString(t.scalar_type())) + "; expected F32, F16 or BF16)");
      } else if (t.sizes() != it->second.sizes()) {
        mis_shaped.push_back(name + " (file " + c10::str(t.sizes()) + ", model " + c10::str(it->second.sizes()) + ")");
      } else {
        it->second.copy_(t.to(torch::kFloat));
        ++r.loaded;
      }
    }
  }
  std::vector<std::string> missing;
  for (auto& [name, p] : params) {
    if (done.count(name)) continue;
    if (ignored(name)) {
      r.ignored.push_back(name + " (model, keeps its initialisation)");
    } else if (source.kind == "llama" && is_sub_norm(name)) {
      p.fill_(1.0);  // LLaMA has no sub-norms: identity scale, then QAT learns them
      r.initialised.push_back(name);
    } else {
      missing.push_back(name);
    }
  }
  if (!missing.empty() || !unexpected.empty() || !mis_shaped.empty() || !bad_dtype.empty() || !duplicated.empty()) {
    std::ostringstream msg;
    msg << "init_from " << source.dir << ": the weights do not match the model built from " << source.config_file << ":";
    auto list = [&](const char* what, const std::vector<std::string>& names) {
      if (names.empty()) return;
      msg << "\n  " << what << " (" << names.size() << "):";
      for (const auto& n : names) msg << "\n    " << n;
    };
    list("missing", missing);
    list("unexpected", unexpected);
    list("wrong shape", mis_shaped);
    list("wrong dtype", bad_dtype);
    list("in more than one shard", duplicated);
    msg << "\n  (to accept differences on purpose, list name patterns under init_from_ignore, e.g. [\"lm_head.weight\"])";
    throw PretrainedError(msg.str());
  }
  return r;
}

}  // namespace bitnet
