// The name tables of model_names.h.
#include "formats/model_names.h"

namespace bitnet::formats {

const char* projection_input_name(ProjectionInput input) {
  switch (input) {
    case ProjectionInput::attn_qkv:
      return "attn_qkv";
    case ProjectionInput::attn_out:
      return "attn_out";
    case ProjectionInput::ffn_gate_up:
      return "ffn_gate_up";
    case ProjectionInput::ffn_down:
      return "ffn_down";
  }
  return "unknown";
}

const std::vector<ProjectionName>& projection_names() {
  static const std::vector<ProjectionName> names = {
      {"q_proj", "self_attn.q_proj", "attn_q", ProjectionInput::attn_qkv},
      {"k_proj", "self_attn.k_proj", "attn_k", ProjectionInput::attn_qkv},
      {"v_proj", "self_attn.v_proj", "attn_v", ProjectionInput::attn_qkv},
      {"o_proj", "self_attn.o_proj", "attn_output", ProjectionInput::attn_out},
      {"gate_proj", "mlp.gate_proj", "ffn_gate", ProjectionInput::ffn_gate_up},
      {"up_proj", "mlp.up_proj", "ffn_up", ProjectionInput::ffn_gate_up},
      {"down_proj", "mlp.down_proj", "ffn_down", ProjectionInput::ffn_down}};
  return names;
}

const ProjectionName* find_projection(const std::string& module) {
  for (const ProjectionName& p : projection_names()) {
    if (module == p.module) return &p;
  }
  return nullptr;
}

std::string projection_module_list() {
  std::string out;
  for (const ProjectionName& p : projection_names()) out += (out.empty() ? "" : ", ") + std::string(p.module);
  return out;
}

const std::vector<LayerNormName>& layer_norm_names() {
  static const std::vector<LayerNormName> names = {{"input_layernorm", "attn_norm", false, false},
                                                   {"self_attn.attn_sub_norm", "attn_sub_norm", false, true},
                                                   {"post_attention_layernorm", "ffn_norm", false, false},
                                                   {"mlp.ffn_sub_norm", "ffn_sub_norm", true, true}};
  return names;
}

std::string hf_layer_prefix(int64_t layer) {
  return "model.layers." + std::to_string(layer) + ".";
}

std::string hf_layer_name(int64_t layer, const std::string& module, const std::string& suffix) {
  return hf_layer_prefix(layer) + module + "." + suffix;
}

std::string gguf_block_name(int64_t layer, const std::string& stem, const std::string& suffix) {
  return "blk." + std::to_string(layer) + "." + stem + "." + suffix;
}

std::string gguf_arch_key(const std::string& arch, const char* suffix) {
  return arch + "." + suffix;
}

}  // namespace bitnet::formats
