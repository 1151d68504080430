// Grouped-KV causal attention (see attention.h).
#include "layers/attention.h"

#include <ATen/ops/scaled_dot_product_attention.h>

#include "layers/cpu_flash_attention.h"
#include "layers/rope.h"

namespace bitnet {

AttentionImpl::AttentionImpl(const AttentionOptions& o) : options_(o), head_dim_(o.hidden_size / o.num_heads) {
  auto linear = [&](int64_t in, int64_t out) {
    return BitLinear(BitLinearOptions{
        .in_features = in, .out_features = out, .quantize = o.quantize, .compute_dtype = o.compute_dtype});
  };
  q_proj = register_module("q_proj", linear(o.hidden_size, o.num_heads * head_dim_));
  k_proj = register_module("k_proj", linear(o.hidden_size, o.num_kv_heads * head_dim_));
  v_proj = register_module("v_proj", linear(o.hidden_size, o.num_kv_heads * head_dim_));
  o_proj = register_module("o_proj", linear(o.num_heads * head_dim_, o.hidden_size));
  attn_sub_norm = register_module("attn_sub_norm", RMSNorm(o.num_heads * head_dim_, o.rms_norm_eps));
}

void AttentionImpl::replace_projection(const std::string& name, std::shared_ptr<BitLinearImpl> replacement) {
  replace_bit_linear(*this, name, {&q_proj, &k_proj, &v_proj, &o_proj}, std::move(replacement));
}

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& doc_ids) {
  // bf16 on an AVX512-BF16 CPU: products in bf16, not PyTorch's fp32 sgemm (cpu_flash_attention.h).
  if (cpu_flash_attention_applies(q, k, v)) return cpu_flash_attention(q, k, v, doc_ids);
  const int64_t seq_len = q.size(2);
  torch::Tensor qf = q.to(torch::kFloat), kf = k.to(torch::kFloat), vf = v.to(torch::kFloat);
  // PyTorch's fused attention (flash attention on the CPU, flash or memory-efficient attention
  // on the GPU): the (T, T) scores are never stored whole, in the forward or the backward pass,
  // and the causal case skips the blocks above the diagonal. The scale is its default,
  // 1 / sqrt(D). KV head j serves query heads j*groups .. j*groups+groups-1. On the CPU,
  // enable_gqa does that without copying k and v out to every query head (~10% faster forward
  // and backward, with or without a document mask, still flash). On the GPU only the fp16/bf16
  // flash kernel takes enable_gqa; for these fp32 tensors it would fall back to the O(T²) math
  // kernel, so k and v are repeated there as before.
  const bool grouped = q.size(1) != k.size(1);
  const bool native_gqa = grouped && q.device().is_cpu();
  if (grouped && !native_gqa) {
    const int64_t groups = q.size(1) / k.size(1);
    kf = kf.repeat_interleave(groups, 1);
    vf = vf.repeat_interleave(groups, 1);
  }
  if (!doc_ids.defined())
    return at::scaled_dot_product_attention(qf, kf, vf, {}, 0.0, /*is_causal=*/true, std::nullopt, native_gqa);
  torch::Tensor seen = torch::ones({seq_len, seq_len}, torch::kBool).tril();  // (T, T) past and present
  seen = seen.unsqueeze(0) & (doc_ids.unsqueeze(2) == doc_ids.unsqueeze(1));  // (B, T, T) same document
  return at::scaled_dot_product_attention(qf, kf, vf, seen.unsqueeze(1), 0.0, /*is_causal=*/false, std::nullopt,
                                          native_gqa);
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& doc_ids) {
  const int64_t B = x.size(0), T = x.size(1);
  const int64_t H = options_.num_heads, KV = options_.num_kv_heads, D = head_dim_;
  torch::Tensor xq = q_proj->prepare_input(x);  // q, k and v see the same quantized input
  torch::Tensor q = q_proj->forward_prepared(xq, x).view({B, T, H, D}).transpose(1, 2);   // (B, H, T, D)
  torch::Tensor k = k_proj->forward_prepared(xq, x).view({B, T, KV, D}).transpose(1, 2);  // (B, KV, T, D)
  torch::Tensor v = v_proj->forward_prepared(xq, x).view({B, T, KV, D}).transpose(1, 2);  // (B, KV, T, D)
  auto [cos, sin] = rope_tables(T, D, options_.rope_theta);
  // bf16 projections on an AVX512-BF16 CPU: rotated into bf16 for the bf16 flash attention;
  // otherwise into fp32 for PyTorch's fp32 attention.
  const torch::Dtype rotated = cpu_flash_attention_applies(q, k, v) ? torch::kBFloat16 : torch::kFloat;
  q = apply_rope(q, cos, sin, rotated);
  k = apply_rope(k, cos, sin, rotated);
  torch::Tensor y = causal_attention(q, k, v, doc_ids);              // (B, H, T, D) fp32 or bf16
  y = y.transpose(1, 2).reshape({B, T, H * D}).to(x.scalar_type());  // (B, T, C)
  return o_proj(attn_sub_norm(y));
}

}  // namespace bitnet
