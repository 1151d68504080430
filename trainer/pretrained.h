// `init_from`: starting a new run from pretrained weights (docs/finetuning.md). Three sources:
//   - a Hugging Face BitNet directory (model_type "bitnet", e.g. microsoft/bitnet-b1.58-2B-4T-bf16,
//     the master weights: sub-norms included, hidden_act "relu2"),
//   - a LLaMA-family directory (model_type "llama" or "mistral": the same projections, no
//     sub-norms, which start at ones; hidden_act "silu"),
//   - one of our checkpoint directories (or a run directory: its ckpt/latest).
// HF directories hold config.json and model.safetensors, or shards listed by
// model.safetensors.index.json ({"weight_map": {tensor: file}}); tensors F32, F16 or BF16.
// A key config.json leaves out takes the default of that model type's transformers config class
// (BitNetConfig, LlamaConfig, MistralConfig), as transformers would.
// A BitNet quantization_config (transformers' bitnet integration) is read too:
//   quantization_mode "online": master weights, as without one;
//   "offline" (or linear_class "bitlinear"): projections packed as U8 [out/4, in] plus
//     weight_scale; each is unpacked to the latent codes × scale (× 1/scale for bitlinear,
//     which divides). The run then starts from already-ternary weights.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "layers/bitnet_lm.h"
#include "trainer/config.h"

namespace bitnet {

class PretrainedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PretrainedSource {
  std::string dir;                        // the directory holding the weights (a checkpoint: the step directory)
  std::string kind;                       // "bitnet" | "llama" | "checkpoint"
  std::string config_file;                // where the architecture was read (config.json or config.yaml)
  ModelConfig model;                      // the architecture (vocab_size filled in)
  std::vector<std::string> weight_files;  // safetensors files to read, in order
  // Packed projections (quantization_config offline / bitlinear): how weight_scale applies.
  enum class Packing { none, scale_multiplies, scale_divides };
  Packing packing = Packing::none;
};

// Reads the directory's config (no tensors) and finds its weight files. Throws PretrainedError:
// no config, an unsupported model_type/hidden_act/rope_scaling/rope type/bias/head_dim, a
// quantization_config that is not transformers' bitnet one or asks for an RMSNorm inside every
// projection (use_rms_norm), a LoRA checkpoint (merge it first), a bad or escaping shard index.
PretrainedSource inspect_pretrained(const std::string& dir);

// The config with model.* taken from init_from's architecture. A model key left at its default
// takes the pretrained value; one set to anything else must equal it, else ConfigError naming
// both values. Returns the config unchanged when init_from is empty.
RunConfig resolve_init_from(const RunConfig& config);

struct PretrainedLoad {
  int64_t loaded = 0;                    // tensors copied
  std::vector<std::string> initialised;  // model tensors the source lacks by design (LLaMA sub-norms: ones)
  std::vector<std::string> ignored;      // names matched by init_from_ignore (either side)
  int64_t unpacked = 0;                  // packed ternary projections turned into codes × scale
};

// Copies the source's weights (converted to fp32) into the model's non-adapter parameters.
// Every missing, unexpected, mis-shaped or non-float tensor not matched by `ignore` is listed in
// one PretrainedError.
PretrainedLoad load_pretrained(BitNetLM& model, const PretrainedSource& source, const std::vector<std::string>& ignore);

// Glob match with '*' (any run of characters, dots included).
bool name_matches(const std::string& pattern, const std::string& name);

}  // namespace bitnet
