// Rotary position embeddings in the rotate-half convention of Hugging Face LLaMA/BitNet:
// dimension i is paired with i + D/2, inv_freq[i] = theta^(-2i/D), computed in fp32.
#pragma once

#include <torch/torch.h>

namespace bitnet {

// cos and sin tables, each (T, D) fp32, for positions start..start+T-1.
std::pair<torch::Tensor, torch::Tensor> rope_tables(int64_t seq_len, int64_t head_dim, double theta, int64_t start = 0);

// x (B, H, T, D) -> (B, H, T, D): x·cos + rotate_half(x)·sin computed in fp32, returned as out_dtype
// (one rounding of the fp32 result). On the CPU (fp32 or bf16 in and out, unit stride in D) one
// fused pass forward and one backward, with the op composition's roundings.
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                         torch::Dtype out_dtype = torch::kFloat);
// The same as LibTorch ops with LibTorch's autograd: used off the CPU, and the tests' reference.
torch::Tensor apply_rope_reference(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

}  // namespace bitnet
