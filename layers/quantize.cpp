// Quantizers and straight-through estimators; formulas in quantize.h and docs/architecture.md.
#include "layers/quantize.h"

#include <emmintrin.h>

#include <algorithm>
#include <cmath>

#include "layers/element_math.h"

#ifdef BITNET_WITH_CUDA
#include "cuda/quantize_cuda.h"
#endif

namespace bitnet {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Straight-through estimator of one quantizer: the forward pass is the fused quantizer at λ = 1
// and the fp32 blend x + λ·(Q(x) − x) otherwise, returned in `out_dtype` (the matmul's compute
// dtype); the backward pass hands the gradient to x unchanged, cast to x's dtype, so the optimizer
// updates the fp32 latents.
template <torch::Tensor (*Fused)(const torch::Tensor&, torch::Dtype), torch::Tensor (*FakeQuant)(const torch::Tensor&)>
struct StraightThrough : torch::autograd::Function<StraightThrough<Fused, FakeQuant>> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, double lambda, torch::Dtype out_dtype) {
    ctx->saved_data["input_dtype"] = static_cast<int64_t>(x.scalar_type());
    if (lambda == 1.0) return Fused(x, out_dtype);
    torch::Tensor xf = x.to(torch::kFloat);
    return (xf + (FakeQuant(xf) - xf) * lambda).to(out_dtype);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_out) {
    const auto dtype = static_cast<torch::Dtype>(ctx->saved_data["input_dtype"].toInt());
    return {grad_out[0].to(dtype), torch::Tensor(), torch::Tensor()};
  }
};

// std::nearbyint in the default rounding mode (half to even), sign of zero included, without the
// libm call that kept the row loop from vectorizing: adding and subtracting 1.5 * 2^23 rounds any
// |v| < 2^22 to an integer in the FPU's rounding mode (here |v| <= 127, or NaN, which stays NaN).
inline float round_half_even(float v) {
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  return std::copysign((v + kMagic) - kMagic, v);
}

// max |x_j| over a row in 8 lanes (two SSE registers, x86-64's baseline). MAXPS returns its second
// operand when the first is NaN, so NaNs are skipped as std::max(absmax, NaN) skips them; GCC
// does not vectorize the std::max loop itself (it keeps the NaN-ordered select as a branch).
inline void load8(const float* p, __m128* lo, __m128* hi) {
  *lo = _mm_loadu_ps(p);
  *hi = _mm_loadu_ps(p + 4);
}

inline void load8(const c10::BFloat16* p, __m128* lo, __m128* hi) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));  // bf16 is fp32's high half
  *lo = _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), h));
  *hi = _mm_castsi128_ps(_mm_unpackhi_epi16(_mm_setzero_si128(), h));
}

template <typename In>
float row_absmax(const In* x, int64_t n) {
  const __m128 sign = _mm_set1_ps(-0.0f);
  __m128 max_lo = _mm_setzero_ps(), max_hi = _mm_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m128 lo, hi;
    load8(x + j, &lo, &hi);
    max_lo = _mm_max_ps(_mm_andnot_ps(sign, lo), max_lo);
    max_hi = _mm_max_ps(_mm_andnot_ps(sign, hi), max_hi);
  }
  alignas(16) float lane[8];
  _mm_store_ps(lane, max_lo);
  _mm_store_ps(lane + 4, max_hi);
  float absmax = 0.0f;
  for (int k = 0; k < 8; ++k) absmax = std::max(absmax, lane[k]);
  for (; j < n; ++j) absmax = std::max(absmax, std::fabs(static_cast<float>(x[j])));
  return absmax;
}

// One token (row of n values): s = 127 / max(absmax, eps), q = clamp(round(x s), -128, 127),
// out = q / s — the same fp32 operations, in the same order, as the unfused tensor version. A NaN
// stays NaN where it is (clamp_keeping_nan); the absmax skips it, so the token's other values stay
// finite where the tensor version makes them NaN too; after the matmul both give NaN in every
// output of the token.
template <typename In, typename Out>
void fake_quant_rows(const In* x, Out* out, int64_t rows, int64_t n) {
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for_each_index(begin, end, [&](int64_t r) {
      const In* xr = x + r * n;
      Out* yr = out + r * n;
      const float s = 127.0f / std::max(row_absmax(xr, n), static_cast<float>(kQuantEps));
      for (int64_t j = 0; j < n; ++j) {
        const float q = clamp_keeping_nan(round_half_even(to_float(xr[j]) * s), -128.0f, 127.0f);
        yr[j] = from_float<Out>(q / s);
      }
    });
  });
}

