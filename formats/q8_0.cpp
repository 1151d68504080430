// Q8_0 quantize/dequantize following llama.cpp's reference definition (see q8_0.h).
#include "formats/q8_0.h"

#include <cmath>
#include <string>

#include "formats/dtype.h"
#include "formats/error.h"

namespace bitnet::formats {

size_t q8_0_bytes(int64_t n) {
  if (n < 0 || n % kQ8Block != 0) throw FormatError("Q8_0 needs a multiple of 32 values, got " + std::to_string(n));
  return static_cast<size_t>(n / kQ8Block) * kQ8BlockBytes;
}

std::vector<uint8_t> quantize_q8_0(const float* x, int64_t n) {
  std::vector<uint8_t> out(q8_0_bytes(n));
  for (int64_t b = 0; b < n / kQ8Block; ++b) {
    const float* xb = x + b * kQ8Block;
    uint8_t* ob = out.data() + b * kQ8BlockBytes;
    float amax = 0.0f;
    for (int64_t j = 0; j < kQ8Block; ++j) {
      if (!std::isfinite(xb[j]))
        throw FormatError("Q8_0 input value " + std::to_string(b * kQ8Block + j) + " is not finite");
      amax = std::fmax(amax, std::fabs(xb[j]));
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t dh = float_to_half(d);
    ob[0] = static_cast<uint8_t>(dh);
    ob[1] = static_cast<uint8_t>(dh >> 8);
    for (int64_t j = 0; j < kQ8Block; ++j) {
      // |x * id| <= 127 up to one rounding step, so the cast cannot overflow int8.
      const float q = std::round(xb[j] * id);
      ob[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  }
  return out;
}

void dequantize_q8_0(const uint8_t* packed, size_t nbytes, int64_t n, float* out) {
  const size_t expected = q8_0_bytes(n);
  if (nbytes != expected)
    throw FormatError("Q8_0 data size mismatch: expected " + std::to_string(expected) + " bytes for " +
                      std::to_string(n) + " values, found " + std::to_string(nbytes));
  for (int64_t b = 0; b < n / kQ8Block; ++b) {
    const uint8_t* pb = packed + b * kQ8BlockBytes;
    const float d = half_to_float(static_cast<uint16_t>(pb[0] | (pb[1] << 8)));
    for (int64_t j = 0; j < kQ8Block; ++j) out[b * kQ8Block + j] = static_cast<int8_t>(pb[2 + j]) * d;
  }
}

}  // namespace bitnet::formats
