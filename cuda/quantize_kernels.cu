// Fused CUDA kernels of the BitNet b1.58 quantizers (see quantize_kernels.h). The IEEE-rounded
// intrinsics (__fmul_rn, __fdiv_rn) keep nvcc from contracting or approximating, so a value
// quantizes to the same code as on the CPU path (layers/quantize.cpp).
#include "cuda/quantize_kernels.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace bitnet::cuda {
namespace {

constexpr int kThreads = 256;
constexpr float kEps = 1e-5f;     // layers/quantize.h kQuantEps
constexpr int kSumBlocks = 1024;  // fixed, so the reduction order is the same on every run

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

template <typename T>
__device__ __forceinline__ float load(const T* p, int64_t i);
template <>
__device__ __forceinline__ float load<float>(const float* p, int64_t i) {
  return p[i];
}
template <>
__device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16* p, int64_t i) {
  return __bfloat162float(p[i]);
}

template <typename T>
__device__ __forceinline__ void store(T* p, int64_t i, float v);
template <>
__device__ __forceinline__ void store<float>(float* p, int64_t i, float v) {
  p[i] = v;
}
template <>
__device__ __forceinline__ void store<__nv_bfloat16>(__nv_bfloat16* p, int64_t i, float v) {
  p[i] = __float2bfloat16_rn(v);
}

// fmaxf and fminf return the other operand for a NaN; LibTorch's clamp and clamp_min keep the NaN,
// and so do these (as layers/element_math.h's clamp_keeping_nan does on the CPU).
__device__ __forceinline__ float max_keeping_nan(float v, float floor) {
  return v < floor ? floor : v;
}

__device__ __forceinline__ float clamp_keeping_nan(float v, float lo, float hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// Max over the block of one value per thread; every thread gets the result.
__device__ float block_max(float v) {
  __shared__ float warp_max[kThreads / 32];
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_max[warp] = v;
  __syncthreads();
  v = threadIdx.x < kThreads / 32 ? warp_max[threadIdx.x] : 0.0f;
  if (warp == 0) {
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    if (lane == 0) warp_max[0] = v;
  }
  __syncthreads();
  return warp_max[0];
}

// Sum over the block in a fixed tree order; thread 0 gets the result.
__device__ double block_sum(double v) {
  __shared__ double warp_sum[kThreads / 32];
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_sum[warp] = v;
  __syncthreads();
  v = threadIdx.x < kThreads / 32 ? warp_sum[threadIdx.x] : 0.0;
  if (warp == 0) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  }
  return v;
}

// x, out: (rows, n). Block r quantizes row r.
template <typename In, typename Out>
__global__ void int8_fake_quant_kernel(const In* __restrict__ x, Out* __restrict__ out, int64_t n) {
  const int64_t base = static_cast<int64_t>(blockIdx.x) * n;
  float absmax = 0.0f;
  for (int64_t j = threadIdx.x; j < n; j += kThreads) absmax = fmaxf(absmax, fabsf(load(x, base + j)));
  absmax = block_max(absmax);
  const float s = __fdiv_rn(127.0f, fmaxf(absmax, kEps));
  for (int64_t j = threadIdx.x; j < n; j += kThreads) {
    const float q = clamp_keeping_nan(rintf(__fmul_rn(load(x, base + j), s)), -128.0f, 127.0f);
    store(out, base + j, __fdiv_rn(q, s));
  }
}

// Pass 1: block b sums |w| over a grid-stride slice into partials[b].
template <typename In>
__global__ void abs_sum_partials_kernel(const In* __restrict__ w, int64_t n, double* __restrict__ partials) {
  double acc = 0.0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    acc += fabs(static_cast<double>(load(w, i)));
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// Pass 2: one block sums the partials.
__global__ void abs_sum_final_kernel(const double* __restrict__ partials, int64_t count, double* __restrict__ sum) {
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += kThreads) acc += partials[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) *sum = acc;
}

template <typename In, typename Out>
__global__ void ternary_fake_quant_kernel(const In* __restrict__ w, int64_t n, const double* __restrict__ abs_sum,
                                          Out* __restrict__ out, float* __restrict__ scale_out) {
  // The mean is rounded to fp32 once, then s = 1 / max(mean, eps) as in the reference.
  const float mean = n > 0 ? static_cast<float>(*abs_sum / static_cast<double>(n)) : 0.0f;
  const float s = __fdiv_rn(1.0f, max_keeping_nan(mean, kEps));
  if (scale_out != nullptr && blockIdx.x == 0 && threadIdx.x == 0) *scale_out = s;
  if (out == nullptr) return;  // only the scale was asked for
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    const float q = clamp_keeping_nan(rintf(__fmul_rn(load(w, i), s)), -1.0f, 1.0f);
    store(out, i, __fdiv_rn(q, s));
  }
}

int grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 4096 ? (blocks > 0 ? blocks : 1) : 4096);
}

// Calls f(In*, Out*) with the pointers cast to the element types.
template <typename F>
void dispatch(const void* in, ElementType in_type, void* out, ElementType out_type, F f) {
  auto with_out = [&](auto* typed_in) {
    if (out_type == ElementType::kFloat32)
      f(typed_in, static_cast<float*>(out));
    else
      f(typed_in, static_cast<__nv_bfloat16*>(out));
  };
  if (in_type == ElementType::kFloat32)
    with_out(static_cast<const float*>(in));
  else
    with_out(static_cast<const __nv_bfloat16*>(in));
}

}  // namespace

void launch_int8_activation_fake_quant(const void* x, ElementType x_type, void* out, ElementType out_type, int64_t rows,
                                       int64_t n, cudaStream_t stream) {
  if (rows == 0 || n == 0) return;
  if (rows > 0x7fffffff) throw std::runtime_error("int8 activation quantizer: more than 2^31 rows");
  dispatch(x, x_type, out, out_type, [&](auto* in, auto* o) {
    int8_fake_quant_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(in, o, n);
  });
  check(cudaGetLastError(), "int8 activation quantizer kernel launch");
}

int64_t ternary_partial_count(int64_t) {
  return kSumBlocks;
}

void launch_abs_sum(const void* w, ElementType w_type, int64_t n, double* partials, double* sum_out,
                    cudaStream_t stream) {
  if (w_type == ElementType::kFloat32) {
    abs_sum_partials_kernel<<<kSumBlocks, kThreads, 0, stream>>>(static_cast<const float*>(w), n, partials);
  } else {
    abs_sum_partials_kernel<<<kSumBlocks, kThreads, 0, stream>>>(static_cast<const __nv_bfloat16*>(w), n, partials);
  }
  abs_sum_final_kernel<<<1, kThreads, 0, stream>>>(partials, kSumBlocks, sum_out);
  check(cudaGetLastError(), "ternary abs-sum kernel launch");
}

void launch_ternary_fake_quant(const void* w, ElementType w_type, int64_t n, const double* abs_sum, void* out,
                               ElementType out_type, float* scale_out, cudaStream_t stream) {
  // n = 0 still launches: the scale (1 / eps, as the reference gives) is written.
  const int grid = out == nullptr ? 1 : grid_for(n);
  dispatch(w, w_type, out, out_type, [&](auto* in, auto* o) {
    ternary_fake_quant_kernel<<<grid, kThreads, 0, stream>>>(in, n, abs_sum, o, scale_out);
  });
  check(cudaGetLastError(), "ternary quantizer kernel launch");
}

}  // namespace bitnet::cuda