// The ternary weight's elementwise pass, given its scale s: out = clamp(round(w s), -1, 1) / s, the
// fp32 operations of ternary_weight_fake_quant in its order (a NaN weight stays NaN).
template <typename In, typename Out>
void ternary_fake_quant_elements(const In* w, Out* out, int64_t n, float s) {
  constexpr int64_t kChunk = 4096;
  at::parallel_for(0, (n + kChunk - 1) / kChunk, 1, [&](int64_t begin, int64_t end) {
    for_each_index(begin * kChunk, std::min(n, end * kChunk), [&](int64_t i) {
      const float q = clamp_keeping_nan(round_half_even(to_float(w[i]) * s), -1.0f, 1.0f);
      out[i] = from_float<Out>(q / s);
    });
  });
}

}  // namespace

bool fusable(const torch::Tensor& x, torch::Dtype out_dtype) {
  return is_float_or_bf16(x.scalar_type()) && is_float_or_bf16(out_dtype);
}

torch::Tensor int8_activation_fake_quant_fused(const torch::Tensor& x, torch::Dtype out_dtype) {
  if (!fusable(x, out_dtype)) return int8_activation_fake_quant(x).to(out_dtype);
#ifdef BITNET_WITH_CUDA
  if (x.is_cuda()) return cuda::int8_activation_fake_quant(x, out_dtype);
#endif
  // Any other device (or a build without CUDA): the LibTorch-op composition, same values.
  if (!x.device().is_cpu()) return int8_activation_fake_quant(x).to(out_dtype);
  torch::Tensor in = x.contiguous();
  torch::Tensor out = torch::empty(in.sizes(), in.options().dtype(out_dtype));
  const int64_t n = in.size(-1), rows = n > 0 ? in.numel() / n : 0;
  visit_float_or_bf16(in.scalar_type(), [&](auto in_tag) {
    visit_float_or_bf16(out_dtype, [&](auto out_tag) {
      fake_quant_rows(in.data_ptr<decltype(in_tag)>(), out.data_ptr<decltype(out_tag)>(), rows, n);
    });
  });
  return out;
}

torch::Tensor ternary_weight_fake_quant_fused(const torch::Tensor& weight, torch::Dtype out_dtype) {
#ifdef BITNET_WITH_CUDA
  if (weight.is_cuda() && fusable(weight, out_dtype)) return cuda::ternary_weight_fake_quant(weight, out_dtype);
#endif
  if (!fusable(weight, out_dtype) || !weight.device().is_cpu()) return ternary_weight_fake_quant(weight).to(out_dtype);
  // The scale is LibTorch's reduction, as ternary_weight_codes and the export compute it, so the
  // codes agree bit for bit; the elementwise ops and the cast after them are one pass.
  torch::Tensor w = weight.contiguous();
  const float s = ternary_weight_scale(w).item<float>();
  torch::Tensor out = torch::empty(w.sizes(), w.options().dtype(out_dtype));
  visit_float_or_bf16(w.scalar_type(), [&](auto in_tag) {
    visit_float_or_bf16(out_dtype, [&](auto out_tag) {
      ternary_fake_quant_elements(w.data_ptr<decltype(in_tag)>(), out.data_ptr<decltype(out_tag)>(), w.numel(), s);
    });
  });
  return out;
}

torch::Tensor ternary_weight_scale(const torch::Tensor& weight) {
  return weight.to(torch::kFloat).abs().mean().clamp_min(kQuantEps).reciprocal();
}

torch::Tensor ternary_weight_codes(const torch::Tensor& weight) {
  torch::Tensor w = weight.to(torch::kFloat);
  return (w * ternary_weight_scale(w)).round().clamp(-1, 1).to(torch::kInt8);
}

torch::Tensor ternary_weight_fake_quant(const torch::Tensor& weight) {
  torch::Tensor w = weight.to(torch::kFloat);
  torch::Tensor s = ternary_weight_scale(w);
  return (w * s).round().clamp(-1, 1) / s;
}

torch::Tensor int8_activation_scale(const torch::Tensor& x) {
  torch::Tensor absmax = x.to(torch::kFloat).abs().amax(-1, /*keepdim=*/true);
  // 127 / absmax as one fp32 division (not 127 * (1 / absmax)), as the CPU kernels compute it.
  torch::Tensor denom = absmax.clamp_min(kQuantEps);
  return torch::full_like(denom, 127.0).div_(denom);
}

torch::Tensor int8_activation_codes(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat);
  return (xf * int8_activation_scale(xf)).round().clamp(-128, 127).to(torch::kInt8);
}

torch::Tensor int8_activation_fake_quant(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat);
  torch::Tensor s = int8_activation_scale(xf);
  return (xf * s).round().clamp(-128, 127) / s;
}

torch::Tensor ternary_weight_ste(const torch::Tensor& weight, double lambda, torch::Dtype out_dtype) {
  return StraightThrough<ternary_weight_fake_quant_fused, ternary_weight_fake_quant>::apply(weight, lambda, out_dtype);
}

torch::Tensor int8_activation_ste(const torch::Tensor& x, double lambda, torch::Dtype out_dtype) {
  return StraightThrough<int8_activation_fake_quant_fused, int8_activation_fake_quant>::apply(x, lambda, out_dtype);
}

}  // namespace bitnet
