// The names of a BitNet model's parts, written once for every reader and writer: Hugging Face
// tensor names (checkpoints, safetensors, PEFT adapters), GGUF tensor names and GGUF metadata
// keys (llama.cpp's spellings), and the short projection names of LoRA's target_modules.
// Training, export, verification and the CPU runtime all look names up here, so a name changes
// in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "formats/enum_names.h"

namespace bitnet::formats {

// The FFN's gate activation: relu(x)² (BitNet b1.58) or SiLU (LLaMA and the 1bitLLM models).
// Its names are model.hidden_act's, Hugging Face config.json's hidden_act and the GGUF key kHiddenAct's.
enum class HiddenAct { relu2, silu };

// Which activation vector a projection reads: projections that share an input read the same
// quantized vector (q/k/v the attention input, gate/up the FFN input).
enum class ProjectionInput { attn_qkv, attn_out, ffn_gate_up, ffn_down };
const char* projection_input_name(ProjectionInput input);

struct ProjectionName {
  const char* module;  // "q_proj": LoRA / PEFT target_modules
  const char* hf;      // "self_attn.q_proj": the module inside a decoder layer (HF names)
  const char* gguf;    // "attn_q": the GGUF tensor stem (blk.N.attn_q.weight)
  ProjectionInput input;
};
// The seven projections of a decoder layer, in layer order (q, k, v, o, gate, up, down).
const std::vector<ProjectionName>& projection_names();
// The projection whose `module` is `module`; nullptr when none is.
const ProjectionName* find_projection(const std::string& module);
// "q_proj, k_proj, ..., down_proj", for messages.
std::string projection_module_list();

// The four RMSNorm weights of a decoder layer, in layer order (input, attention sub-norm,
// post-attention, FFN sub-norm).
struct LayerNormName {
  const char* hf;           // "self_attn.attn_sub_norm"
  const char* gguf;         // "attn_sub_norm"
  bool intermediate_width;  // true: intermediate_size entries (the FFN sub-norm); else hidden_size
  bool sub_norm;            // BitNet's sub-norms, which LLaMA-family checkpoints do not have
};
const std::vector<LayerNormName>& layer_norm_names();

// The tensors outside the decoder layers.
struct TensorName {
  const char* hf;
  const char* gguf;
};
inline constexpr TensorName kEmbeddingTensor{"model.embed_tokens.weight", "token_embd.weight"};
inline constexpr TensorName kFinalNormTensor{"model.norm.weight", "output_norm.weight"};
inline constexpr TensorName kLmHeadTensor{"lm_head.weight", "output.weight"};

std::string hf_layer_prefix(int64_t layer);  // "model.layers.N."
// "model.layers.N." + module + "." + suffix, e.g. model.layers.0.self_attn.q_proj.weight
std::string hf_layer_name(int64_t layer, const std::string& module, const std::string& suffix = "weight");
// "blk.N." + stem + "." + suffix, e.g. blk.0.attn_q.weight
std::string gguf_block_name(int64_t layer, const std::string& stem, const std::string& suffix = "weight");

// GGUF architectures we write and read.
inline constexpr const char* kGgufArchSilu = "bitnet";         // SiLU GLU, tied head (stock llama.cpp)
inline constexpr const char* kGgufArchRelu2 = "bitnet-b1.58";  // ReLU² GLU

// GGUF metadata keys. The per-architecture ones are suffixes: the key is "<arch>." + suffix
// (gguf_arch_key).
namespace gguf_key {
inline constexpr const char* kArchitecture = "general.architecture";
inline constexpr const char* kType = "general.type";
inline constexpr const char* kName = "general.name";
inline constexpr const char* kBasename = "general.basename";
inline constexpr const char* kSizeLabel = "general.size_label";
inline constexpr const char* kFileType = "general.file_type";
inline constexpr const char* kQuantizationVersion = "general.quantization_version";

inline constexpr const char* kVocabSize = "vocab_size";
inline constexpr const char* kContextLength = "context_length";
inline constexpr const char* kEmbeddingLength = "embedding_length";
inline constexpr const char* kBlockCount = "block_count";
inline constexpr const char* kFeedForwardLength = "feed_forward_length";
inline constexpr const char* kHeadCount = "attention.head_count";
inline constexpr const char* kHeadCountKv = "attention.head_count_kv";
inline constexpr const char* kRmsEpsilon = "attention.layer_norm_rms_epsilon";
inline constexpr const char* kRopeFreqBase = "rope.freq_base";
inline constexpr const char* kRopeDimensionCount = "rope.dimension_count";

inline constexpr const char* kHiddenAct = "bitnet_train.hidden_act";  // ours: a HiddenAct name

inline constexpr const char* kTokenizerModel = "tokenizer.ggml.model";
inline constexpr const char* kTokenizerPre = "tokenizer.ggml.pre";
inline constexpr const char* kTokens = "tokenizer.ggml.tokens";
inline constexpr const char* kTokenType = "tokenizer.ggml.token_type";
inline constexpr const char* kMerges = "tokenizer.ggml.merges";
inline constexpr const char* kBosId = "tokenizer.ggml.bos_token_id";
inline constexpr const char* kEosId = "tokenizer.ggml.eos_token_id";
inline constexpr const char* kEotId = "tokenizer.ggml.eot_token_id";
inline constexpr const char* kPadId = "tokenizer.ggml.padding_token_id";
inline constexpr const char* kAddBos = "tokenizer.ggml.add_bos_token";
inline constexpr const char* kAddEos = "tokenizer.ggml.add_eos_token";
inline constexpr const char* kChatTemplate = "tokenizer.chat_template";
}  // namespace gguf_key

std::string gguf_arch_key(const std::string& arch, const char* suffix);  // "bitnet.block_count"

}  // namespace bitnet::formats

namespace bitnet {
template <>
struct EnumNames<formats::HiddenAct> {
  static constexpr EnumName<formats::HiddenAct> table[] = {{formats::HiddenAct::relu2, "relu2"},
                                                           {formats::HiddenAct::silu, "silu"}};
};
}  // namespace bitnet
