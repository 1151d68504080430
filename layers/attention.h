// Causal self-attention with grouped KV heads, RoPE and the BitNet attention sub-norm:
// o_proj(attn_sub_norm(softmax(q kᵀ / sqrt(D)) v)), q/k/v/o being BitLinear projections.
#pragma once

#include <memory>
#include <string>

#include <torch/torch.h>

#include "layers/bit_linear.h"
#include "layers/rms_norm.h"

namespace bitnet {

struct AttentionOptions {
  int64_t hidden_size = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // divides num_heads; each KV head serves num_heads / num_kv_heads
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  bool quantize = true;
  torch::Dtype compute_dtype = torch::kFloat;
};

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);
  // x (B, T, C) -> (B, T, C). Causal; position 0 is the first token of x. doc_ids (B, T) integer,
  // optional: positions attend only within their own document (packed fine-tuning rows).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& doc_ids = {});
  // Swaps projection `name` (q_proj, k_proj, v_proj or o_proj) for `replacement` (see replace_bit_linear).
  void replace_projection(const std::string& name, std::shared_ptr<BitLinearImpl> replacement);

  BitLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  RMSNorm attn_sub_norm{nullptr};

 private:
  AttentionOptions options_;
  int64_t head_dim_;
};
TORCH_MODULE(Attention);

// softmax(q kᵀ / sqrt(D) + causal mask) v. bf16 tensors on a CPU with AVX512-BF16: our bf16 flash
// attention (cpu_flash_attention.h), bf16 out. Otherwise fp32, by PyTorch's fused
// scaled_dot_product_attention, fp32 out. q (B, H, T, D), k and v (B, KV, T, D).
// doc_ids (B, T), optional: query i sees key j only if j <= i and doc_ids[i] == doc_ids[j], so
// documents packed into one row do not attend to each other (RoPE is relative, so a document's
// offset in the row does not change its scores). Undefined: the plain causal mask.
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& doc_ids = {});

}  // namespace bitnet
