// The fused CUDA quantizers for LibTorch tensors. Built only when CUDA is (BITNET_WITH_CUDA);
// layers/quantize.cpp calls them for tensors on a CUDA device and keeps its LibTorch-op path as
// the CPU path and the reference the GPU tests compare against.
#pragma once

#include <torch/torch.h>

namespace bitnet::cuda {

// int8_activation_fake_quant_fused (layers/quantize.h) for x on a CUDA device, x fp32 or bf16,
// the result in out_dtype (fp32 or bf16). One kernel, one read and one write of x.
torch::Tensor int8_activation_fake_quant(const torch::Tensor& x, torch::Dtype out_dtype);

// W_q = clamp(round(W * s), -1, 1) / s with s = 1 / max(mean|W|, 1e-5), the mean reduced on the
// device (deterministically): three kernels, no host synchronisation. W fp32 or bf16.
torch::Tensor ternary_weight_fake_quant(const torch::Tensor& weight, torch::Dtype out_dtype);

// s = 1 / max(mean|W|, 1e-5) as a 0-dim fp32 tensor on W's device, from the same reduction.
torch::Tensor ternary_weight_scale(const torch::Tensor& weight);

}  // namespace bitnet::cuda
