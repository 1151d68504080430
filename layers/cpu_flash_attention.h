// Causal grouped-KV flash attention for bf16 tensors on CPUs with AVX512-BF16: the products in bf16
// with fp32 accumulation (VDPBF16PS), the softmax in fp32, as flash attention runs on a GPU.
// PyTorch's CPU flash attention computes these products in fp32 sgemm whatever the input type;
// at the shapes of the small models trained on CPUs this is 2-4x faster, forward and backward.
//
// Like flash attention, it never stores the (T, T) scores: the forward keeps the log-sum-exp of
// each row, the backward recomputes the probabilities block by block. Blocks above the diagonal
// (and their products) are skipped. The probabilities and their gradients are rounded to bf16
// before their products, as in flash attention's bf16 GPU kernels; everything else accumulates in
// fp32. Deterministic: no result depends on the thread count.
#pragma once

#include <torch/types.h>

namespace bitnet {

// True on CPUs with AVX512-BF16 (and the AVX-512 subsets it needs): where bf16 products run
// natively, so training's precision `auto` picks bf16 exactly where this attention applies.
bool cpu_computes_bf16_natively();

// What the CPU's bf16 attention products run on, for progress and benchmark headers: "AMX" (bf16
// tiles), "AVX512-BF16", or "" where this attention does not run (no AVX512-BF16).
const char* cpu_bf16_products();

// True where cpu_flash_attention takes these tensors: CPU, bf16, head size a multiple of 16 up to
// 256, query heads a multiple of KV heads, and a CPU with AVX512-BF16.
bool cpu_flash_attention_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v);

// q (B, H, T, D), k and v (B, KV, T, D), doc_ids (B, T) int64 or undefined: attention of each
// position to itself and the positions before it (of the same document where doc_ids is given),
// scaled by 1 / sqrt(D). Returns (B, H, T, D) bf16; differentiable in q, k and v.
torch::Tensor cpu_flash_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  const torch::Tensor& doc_ids);

}  // namespace bitnet
