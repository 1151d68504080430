// Per-token activation quantization (see quantize.h for the formula): a scalar reference and an
// AVX2 path that computes the same values element for element (VROUNDPS to nearest-even is
// nearbyint in the default rounding mode; max/min are ordered so NaN lands where the scalar
// comparisons put it), chosen once per process when the CPU has AVX2.
#include "kernels/quantize.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/cpu_features.h"

namespace bitnet::kernels {
namespace {

int8_t quantize_value(float x, float s) {
  float v = std::nearbyint(x * s);
  if (!(v > -128.0f)) v = -128.0f;  // also catches NaN
  if (v > 127.0f) v = 127.0f;
  return static_cast<int8_t>(v);
}

__attribute__((target("avx2"))) float quantize_row_avx2(const float* x, int64_t n, int8_t* q) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 vmax = _mm256_setzero_ps();
  int64_t j = 0;
  // MAXPS returns its second operand when either is NaN: a NaN |x| leaves the running max as
  // std::max(absmax, NaN) does.
  for (; j + 8 <= n; j += 8) vmax = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), vmax);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  float absmax = 0.0f;
  for (float v : lanes) absmax = std::max(absmax, v);
  for (; j < n; ++j) absmax = std::max(absmax, std::fabs(x[j]));
  const float s = 127.0f / std::max(absmax, 1e-5f);
  const __m256 vs = _mm256_set1_ps(s), lo = _mm256_set1_ps(-128.0f), hi = _mm256_set1_ps(127.0f);
  j = 0;
  for (; j + 32 <= n; j += 32) {
    __m256i w[4];
    for (int k = 0; k < 4; ++k) {
      __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), vs),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      v = _mm256_max_ps(v, lo);  // NaN -> -128 (second operand)
      v = _mm256_min_ps(v, hi);
      w[k] = _mm256_cvtps_epi32(v);
    }
    // packs interleave 128-bit lanes; the final permute restores element order.
    const __m256i p16a = _mm256_packs_epi32(w[0], w[1]), p16b = _mm256_packs_epi32(w[2], w[3]);
    const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    const __m256i ordered = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + j), ordered);
  }
  for (; j < n; ++j) q[j] = quantize_value(x[j], s);
  return s;
}

bool use_avx2() {
  static const bool avx2 = detect_cpu_features().avx2;
  return avx2;
}

}  // namespace

float quantize_row_scalar(const float* x, int64_t n, int8_t* q) {
  float absmax = 0.0f;
  for (int64_t j = 0; j < n; ++j) absmax = std::max(absmax, std::fabs(x[j]));
  const float s = 127.0f / std::max(absmax, 1e-5f);
  for (int64_t j = 0; j < n; ++j) q[j] = quantize_value(x[j], s);
  return s;
}

float quantize_row(const float* x, int64_t n, int8_t* q) {
  return use_avx2() ? quantize_row_avx2(x, n, q) : quantize_row_scalar(x, n, q);
}

void quantize_rows(const float* x, int64_t n_tok, int64_t n, int8_t* q, float* scales) {
  for (int64_t t = 0; t < n_tok; ++t) scales[t] = quantize_row(x + t * n, n, q + t * n);
}

void rescale_output(const int32_t* acc, int64_t rows, float s, float w_scale, float* y) {
  for (int64_t o = 0; o < rows; ++o) y[o] = static_cast<float>(acc[o]) / s * w_scale;
}

}  // namespace bitnet::kernels
