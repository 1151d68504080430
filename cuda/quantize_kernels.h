// Launchers of the fused CUDA quantizer kernels (quantize_kernels.cu). Plain pointers and a
// stream, no LibTorch types, so nvcc never compiles LibTorch's headers; quantize_cuda.cpp wraps
// them for tensors. The arithmetic is that of layers/quantize.h, in fp32, rounding half to even.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

namespace bitnet::cuda {

// Element types the kernels read and write.
enum class ElementType { kFloat32, kBFloat16 };

// Per-token int8 fake quantization of `rows` rows of `n` values:
//   s = 127 / max(max_j |x_j|, 1e-5);  out_j = clamp(rint(x_j * s), -128, 127) / s.
// One thread block per row; absmax is a max, so the result does not depend on the order.
void launch_int8_activation_fake_quant(const void* x, ElementType x_type, void* out, ElementType out_type, int64_t rows,
                                       int64_t n, cudaStream_t stream);

// Sum of |w| over `n` values into `partials` (fp64, `ternary_partial_count(n)` slots) and then
// into `*sum_out` (fp64): two fixed passes, no atomics, so the same input gives the same sum on
// every run (exact resume) whatever the GPU's scheduling.
int64_t ternary_partial_count(int64_t n);
void launch_abs_sum(const void* w, ElementType w_type, int64_t n, double* partials, double* sum_out,
                    cudaStream_t stream);

// Ternary fake quantization with the scale computed on the device from `abs_sum`:
//   s = 1 / max(float(abs_sum / n), 1e-5);  out = clamp(rint(w * s), -1, 1) / s.
// `scale_out` (optional, may be null) receives s as fp32; with `out` null only the scale is written.
void launch_ternary_fake_quant(const void* w, ElementType w_type, int64_t n, const double* abs_sum, void* out,
                               ElementType out_type, float* scale_out, cudaStream_t stream);

}  // namespace bitnet::cuda
