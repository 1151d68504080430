// BitNetLM: the BitNet b1.58 decoder-only language model at any size, with the Hugging Face
// tensor names (model.embed_tokens.weight, model.layers.{i}.self_attn.q_proj.weight, ...,
// lm_head.weight when untied), so our safetensors load elsewhere and theirs load here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "layers/attention.h"
#include "layers/feed_forward.h"
#include "layers/rms_norm.h"

namespace bitnet {

struct BitNetOptions {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t intermediate_size = 0;
  int64_t max_seq_len = 2048;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  bool tie_embeddings = true;
  formats::HiddenAct activation = formats::HiddenAct::relu2;
  bool quantize = true;                        // false: the full-precision twin
  torch::Dtype compute_dtype = torch::kFloat;  // kFloat or kBFloat16; latent weights stay fp32
  double init_std = 0.02;
};

// One pre-norm decoder layer:
//   h = x + self_attn(input_layernorm(x)); y = h + mlp(post_attention_layernorm(h)).
class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(const BitNetOptions& options);
  // (B, T, C) -> (B, T, C); doc_ids (B, T) optional, see causal_attention.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& doc_ids = {});

  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  Attention self_attn{nullptr};
  FeedForward mlp{nullptr};
};
TORCH_MODULE(DecoderLayer);

// The body: embedding, decoder layers, final norm (the "model." prefix of HF names).
class BitNetModelImpl : public torch::nn::Module {
 public:
  explicit BitNetModelImpl(const BitNetOptions& options);
  // (B, T) int64 -> (B, T, C); doc_ids (B, T) optional: per-document attention (packed rows).
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& doc_ids = {});

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};

 private:
  BitNetOptions options_;
};
TORCH_MODULE(BitNetModel);

class BitNetLMImpl : public torch::nn::Module {
 public:
  explicit BitNetLMImpl(const BitNetOptions& options);
  // (B, T) int64 -> logits (B, T, V) fp32; doc_ids (B, T) optional: per-document attention.
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& doc_ids = {});

  // λ for every BitLinear (see BitLinearImpl::set_quant_lambda).
  void set_quant_lambda(double lambda);
  // Every BitLinear with its HF-style name prefix ("model.layers.0.self_attn.q_proj").
  std::vector<std::pair<std::string, BitLinear>> bit_linears();
  // Swaps the projection `name` ("model.layers.0.self_attn.q_proj") for `replacement`, a
  // BitLinear subclass of the same shape, where its layer keeps and calls it; parameter names
  // under `name` stay as the replacement registers them. Throws std::invalid_argument for a name
  // that is not a projection.
  void replace_projection(const std::string& name, std::shared_ptr<BitLinearImpl> replacement);
  void reset_parameters(uint64_t seed);  // normal(0, init_std) projections/embedding, norms = 1
  int64_t num_parameters() const;
  const BitNetOptions& options() const { return options_; }

  BitNetModel model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when tied to model.embed_tokens

 private:
  BitNetOptions options_;
};
TORCH_MODULE(BitNetLM);

}  // namespace bitnet
