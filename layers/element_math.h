// Element helpers for the fused CPU loops of the layers, written so that GCC vectorizes the loops
// (a branch in the loop body stops it). c10::BFloat16's own conversion branches on NaN; these give
// the same bits (round to nearest even, NaN -> 0x7FC0) with a select. std::max(x, 0.0f) is not
// if-converted either; relu() is a mask.
#pragma once

#include <c10/core/ScalarType.h>
#include <c10/util/BFloat16.h>

#include <cstdint>
#include <cstring>

namespace bitnet {

// The element types the fused CPU loops are compiled for.
inline bool is_float_or_bf16(c10::ScalarType t) {
  return t == c10::ScalarType::Float || t == c10::ScalarType::BFloat16;
}

// Calls f(T{}) with T = c10::BFloat16 for bf16 and float otherwise (check is_float_or_bf16 first).
template <typename F>
void visit_float_or_bf16(c10::ScalarType t, F&& f) {
  if (t == c10::ScalarType::BFloat16)
    f(c10::BFloat16{});
  else
    f(float{});
}

inline float to_float(float v) {
  return v;
}

inline float to_float(c10::BFloat16 v) {
  const uint32_t bits = static_cast<uint32_t>(v.x) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <typename T>
T from_float(float v);

template <>
inline float from_float<float>(float v) {
  return v;
}

template <>
inline c10::BFloat16 from_float<c10::BFloat16>(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  const uint32_t rounded = (u + ((u >> 16) & 1u) + 0x7FFFu) >> 16;
  const bool nan = (u & 0x7FFFFFFFu) > 0x7F800000u;
  return c10::BFloat16(static_cast<uint16_t>(nan ? 0x7FC0u : rounded), c10::BFloat16::from_bits());
}

// max(x, 0) as LibTorch's relu computes it where it matters: x for x > 0, NaN stays NaN, +0 for
// every other x (including -inf).
inline float relu(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u &= 0u - static_cast<uint32_t>(!(x <= 0.0f));
  float r;
  std::memcpy(&r, &u, sizeof r);
  return r;
}

// v clamped to [lo, hi] as LibTorch's clamp does it: a NaN stays NaN (std::min/std::max return
// their first operand for a NaN, so clamp(NaN) through them is a finite bound). Comparisons, so the
// loops around it still vectorize.
inline float clamp_keeping_nan(float v, float lo, float hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// Runs body(i) for i in [begin, end), compiled twice: for AVX2 and for the x86-64 baseline (SSE2),
// the copy picked once by the CPU. The body (a lambda, inlined into each copy) gets its loops
// vectorized 8 floats wide where AVX2 is available and 4 wide elsewhere. "avx2" does not enable
// FMA, so neither copy contracts a * b + c: both compute the same operations and bits.
template <typename Body>
__attribute__((target("avx2"))) void for_each_index_avx2(int64_t begin, int64_t end, const Body& body) {
  for (int64_t i = begin; i < end; ++i) body(i);
}

template <typename Body>
void for_each_index_baseline(int64_t begin, int64_t end, const Body& body) {
  for (int64_t i = begin; i < end; ++i) body(i);
}

template <typename Body>
void for_each_index(int64_t begin, int64_t end, const Body& body) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2)
    for_each_index_avx2(begin, end, body);
  else
    for_each_index_baseline(begin, end, body);
}

}  // namespace bitnet
