// Element helpers for the fused CPU loops of the layers, written so that GCC vectorizes the loops
// (a branch in the loop body stops it). c10::BFloat16's own conversion branches on NaN; these give
// the same bits (round to nearest even, NaN -> 0x7FC0) with a select. std::max(x, 0.0f) is not
// if-converted either; relu() is a mask.
#pragma once

#include <c10/util/BFloat16.h>

#include <cstdint>
#include <cstring>

namespace bitnet {

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

}  // namespace bitnet
