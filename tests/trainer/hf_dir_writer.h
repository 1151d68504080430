// Test helper: writes a BitNetLM's weights as a Hugging Face model directory (config.json +
// model.safetensors, or shards + model.safetensors.index.json), as BitNet or as LLaMA (sub-norm
// tensors left out), in F32, F16 or BF16.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "layers/bitnet_lm.h"
#include "layers/tensor_io.h"

namespace bitnet::testing {

struct HfWriteOptions {
  bool llama = false;  // model_type llama, hidden_act silu, no sub-norms
  torch::Dtype dtype = torch::kFloat;
  int shards = 1;
};

inline void write_hf_dir(BitNetLM& model, const std::string& dir, const HfWriteOptions& w) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const BitNetOptions& o = model->options();
  nlohmann::json config = {{"model_type", w.llama ? "llama" : "bitnet"},
                           {"hidden_act", w.llama ? "silu" : "relu2"},
                           {"hidden_size", o.hidden_size},
                           {"intermediate_size", o.intermediate_size},
                           {"num_hidden_layers", o.num_layers},
                           {"num_attention_heads", o.num_heads},
                           {"num_key_value_heads", o.num_kv_heads},
                           {"vocab_size", o.vocab_size},
                           {"max_position_embeddings", o.max_seq_len},
                           {"rope_theta", o.rope_theta},
                           {"rms_norm_eps", o.rms_norm_eps},
                           {"tie_word_embeddings", o.tie_embeddings}};
  std::ofstream(fs::path(dir) / "config.json") << config.dump(2);
  NamedTensors tensors;
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    if (w.llama && (name.find("sub_norm") != std::string::npos)) continue;
    tensors.emplace_back(name, item.value().detach().to(w.dtype));
  }
  if (w.shards <= 1) {
    save_tensors((fs::path(dir) / "model.safetensors").string(), tensors);
    return;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  const size_t per = (tensors.size() + w.shards - 1) / w.shards;
  for (int s = 0; s < w.shards; ++s) {
    char file[64];
    std::snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", s + 1, w.shards);
    NamedTensors part;
    for (size_t i = s * per; i < std::min(tensors.size(), (s + 1) * per); ++i) {
      part.push_back(tensors[i]);
      weight_map[tensors[i].first] = file;
    }
    save_tensors((fs::path(dir) / file).string(), part);
  }
  std::ofstream(fs::path(dir) / "model.safetensors.index.json") << nlohmann::json{{"weight_map", weight_map}}.dump(2);
}

}  // namespace bitnet::testing
