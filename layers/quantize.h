// BitNet b1.58 quantizers (docs/architecture.md): absmean ternary weights with one scale per
// tensor, absmax int8 activations with one scale per token, and their straight-through
// estimators. Everything here computes in fp32 so training, export and the CPU kernels agree
// bit for bit on codes and scales.
#pragma once

#include <torch/torch.h>

namespace bitnet {

// Floor on both scales' denominators, so an all-zero tensor or token quantizes to zeros.
inline constexpr double kQuantEps = 1e-5;

// s_w = 1 / max(mean|W|, 1e-5), a 0-dim fp32 tensor. W (out, in) in any float dtype.
torch::Tensor ternary_weight_scale(const torch::Tensor& weight);

// Ternary codes clamp(round(W * s_w), -1, 1) in {-1, 0, 1}, as int8, shape of W.
torch::Tensor ternary_weight_codes(const torch::Tensor& weight);

// W_q = codes / s_w (fp32): the fake-quantized weight the forward pass uses.
torch::Tensor ternary_weight_fake_quant(const torch::Tensor& weight);

// The same values in `out_dtype`, fused. On the CPU: LibTorch's scale (so equal bit for bit to
// ternary_weight_fake_quant(weight).to(out_dtype)), then one elementwise pass. On a CUDA device:
// one reduction on the device, one elementwise pass; the mean may differ from the LibTorch
// reduction's in its last bit, see cuda/quantize_cuda.h.
torch::Tensor ternary_weight_fake_quant_fused(const torch::Tensor& weight, torch::Dtype out_dtype);

// s_x = 127 / max(max_j |x_j|, 1e-5) over the last dim: shape (..., 1), fp32.
torch::Tensor int8_activation_scale(const torch::Tensor& x);

// clamp(round(x * s_x), -128, 127) as int8, shape of x.
torch::Tensor int8_activation_codes(const torch::Tensor& x);

// x_q = codes / s_x (fp32).
torch::Tensor int8_activation_fake_quant(const torch::Tensor& x);

// The same values in one fused pass per token, returned in `out_dtype` (kFloat or kBFloat16):
// the training hot path, on the CPU and (a CUDA kernel) on a GPU. Equal bit for bit to
// int8_activation_fake_quant(x).to(out_dtype), except in a token holding a NaN: the NaN stays
// where it is, and the token's other values are quantized with the NaN left out of the absmax
// (the formula makes them NaN too). Through a projection both give NaN in all of that token's
// outputs.
torch::Tensor int8_activation_fake_quant_fused(const torch::Tensor& x, torch::Dtype out_dtype);

// Straight-through estimators: forward W + λ·(W_q − W), backward passes the gradient to W
// unchanged. λ = 1 is full quantization; λ < 1 ramps it in for QAT fine-tuning. Both return their
// result in `out_dtype` (the matmul's compute dtype).
torch::Tensor ternary_weight_ste(const torch::Tensor& weight, double lambda, torch::Dtype out_dtype = torch::kFloat);
torch::Tensor int8_activation_ste(const torch::Tensor& x, double lambda, torch::Dtype out_dtype = torch::kFloat);

}  // namespace bitnet
